"""Properties of the stored log under any sequence of amendments — valid ones, invalid ones,
stale ones: the hash chain verifies, versions are contiguous, and every version reads back
(through a fresh service, folding from the database and its snapshots) exactly as it was when
it was written. Refused amendments leave no trace."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planapi.adapters.clock import SystemClock
from planapi.adapters.database import create_engine
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.migrations import upgrade
from planapi.adapters.snapshots import SqlSnapshotStore
from planapi.application.plans import AmendPlan, CreatePlan, PlanService
from planapi.domain.errors import ValidationError, VersionConflictError
from planapi.domain.events import Authority
from planapi.domain.plan import EMPTY, PlanState
from tests.unit.strategies import PLAN_END, PLAN_START, any_change, valid_adds, valid_changes

PLAN = "prop-2026"
# Every process of a deployment seals snapshots with the same key (PLANAPI_SNAPSHOT_KEY_FILE).
SNAPSHOT_KEY = bytes(range(32))
STEPS = st.sampled_from(["valid", "anything", "stale", "from the future"])


def service_on(engine: object, *, cache: int) -> PlanService:
    clock = SystemClock()
    return PlanService(
        SqlEventStore(engine, clock),  # type: ignore[arg-type]
        SqlSnapshotStore(engine, clock, SNAPSHOT_KEY),  # type: ignore[arg-type]
        default_actor="prop",
        snapshot_interval=3,  # snapshots come into play within a few versions
        cache_size=cache,
    )


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_any_sequence_of_amendments_leaves_a_verifiable_log_and_every_version_readable(
    data: st.DataObject,
) -> None:
    start = dataclasses.replace(EMPTY, period_start=PLAN_START, period_end=PLAN_END)
    initial = data.draw(valid_adds(start, max_size=6), label="initial nodes")
    steps = data.draw(st.lists(STEPS, min_size=1, max_size=8), label="steps")

    async def scenario(folder: Path) -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{folder / 'p.db'}")
        try:
            await upgrade(engine)
            writer = service_on(engine, cache=64)
            created = await writer.create_plan(
                CreatePlan(
                    PLAN,
                    "Property plan",
                    PLAN_START,
                    PLAN_END,
                    Authority.WTDC,
                    "created",
                    changes=initial,
                )
            )
            written: dict[int, PlanState] = {1: created.state}
            for number, step in enumerate(steps):
                current = written[max(written)]
                if step == "valid":
                    changes = data.draw(valid_changes(current), label=f"step {number}")
                else:
                    changes = data.draw(
                        st.lists(any_change(current), min_size=0, max_size=4),
                        label=f"step {number}",
                    )
                expected = {
                    "stale": current.version - 1,
                    "from the future": current.version + 3,
                }.get(step, current.version)
                command = AmendPlan(
                    PLAN, expected, Authority.TDAG, f"step {number}", changes=changes
                )
                try:
                    found = await writer.amend_plan(command, "prop")
                except VersionConflictError:
                    assert step in {"stale", "from the future"}
                    continue
                except ValidationError:
                    assert step != "valid", "a valid amendment was refused"
                    continue
                assert step in {"valid", "anything"}
                assert found.state.version == current.version + 1
                written[found.state.version] = found.state

            reader = service_on(engine, cache=0)  # another process: nothing in memory
            report = await reader.verify(PLAN)
            assert report.ok, report
            assert report.checked == max(written) == len(written), "contiguous, no gaps"
            for version, state in written.items():
                read = await reader.plan(PLAN, version)
                assert read is not None
                assert read.state == state, f"version {version} reads back as written"
            assert await reader.plan(PLAN, max(written) + 1) is None
        finally:
            await engine.dispose()

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(scenario(Path(folder)))
