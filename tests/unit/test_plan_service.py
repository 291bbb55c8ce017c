"""PlanService's use cases on the in-memory event and snapshot stores: amending, time travel and
diffs, in milliseconds and without a database (the same cases run on SQLite and PostgreSQL in
tests/contract)."""

from __future__ import annotations

import datetime as dt

import pytest

from planapi.adapters.memory import MemoryEventStore, MemorySnapshotStore
from planapi.application.plans import PlanService
from planapi.domain.changes import AddNode, Change, MoveNode, RemoveNode, UpdateNode
from planapi.domain.diff import FieldChange, NodeChanged
from planapi.domain.errors import ValidationError, VersionConflictError
from planapi.domain.nodes import NodeKind
from tests.contract.builders import T0, FakeClock, amend_command, build_history, create_command

PLAN = "baku-2026"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def events(clock: FakeClock) -> MemoryEventStore:
    return MemoryEventStore(clock)


@pytest.fixture
def service(events: MemoryEventStore) -> PlanService:
    return PlanService(events, MemorySnapshotStore(), default_actor="tester", snapshot_interval=5)


async def test_an_amendment_becomes_the_next_version_and_the_one_before_stays(
    service: PlanService,
) -> None:
    await service.create_plan(create_command())
    added = AddNode(NodeKind.PRIORITY, "Connectivity", id="p1")
    amended = await service.amend_plan(amend_command(PLAN, 1, [added]))

    assert amended.state.version == 2
    assert amended.state.nodes["p1"].title == "Connectivity"
    first = await service.plan(PLAN, version=1)
    assert first is not None
    assert "p1" not in first.state.nodes


async def test_a_stale_amendment_is_a_conflict_and_changes_nothing(service: PlanService) -> None:
    await service.create_plan(create_command())
    await service.amend_plan(amend_command(PLAN, 1, [UpdateNode("intro", {"code": "1"})]))

    with pytest.raises(VersionConflictError):
        await service.amend_plan(amend_command(PLAN, 1, [UpdateNode("intro", {"code": "2"})]))
    latest = await service.plan(PLAN)
    assert latest is not None
    assert (latest.state.version, latest.state.nodes["intro"].code) == (2, "1")


async def test_an_invalid_amendment_is_refused_whole(service: PlanService) -> None:
    await service.create_plan(create_command())
    changes: list[Change] = [UpdateNode("intro", {"code": "9"}), RemoveNode("nowhere")]

    with pytest.raises(ValidationError) as refused:
        await service.amend_plan(amend_command(PLAN, 1, changes))
    assert [p.path for p in refused.value.problems] == [("changes", 1, "removeNode", "id")]
    latest = await service.plan(PLAN)
    assert latest is not None
    assert latest.state.version == 1


async def test_as_of_an_instant_reads_the_version_recorded_then(
    service: PlanService, clock: FakeClock
) -> None:
    await service.create_plan(create_command())
    clock.advance(hours=1)
    await service.amend_plan(amend_command(PLAN, 1, [UpdateNode("intro", {"code": "1"})]))

    before_creation = await service.plan(PLAN, as_of=T0 - dt.timedelta(seconds=1))
    between = await service.plan(PLAN, as_of=T0 + dt.timedelta(minutes=30))
    after = await service.plan(PLAN, as_of=T0 + dt.timedelta(hours=2))
    assert before_creation is None
    assert between is not None
    assert after is not None
    assert (between.state.version, after.state.version) == (1, 2)


async def test_a_past_version_read_afresh_from_snapshots_equals_the_one_remembered(
    service: PlanService, events: MemoryEventStore
) -> None:
    latest = await build_history(service)
    remembered = [await service.plan(PLAN, version=v) for v in range(1, latest + 1)]
    afresh = PlanService(events, service.snapshots, default_actor="x", snapshot_interval=5)

    for version, known in enumerate(remembered, start=1):
        found = await afresh.plan(PLAN, version=version)
        assert found is not None
        assert known is not None
        assert found.state == known.state


async def test_a_diff_names_what_changed_between_two_versions(service: PlanService) -> None:
    await service.create_plan(create_command())
    changes = [
        AddNode(NodeKind.PRIORITY, "Connectivity", id="p1"),
        AddNode(NodeKind.SECTION, "Annex", id="annex"),
    ]
    await service.amend_plan(amend_command(PLAN, 1, changes))
    await service.amend_plan(
        amend_command(PLAN, 2, [UpdateNode("intro", {"code": "1"}), MoveNode("annex", None, 0)])
    )

    found = (await service.diff(PLAN, 1, 3)).diff
    assert {p.node_id for p in found.added} == {"p1", "annex"}
    assert found.changed == (NodeChanged("intro", (FieldChange("code", None, "1"),)),)
    assert (await service.diff(PLAN, 3, 3)).diff.is_empty
