"""Creating and amending plans: the refusals a client sees, and that a refusal stores nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from planapi.adapters.event_store import SqlEventStore
from planapi.application.plans import PlanService
from planapi.domain.changes import AddNode
from planapi.domain.errors import (
    PlanAlreadyExistsError,
    PlanNotFoundError,
    ValidationError,
    VersionConflictError,
)
from planapi.domain.nodes import NodeKind
from tests.contract.builders import amend_command, create_command
from tests.contract.conftest import ports_and_memory

pytestmark = ports_and_memory

PLAN = "baku-2026"
STREAM = f"plan:{PLAN}"


def _enabler(node_id: str) -> list[AddNode]:
    return [AddNode(NodeKind.ENABLER, f"Enabler {node_id}", id=node_id)]


async def test_creating_a_plan_stores_version_one(
    service: PlanService, event_store: SqlEventStore
) -> None:
    created = await service.create_plan(create_command(PLAN), actor="alice")

    assert created.state.version == 1
    assert created.amendment.info.actor == "alice"
    assert await event_store.latest_version(STREAM) == 1
    assert await service.plan(PLAN) == created


async def test_creating_a_plan_whose_id_is_taken_is_refused_and_keeps_the_first(
    service: PlanService, event_store: SqlEventStore
) -> None:
    first = await service.create_plan(create_command(PLAN, title="The real plan"))

    with pytest.raises(PlanAlreadyExistsError) as refused:
        await service.create_plan(create_command(PLAN, title="An impostor"))

    assert refused.value.plan_id == PLAN
    assert await event_store.read(STREAM) == [first.amendment]
    found = await service.plan(PLAN)
    assert found is not None
    assert found.state.title == "The real plan"


async def test_two_clients_creating_the_same_plan_at_once_one_is_told_it_exists(
    service: PlanService, fresh_service: Callable[[], PlanService], event_store: SqlEventStore
) -> None:
    outcomes = await asyncio.gather(
        service.create_plan(create_command(PLAN, title="From Alice")),
        fresh_service().create_plan(create_command(PLAN, title="From Bob")),
        return_exceptions=True,
    )

    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(refused) == 1
    assert type(refused[0]) is PlanAlreadyExistsError, repr(refused[0])
    assert await event_store.latest_version(STREAM) == 1


async def test_amending_a_plan_that_does_not_exist_is_not_found_and_stores_nothing(
    service: PlanService, event_store: SqlEventStore
) -> None:
    with pytest.raises(PlanNotFoundError) as refused:
        await service.amend_plan(amend_command(PLAN, 1, _enabler("e1")))

    assert refused.value.plan_id == PLAN
    assert await event_store.latest_version(STREAM) == 0
    assert await event_store.stream_ids("plan:") == []


async def test_amending_from_a_stale_version_is_a_conflict_and_stores_nothing(
    service: PlanService, event_store: SqlEventStore
) -> None:
    await service.create_plan(create_command(PLAN))
    await service.amend_plan(amend_command(PLAN, 1, _enabler("e1")))
    before = await event_store.read(STREAM)

    with pytest.raises(VersionConflictError) as conflict:
        await service.amend_plan(amend_command(PLAN, 1, _enabler("e2")))

    assert (conflict.value.expected_version, conflict.value.actual_version) == (1, 2)
    assert await event_store.read(STREAM) == before
    found = await service.plan(PLAN)
    assert found is not None
    assert found.state.node("e2") is None


async def test_two_editors_amending_the_same_version_at_once_one_wins_one_conflicts(
    service: PlanService, fresh_service: Callable[[], PlanService], event_store: SqlEventStore
) -> None:
    await service.create_plan(create_command(PLAN))

    outcomes = await asyncio.gather(
        service.amend_plan(amend_command(PLAN, 1, _enabler("from-alice"))),
        fresh_service().amend_plan(amend_command(PLAN, 1, _enabler("from-bob"))),
        return_exceptions=True,
    )

    conflicts = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(conflicts) == 1
    assert type(conflicts[0]) is VersionConflictError, repr(conflicts[0])
    assert await event_store.latest_version(STREAM) == 2
    latest = await fresh_service().plan(PLAN)
    assert latest is not None
    assert len({"from-alice", "from-bob"} & set(latest.state.nodes)) == 1
    assert (await service.verify(PLAN)).ok


async def test_an_invalid_amendment_is_refused_whole_and_stores_nothing(
    service: PlanService, event_store: SqlEventStore
) -> None:
    await service.create_plan(create_command(PLAN))
    changes = [
        AddNode(NodeKind.ENABLER, "Fine", id="fine"),
        AddNode(NodeKind.KPI, "A KPI needs an outcome above it", id="orphan"),
    ]

    with pytest.raises(ValidationError):
        await service.amend_plan(amend_command(PLAN, 1, changes))

    assert await event_store.latest_version(STREAM) == 1


async def test_verifying_a_plan_that_does_not_exist_is_not_found(service: PlanService) -> None:
    with pytest.raises(PlanNotFoundError):
        await service.verify("nobody")
