"""The plan in force on a date, over random histories of amendments, adoptions and supersession:
what the service answers (through the in-memory stores) against a model kept beside it."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from planapi.adapters.memory import MemoryEventStore, MemorySnapshotStore
from planapi.application.in_force import plan_in_force
from planapi.application.plans import AmendPlan, PlanService
from planapi.domain.changes import AddNode
from planapi.domain.events import Authority, PlanStatus
from planapi.domain.in_force import VersionStanding, version_in_force
from planapi.domain.nodes import NodeKind
from tests.contract.builders import FakeClock, create_command

PLAN = "baku-2026"
START = dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)

steps = st.lists(
    st.tuples(
        st.sampled_from(["amend", "adopt", "supersede"]),
        st.none() | st.dates(dt.date(2024, 6, 1), dt.date(2031, 12, 31)),
        st.integers(0, 400),  # days after the previous step that it is recorded
    ),
    max_size=12,
)


@dataclasses.dataclass
class Model:
    """Each version of PLAN: its status after it, its effective date, when it was recorded."""

    versions: list[tuple[int, PlanStatus, dt.date, dt.datetime]]

    def in_force(self, on: dt.date, upto: int | None = None) -> int | None:
        seen = [v for v in self.versions if upto is None or v[0] <= upto]
        effective = [v for v in seen if v[2] <= on]
        if any(status is PlanStatus.SUPERSEDED for _, status, _, _ in effective):
            return None
        adopted = [version for version, status, _, _ in effective if status is PlanStatus.ADOPTED]
        return max(adopted, default=None)


async def _play(history: list[tuple[str, dt.date | None, int]]) -> tuple[PlanService, Model]:
    clock = FakeClock(START)
    service = PlanService(
        MemoryEventStore(clock), MemorySnapshotStore(), default_actor="t", snapshot_interval=4
    )
    created = await service.create_plan(
        dataclasses.replace(create_command(PLAN), authority=Authority.BDT, effective_from=None)
    )
    model = Model([(1, PlanStatus.DRAFT, START.date(), START)])
    status, version = created.state.status, 1
    for index, (step, effective, days) in enumerate(history):
        when = clock.advance(days=days)
        if step == "supersede" and status is not PlanStatus.SUPERSEDED:
            successor = f"next-{index}"
            await service.create_plan(
                dataclasses.replace(
                    create_command(successor), authority=Authority.BDT, succeeds=PLAN
                )
            )
            await service.amend_plan(_command(successor, 1, PlanStatus.ADOPTED, effective))
            status = PlanStatus.SUPERSEDED
        elif step == "adopt" and status is PlanStatus.DRAFT:
            await service.amend_plan(_command(PLAN, version, PlanStatus.ADOPTED, effective))
            status = PlanStatus.ADOPTED
        else:
            await service.amend_plan(_command(PLAN, version, None, effective, f"n{index}"))
        version += 1
        model.versions.append((version, status, effective or when.date(), when))
    return service, model


def _command(
    plan_id: str,
    expected: int,
    status: PlanStatus | None,
    effective: dt.date | None,
    node: str = "",
) -> AmendPlan:
    changes = (AddNode(NodeKind.ENABLER, node, id=node),) if node else ()
    authority = Authority.WTDC if status else Authority.TDAG
    return AmendPlan(plan_id, expected, authority, "r", changes, None, effective, status=status)


@settings(max_examples=60, deadline=None)
@given(history=steps, days=st.lists(st.dates(dt.date(2024, 1, 1), dt.date(2032, 6, 1)), max_size=6))
def test_the_version_in_force_is_the_latest_adopted_one_effective_by_then(
    history: list[tuple[str, dt.date | None, int]], days: list[dt.date]
) -> None:
    async def check() -> None:
        service, model = await _play(history)
        for on in days:
            found = await plan_in_force(service, PLAN, on)
            assert (found.state.version if found else None) == model.in_force(on)
            if found is not None:
                assert found.state.status is PlanStatus.ADOPTED
            # As believed right after each version was recorded.
            for _, _, _, recorded_at in model.versions:
                believed = await plan_in_force(service, PLAN, on, recorded_at)
                # Versions recorded at the same instant are believed together.
                upto = max(v for v, _, _, at in model.versions if at <= recorded_at)
                expected = model.in_force(on, upto=upto)
                assert (believed.state.version if believed else None) == expected

    asyncio.run(check())


def test_in_force_ignores_versions_not_yet_effective_and_stops_at_supersession() -> None:
    def standing(version: int, status: PlanStatus, day: int) -> VersionStanding:
        return VersionStanding(version, status, dt.date(2026, 1, day))

    history = [
        standing(1, PlanStatus.DRAFT, 1),
        standing(2, PlanStatus.ADOPTED, 10),
        standing(3, PlanStatus.ADOPTED, 5),  # recorded later, effective earlier (retroactive)
        standing(4, PlanStatus.ADOPTED, 20),
        standing(5, PlanStatus.SUPERSEDED, 25),
    ]

    assert version_in_force(history, dt.date(2026, 1, 4)) is None
    assert version_in_force(history, dt.date(2026, 1, 7)) == 3
    assert version_in_force(history, dt.date(2026, 1, 12)) == 3
    assert version_in_force(history, dt.date(2026, 1, 21)) == 4
    assert version_in_force(history, dt.date(2026, 1, 25)) is None
