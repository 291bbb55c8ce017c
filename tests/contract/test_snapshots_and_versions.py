"""Reading any version of a plan: snapshots speed it up but never change an answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.snapshots import SqlSnapshotStore
from planapi.adapters.tables import snapshots
from planapi.application.plans import PlanService
from planapi.domain.changes import AddNode, Change
from planapi.domain.errors import ValidationError
from planapi.domain.nodes import NodeKind
from planapi.domain.plan import PlanState, fold
from tests.contract.builders import T0, FakeClock, amend_command, build_history, create_command
from tests.contract.conftest import ports_and_memory

PLAN = "baku-2026"
STREAM = f"plan:{PLAN}"
LATEST = 13  # created, then twelve amendments


async def _snapshot_versions(engine: AsyncEngine) -> list[int]:
    query = select(snapshots.c.version).where(snapshots.c.stream_id == STREAM)
    async with engine.connect() as conn:
        return sorted((await conn.execute(query)).scalars())


async def _from_scratch(store: SqlEventStore, version: int) -> PlanState:
    """The state at `version` by folding every event from the first, no snapshot involved."""
    return fold(r.event for r in await store.read(STREAM, 0, version))


def _a_section(node_id: str) -> list[Change]:
    return [AddNode(NodeKind.SECTION, f"Section {node_id}", id=node_id)]


async def test_a_snapshot_is_stored_every_five_versions(
    engine: AsyncEngine, service: PlanService
) -> None:
    assert await build_history(service) == LATEST

    assert await _snapshot_versions(engine) == [5, 10]


@ports_and_memory
async def test_the_nearest_snapshot_is_the_latest_at_or_below_a_version(
    service: PlanService, snapshot_store: SqlSnapshotStore
) -> None:
    await build_history(service)

    found = {v: await snapshot_store.nearest(STREAM, v) for v in (4, 5, 7, 10, 13)}

    assert {v: s.version if s else None for v, s in found.items()} == {
        4: None,
        5: 5,
        7: 5,
        10: 10,
        13: 10,
    }
    assert await snapshot_store.nearest("plan:nobody", 13) is None


@ports_and_memory
async def test_a_snapshot_read_with_its_record_says_what_the_log_says_of_that_version(
    service: PlanService, snapshot_store: SqlSnapshotStore, event_store: SqlEventStore
) -> None:
    # A cold read of a version that has a snapshot takes its record from the same statement:
    # who, when, its hash and (decoded when read) its event must be the log's own.
    await build_history(service)

    for version in (5, 7, 10):
        found = await snapshot_store.nearest_recorded(STREAM, version)
        assert found is not None
        state, record = found
        if record is None:  # the memory store: the log is asked instead
            continue
        logged = await event_store.record(STREAM, state.version)
        assert logged is not None
        assert (record.version, record.position, record.hash) == (
            logged.version,
            logged.position,
            logged.hash,
        )
        assert (record.info, record.recorded_at) == (logged.info, logged.recorded_at)
        assert record.event == logged.event
    assert await snapshot_store.nearest_recorded("plan:nobody", 13) is None


@ports_and_memory
async def test_the_head_read_with_the_newest_snapshot_is_the_logs_head_and_nearest_snapshot(
    service: PlanService,
    snapshot_store: SqlSnapshotStore,
    event_store: SqlEventStore,
    fresh_service: Callable[[], PlanService],
) -> None:
    # A cold read of the latest version asks for both at once: the head must be the log's,
    # the snapshot the one `nearest_recorded` gives for it, and the version read the latest.
    await build_history(service)
    await service.amend_plan(amend_command(PLAN, LATEST, _a_section("after-the-head-was-read")))

    found = await snapshot_store.newest_recorded(STREAM)
    nobody = await snapshot_store.newest_recorded("plan:nobody")

    if found is not None:  # the memory store cannot tell the head: the log is asked
        head, near = found
        assert head == LATEST + 1 == await event_store.latest_version(STREAM)
        assert near is not None
        assert near[0] == await snapshot_store.nearest(STREAM, head)
        assert near[1] is not None
        assert near[1].version == near[0].version == 10
        assert nobody == (0, None)
    latest = await fresh_service().plan(PLAN)
    assert latest is not None
    assert latest.state.version == LATEST + 1
    assert latest.state == await _from_scratch(event_store, LATEST + 1)
    assert "after-the-head-was-read" in latest.state.nodes


@ports_and_memory
async def test_a_snapshot_holds_exactly_the_state_folded_from_scratch(
    service: PlanService, event_store: SqlEventStore, snapshot_store: SqlSnapshotStore
) -> None:
    await build_history(service)

    for version in (5, 10):
        assert await snapshot_store.nearest(STREAM, version) == await _from_scratch(
            event_store, version
        )


@ports_and_memory
@pytest.mark.parametrize("version", range(1, LATEST + 1))
async def test_reading_a_past_version_afresh_equals_folding_every_event_from_scratch(
    service: PlanService,
    event_store: SqlEventStore,
    fresh_service: Callable[[], PlanService],
    version: int,
) -> None:
    await build_history(service)

    found = await fresh_service().plan(PLAN, version=version)

    assert found is not None
    assert found.state == await _from_scratch(event_store, version)
    assert found.state.version == version
    assert found.amendment.version == version


@ports_and_memory
async def test_version_seven_read_afresh_matches_the_plan_as_it_was_then(
    service: PlanService, fresh_service: Callable[[], PlanService]
) -> None:
    await build_history(service)

    found = await fresh_service().plan(PLAN, version=7)

    assert found is not None
    state = found.state
    assert [node.id for node in state.children_of(None)] == ["terms", "defs", "intro", "p1", "out1"]
    assert "p2" in state.retired_ids
    assert "p2" not in state.nodes
    assert {(link.from_id, link.to_id) for link in state.links} == {("out1", "p1")}
    kpi = state.node("k1")
    assert kpi is not None
    assert kpi.targets == ()
    assert kpi.baseline is not None
    assert str(kpi.baseline.value) == "67.4"


async def test_a_snapshot_in_an_unknown_format_is_ignored(
    engine: AsyncEngine,
    service: PlanService,
    event_store: SqlEventStore,
    fresh_service: Callable[[], PlanService],
) -> None:
    await build_history(service)
    async with engine.begin() as conn:
        await conn.execute(
            insert(snapshots).values(
                stream_id=STREAM,
                version=7,
                schema_version=999,
                state={"written by": "a future release", "nodes": "?"},
                created_at=T0,
            )
        )

    found = await fresh_service().plan(PLAN, version=8)

    assert found is not None
    assert found.state == await _from_scratch(event_store, 8)


async def test_deleting_every_snapshot_changes_no_answer(
    engine: AsyncEngine, service: PlanService, fresh_service: Callable[[], PlanService]
) -> None:
    await build_history(service)
    before = [await fresh_service().plan(PLAN, version=v) for v in range(1, LATEST + 1)]

    async with engine.begin() as conn:
        await conn.execute(delete(snapshots))
    after = [await fresh_service().plan(PLAN, version=v) for v in range(1, LATEST + 1)]

    assert after == before
    assert await fresh_service().plan(PLAN) == before[-1]


@ports_and_memory
async def test_reading_the_same_past_version_twice_returns_the_cached_object(
    service: PlanService, fresh_service: Callable[[], PlanService]
) -> None:
    await build_history(service)
    reader = fresh_service()

    first = await reader.plan(PLAN, version=3)
    second = await reader.plan(PLAN, version=3)

    assert first is not None
    assert second is first


@ports_and_memory
async def test_the_latest_version_is_read_when_none_is_named(
    service: PlanService, fresh_service: Callable[[], PlanService]
) -> None:
    await build_history(service)

    found = await fresh_service().plan(PLAN)

    assert found is not None
    assert found.state.version == LATEST
    assert found.amendment.version == LATEST


@ports_and_memory
async def test_a_version_beyond_the_latest_or_of_an_unknown_plan_is_none(
    service: PlanService, fresh_service: Callable[[], PlanService]
) -> None:
    await build_history(service)
    reader = fresh_service()

    assert await reader.plan(PLAN, version=LATEST + 1) is None
    assert await reader.plan(PLAN, version=10_000) is None
    assert await reader.plan("nobody") is None
    assert await reader.plan("nobody", version=1) is None


@ports_and_memory
async def test_versions_start_at_one(service: PlanService) -> None:
    await service.create_plan(create_command(PLAN))

    with pytest.raises(ValidationError, match="versions start at 1"):
        await service.plan(PLAN, version=0)


@ports_and_memory
async def test_as_of_picks_the_latest_version_at_or_before_the_instant(
    clocked_service: PlanService, clock: FakeClock
) -> None:
    created_at = clock.set(T0)
    await clocked_service.create_plan(create_command(PLAN))
    second_at = clock.advance(days=10)
    await clocked_service.amend_plan(amend_command(PLAN, 1, _a_section("s2")))
    third_at = clock.advance(days=10)
    await clocked_service.amend_plan(amend_command(PLAN, 2, _a_section("s3")))
    reader = PlanService(clocked_service.events, clocked_service.snapshots, default_actor="reader")

    async def version_as_of(instant: dt.datetime) -> int | None:
        found = await reader.plan(PLAN, as_of=instant)
        return found.state.version if found else None

    tick = dt.timedelta(microseconds=1)
    assert await version_as_of(created_at - tick) is None
    assert await version_as_of(created_at) == 1
    assert await version_as_of(second_at - tick) == 1
    assert await version_as_of(second_at) == 2
    assert await version_as_of(second_at + dt.timedelta(days=5)) == 2
    assert await version_as_of(third_at) == 3
    assert await version_as_of(third_at + dt.timedelta(days=3650)) == 3
    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert await version_as_of(second_at.astimezone(tokyo)) == 2
    assert await version_as_of((second_at - tick).astimezone(tokyo)) == 1


@ports_and_memory
async def test_as_of_needs_an_instant_with_a_utc_offset(service: PlanService) -> None:
    await service.create_plan(create_command(PLAN))

    with pytest.raises(ValidationError, match="UTC offset"):
        await service.plan(PLAN, as_of=dt.datetime(2030, 1, 1))


@ports_and_memory
async def test_version_and_as_of_together_are_refused(service: PlanService) -> None:
    await service.create_plan(create_command(PLAN))

    with pytest.raises(ValidationError, match="not both"):
        await service.plan(PLAN, version=1, as_of=T0)


@ports_and_memory
async def test_amendments_page_newest_first_and_say_whether_more_remain(
    service: PlanService,
) -> None:
    await build_history(service)

    pages, before = [], None
    while True:
        page = await service.amendments(PLAN, LATEST, 5, before_version=before)
        pages.append(([r.version for r in page.items], page.has_more, page.total))
        if not page.has_more:
            break
        before = page.items[-1].version

    assert pages == [
        ([13, 12, 11, 10, 9], True, 13),
        ([8, 7, 6, 5, 4], True, 13),
        ([3, 2, 1], False, 13),
    ]


@ports_and_memory
async def test_amendments_of_a_past_version_start_at_that_version(
    service: PlanService,
) -> None:
    await build_history(service)

    page = await service.amendments(PLAN, 7, 10)
    exact = await service.amendments(PLAN, 7, 7)

    assert [r.version for r in page.items] == [7, 6, 5, 4, 3, 2, 1]
    assert (page.has_more, page.total) == (False, 7)
    assert exact.has_more is False
    assert [r.info.rationale for r in page.items][-1] == "Adopted by WTDC-25"
