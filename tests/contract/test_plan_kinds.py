"""Plan kinds in the one event log: an operational plan is created, amended, approved by the
Council and read back through snapshots and `asOf` like any plan, while an action plan's
stored bytes stay exactly what they were before plan kinds existed."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from planapi.application.plans import AmendPlan, CreatePlan, PlanService
from planapi.application.ports import EventStore
from planapi.domain.activity_values import BudgetLine, FundingSource
from planapi.domain.changes import AddNode, UpdateNode
from planapi.domain.errors import ValidationError
from planapi.domain.events import Authority, PlanStatus
from planapi.domain.nodes import NodeKind
from planapi.domain.plan_kinds import PlanKind
from tests.contract.builders import FakeClock, amend_command, create_command
from tests.contract.conftest import ports_and_memory

pytestmark = ports_and_memory

ACTION = "action-2026"
OPERATIONAL = "operational-2027"


def _action_plan() -> CreatePlan:
    changes = (
        AddNode(NodeKind.PRIORITY, "Connectivity", id="p1"),
        AddNode(NodeKind.OUTPUT, "Toolkits", id="o1"),
    )
    return dataclasses.replace(create_command(ACTION), changes=changes)


def _activity(node_id: str = "a1", **values: object) -> AddNode:
    given: dict[str, object] = {
        "output_ids": ("o1",),
        "serves_ids": ("p1",),
        "start": dt.date(2027, 1, 1),
        "end": dt.date(2027, 12, 31),
        "budget": (BudgetLine(2027, FundingSource.REGULAR_BUDGET, Decimal("100.00")),),
        **values,
    }
    return AddNode(NodeKind.ACTIVITY, f"Activity {node_id}", id=node_id, values=given)


def _operational(*changes: AddNode) -> CreatePlan:
    return CreatePlan(
        plan_id=OPERATIONAL,
        title="Operational plan 2027-2030",
        period_start=2027,
        period_end=2030,
        authority=Authority.BDT,
        rationale="Prepared by BDT",
        changes=changes,
        plan_kind=PlanKind.OPERATIONAL_PLAN,
        implements=ACTION,
    )


def _approval(version: int, edition: int) -> AmendPlan:
    return AmendPlan(
        OPERATIONAL, version, Authority.COUNCIL, "Approved by Council", (), edition=edition
    )


async def test_an_action_plan_is_stored_as_before_plan_kinds(
    service: PlanService, event_store: EventStore
) -> None:
    created = await service.create_plan(_action_plan())
    (stored,) = await event_store.read(f"plan:{ACTION}")

    assert created.state.plan_kind is PlanKind.ACTION_PLAN
    assert stored.event.plan_kind is PlanKind.ACTION_PLAN  # type: ignore[union-attr]
    assert created.state.implements is None


async def test_an_operational_plan_folds_through_snapshots_asof_and_verifies(
    service: PlanService,
    fresh_service: object,
    clocked_service: PlanService,
) -> None:
    await service.create_plan(_action_plan())
    await service.create_plan(_operational(_activity("a1")))
    for version in range(1, 6):  # past the snapshot interval of 5
        update = UpdateNode("a1", {"description": f"revision {version}"})
        await service.amend_plan(dataclasses.replace(amend_command(OPERATIONAL, version, [update])))
    approved = await service.amend_plan(_approval(6, 2027))

    again = await fresh_service().plan(OPERATIONAL)  # type: ignore[operator]

    assert approved.state.edition == 2027
    assert again is not None
    assert again.state.plan_kind is PlanKind.OPERATIONAL_PLAN
    assert (again.state.implements, again.state.edition) == (ACTION, 2027)
    assert again.state.nodes["a1"].output_ids == ("o1",)
    before = await fresh_service().plan(OPERATIONAL, version=6)  # type: ignore[operator]
    assert before is not None
    assert before.state.edition is None
    report = await service.verify(OPERATIONAL)
    assert report.ok
    assert report.findings == ()


async def test_links_are_checked_against_the_latest_version_of_a_draft_never_adopted(
    service: PlanService,
) -> None:
    await service.create_plan(_action_plan())
    await service.create_plan(_operational(_activity("a1")))
    await service.amend_plan(amend_command(ACTION, 1, [AddNode(NodeKind.OUTPUT, "Data", id="o2")]))

    # An output added to the action plan since is there to link to.
    linked = await service.amend_plan(
        amend_command(OPERATIONAL, 1, [UpdateNode("a1", {"output_ids": ("o1", "o2")})])
    )
    with pytest.raises(ValidationError) as refused:
        await service.amend_plan(
            amend_command(OPERATIONAL, 2, [UpdateNode("a1", {"serves_ids": ("o1",)})])
        )

    assert linked.state.nodes["a1"].output_ids == ("o1", "o2")
    [problem] = refused.value.problems
    assert problem.path == ("changes", 0, "updateNode", "serves_ids", 0)


async def test_an_operational_plan_cannot_implement_another_operational_plan(
    service: PlanService,
) -> None:
    await service.create_plan(_action_plan())
    await service.create_plan(_operational())

    with pytest.raises(ValidationError) as refused:
        await service.create_plan(
            dataclasses.replace(_operational(), plan_id="second", implements=OPERATIONAL)
        )

    assert [p.path for p in refused.value.problems] == [("implements",)]


async def test_the_edition_is_read_as_of_an_instant(
    clocked_service: PlanService, clock: FakeClock
) -> None:
    await clocked_service.create_plan(_action_plan())
    await clocked_service.create_plan(_operational())
    between = clock.advance(days=1)
    clock.advance(days=1)
    await clocked_service.amend_plan(_approval(1, 2027))

    then = await clocked_service.plan(OPERATIONAL, as_of=between)
    now = await clocked_service.plan(OPERATIONAL)

    assert then is not None
    assert now is not None
    assert (then.state.edition, now.state.edition) == (None, 2027)


async def test_without_an_effective_date_links_are_checked_on_the_day_the_clock_says(
    clocked_service: PlanService, clock: FakeClock
) -> None:
    """The day is the one the event is stamped with (the service's clock), not the wall clock:
    an output in force from 2028 may be linked by an operational plan recorded in 2028."""
    adopted = dataclasses.replace(_action_plan(), status=PlanStatus.ADOPTED)
    await clocked_service.create_plan(adopted)
    data = AddNode(NodeKind.OUTPUT, "Data", id="o2")
    later = dataclasses.replace(
        amend_command(ACTION, 1, [data]), effective_from=dt.date(2028, 1, 1)
    )
    await clocked_service.amend_plan(later)
    linking = _operational(_activity(output_ids=("o2",)))

    clock.set(dt.datetime(2027, 6, 1, tzinfo=dt.UTC))
    with pytest.raises(ValidationError) as refused:
        await clocked_service.create_plan(linking)
    assert "o2" in refused.value.problems[0].message

    clock.set(dt.datetime(2028, 6, 1, tzinfo=dt.UTC))
    created = await clocked_service.create_plan(linking)
    assert [n.id for n in created.state.walk() if n.kind is NodeKind.ACTIVITY] == ["a1"]
