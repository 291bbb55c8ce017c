"""A plan's status (draft, adopted, superseded) and the version in force on a date, per backend."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from planapi.application.in_force import plan_in_force, read_plan
from planapi.application.plans import AmendPlan, CreatePlan, PlanService
from planapi.application.ports import EventStore
from planapi.domain.changes import AddNode, UpdateNode
from planapi.domain.errors import ValidationError
from planapi.domain.events import Authority, NodeAdded, PlanAmended, PlanStatus
from planapi.domain.nodes import Measure, Measurement, Node, NodeKind
from tests.contract.builders import FakeClock, amend_command, create_command
from tests.contract.conftest import ports_and_memory

pytestmark = ports_and_memory

PLAN = "baku-2026"


def _draft(plan_id: str = PLAN, succeeds: str | None = None) -> CreatePlan:
    return dataclasses.replace(
        create_command(plan_id),
        authority=Authority.BDT,
        rationale="Draft prepared for WTDC",
        effective_from=None,
        succeeds=succeeds,
    )


def _adopt(
    plan_id: str, expected: int, authority: Authority = Authority.WTDC, **more: object
) -> AmendPlan:
    return AmendPlan(
        plan_id=plan_id,
        expected_version=expected,
        authority=authority,
        rationale="Adopted",
        changes=(),
        status=PlanStatus.ADOPTED,
        **more,  # type: ignore[arg-type]
    )


async def test_a_plan_is_created_a_draft_and_the_wtdc_adopts_it(service: PlanService) -> None:
    created = await service.create_plan(_draft())
    adopted = await service.amend_plan(_adopt(PLAN, 1, effective_from=dt.date(2026, 1, 1)))

    assert created.state.status is PlanStatus.DRAFT
    assert adopted.state.status is PlanStatus.ADOPTED
    assert adopted.amendment.event.status is PlanStatus.ADOPTED
    first = await service.plan(PLAN, 1)
    assert first is not None
    assert first.state.status is PlanStatus.DRAFT
    later = await service.amend_plan(
        amend_command(PLAN, 2, [AddNode(NodeKind.ENABLER, "E", id="e1")])
    )
    assert later.state.status is PlanStatus.ADOPTED  # an ordinary amendment keeps the status
    assert (await service.verify(PLAN)).ok


async def test_an_authority_that_may_not_adopt_is_refused_naming_status(
    service: PlanService,
) -> None:
    await service.create_plan(_draft())

    with pytest.raises(ValidationError) as refused:
        await service.amend_plan(_adopt(PLAN, 1, authority=Authority.TDAG))

    assert [p.path for p in refused.value.problems] == [("status",)]
    assert "WTDC" in refused.value.problems[0].message
    assert "TDAG" in refused.value.problems[0].message
    found = await service.plan(PLAN)
    assert found is not None
    assert found.state.version == 1
    assert found.state.status is PlanStatus.DRAFT


async def test_a_status_cannot_be_set_twice_nor_superseded_by_hand(service: PlanService) -> None:
    await service.create_plan(_draft())
    await service.amend_plan(_adopt(PLAN, 1))

    with pytest.raises(ValidationError) as again:
        await service.amend_plan(_adopt(PLAN, 2))
    with pytest.raises(ValidationError) as by_hand:
        await service.amend_plan(dataclasses.replace(_adopt(PLAN, 2), status=PlanStatus.SUPERSEDED))
    with pytest.raises(ValidationError) as back:
        await service.amend_plan(dataclasses.replace(_adopt(PLAN, 2), status=PlanStatus.DRAFT))

    assert "already ADOPTED" in again.value.problems[0].message
    assert "successor" in by_hand.value.problems[0].message
    assert "cannot become DRAFT" in back.value.problems[0].message
    assert {p.path for e in (again, by_hand, back) for p in e.value.problems} == {("status",)}


async def test_a_plan_created_adopted_needs_an_authority_that_may(service: PlanService) -> None:
    with pytest.raises(ValidationError) as refused:
        await service.create_plan(dataclasses.replace(_draft(), status=PlanStatus.ADOPTED))
    created = await service.create_plan(
        dataclasses.replace(_draft(), authority=Authority.WTDC, status=PlanStatus.ADOPTED)
    )

    assert [p.path for p in refused.value.problems] == [("status",)]
    assert created.state.status is PlanStatus.ADOPTED


async def test_adopting_a_successor_supersedes_the_plan_it_names(service: PlanService) -> None:
    await service.create_plan(_draft("old-plan"))
    await service.amend_plan(_adopt("old-plan", 1))
    successor = await service.create_plan(_draft(PLAN, succeeds="old-plan"))
    old = await service.plan("old-plan")
    assert old is not None
    assert old.state.status is PlanStatus.ADOPTED

    await service.amend_plan(_adopt(PLAN, 1, reference="WTDC-25 Resolution 1"))

    old = await service.plan("old-plan")
    assert successor.state.succeeds == "old-plan"
    assert old is not None
    assert old.state.version == 3
    assert old.state.status is PlanStatus.SUPERSEDED
    assert old.state.superseded_by == PLAN
    assert old.amendment.info.authority is Authority.WTDC
    assert old.amendment.info.reference == "WTDC-25 Resolution 1"
    assert (await service.verify("old-plan")).ok


async def test_a_successor_may_be_named_by_amendment_and_must_exist(service: PlanService) -> None:
    await service.create_plan(_draft("old-plan"))
    await service.create_plan(_draft(PLAN))

    with pytest.raises(ValidationError) as unknown:
        await service.amend_plan(dataclasses.replace(_adopt(PLAN, 1), status=None, succeeds="nope"))
    named = await service.amend_plan(
        dataclasses.replace(_adopt(PLAN, 1), status=None, succeeds="old-plan")
    )
    await service.amend_plan(_adopt(PLAN, 2))

    assert [p.path for p in unknown.value.problems] == [("succeeds",)]
    assert named.state.succeeds == "old-plan"
    old = await service.plan("old-plan")
    assert old is not None
    assert old.state.status is PlanStatus.SUPERSEDED


async def test_status_survives_snapshots_and_a_fresh_process(
    service: PlanService, fresh_service: Callable[[], PlanService]
) -> None:
    await service.create_plan(_draft())
    await service.amend_plan(_adopt(PLAN, 1))
    for version in range(2, 12):
        change = AddNode(NodeKind.ENABLER, f"E{version}", id=f"e{version}")
        await service.amend_plan(amend_command(PLAN, version, [change]))

    reread = fresh_service()
    found = await reread.plan(PLAN, 11)
    first = await reread.plan(PLAN, 1)

    assert found is not None
    assert found.state.status is PlanStatus.ADOPTED
    assert first is not None
    assert first.state.status is PlanStatus.DRAFT
    assert (await reread.verify(PLAN)).ok


async def test_the_plan_in_force_on_a_date_as_believed_at_an_instant(
    clocked_service: PlanService, clock: FakeClock
) -> None:
    service = clocked_service
    clock.set(dt.datetime(2025, 10, 1, tzinfo=dt.UTC))
    await service.create_plan(_draft())
    clock.set(dt.datetime(2025, 11, 20, tzinfo=dt.UTC))
    await service.amend_plan(_adopt(PLAN, 1, effective_from=dt.date(2026, 1, 1)))
    clock.set(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    amended = dataclasses.replace(
        amend_command(PLAN, 2, [AddNode(NodeKind.ENABLER, "E", id="e1")]),
        effective_from=dt.date(2027, 1, 1),
    )
    await service.amend_plan(amended)
    clock.set(dt.datetime(2027, 5, 5, tzinfo=dt.UTC))  # no effective date: the day recorded
    await service.amend_plan(amend_command(PLAN, 3, [AddNode(NodeKind.ENABLER, "F", id="f1")]))

    async def in_force(on: dt.date, as_of: dt.datetime | None = None) -> int | None:
        found = await plan_in_force(service, PLAN, on, as_of)
        return found.state.version if found else None

    assert await in_force(dt.date(2025, 12, 31)) is None  # adopted, but not yet in force
    assert await in_force(dt.date(2026, 1, 1)) == 2
    assert await in_force(dt.date(2026, 12, 31)) == 2
    assert await in_force(dt.date(2027, 1, 1)) == 3
    assert await in_force(dt.date(2027, 5, 5)) == 4
    # What did we believe on 2026-06-01 would be in force on 2027-02-01? Version 2.
    assert await in_force(dt.date(2027, 2, 1), dt.datetime(2026, 6, 1, tzinfo=dt.UTC)) == 2
    # Before the adoption was recorded, nothing was believed in force.
    assert await in_force(dt.date(2027, 2, 1), dt.datetime(2025, 11, 1, tzinfo=dt.UTC)) is None
    assert await in_force(dt.date(2027, 2, 1), dt.datetime(2025, 1, 1, tzinfo=dt.UTC)) is None
    assert await plan_in_force(service, "no-such-plan", dt.date(2027, 1, 1)) is None
    with pytest.raises(ValidationError) as both:
        await read_plan(service, PLAN, 2, None, dt.date(2027, 1, 1))
    assert [p.path for p in both.value.problems] == [("inForceOn",)]


async def test_a_superseded_plan_is_not_in_force_once_its_successor_is(
    clocked_service: PlanService, clock: FakeClock
) -> None:
    service = clocked_service
    await service.create_plan(_draft("old-plan"))
    await service.amend_plan(_adopt("old-plan", 1, effective_from=dt.date(2022, 1, 1)))
    await service.create_plan(_draft(PLAN, succeeds="old-plan"))
    await service.amend_plan(_adopt(PLAN, 1, effective_from=dt.date(2026, 1, 1)))

    old_then = await plan_in_force(service, "old-plan", dt.date(2025, 6, 1))
    old_now = await plan_in_force(service, "old-plan", dt.date(2026, 6, 1))
    new_now = await plan_in_force(service, PLAN, dt.date(2026, 6, 1))

    assert old_then is not None
    assert old_then.state.version == 2
    assert old_now is None
    assert new_now is not None
    assert new_now.state.status is PlanStatus.ADOPTED


async def test_values_stored_before_the_range_rules_still_fold_read_and_amend(
    service: PlanService, event_store: EventStore
) -> None:
    """A KPI stored as an older release accepted it: a percentage target of 180, a maximum
    below its baseline. It folds and reads; an amendment that leaves the values alone passes;
    one that gives them again is refused naming the field."""
    created = await service.create_plan(_draft())
    kpi = Node(
        "k-old",
        NodeKind.KPI,
        "Old KPI",
        parent_id="intro",
        measure=Measure.PERCENTAGE,
        baseline=Measurement("2025", Decimal(150)),
        targets=(Measurement("2027", Decimal(180)),),
    )
    old = PlanAmended((NodeAdded(kpi, 0),))
    await event_store.append(
        f"plan:{PLAN}", 1, old, dataclasses.replace(created.amendment.info), created.amendment
    )

    found = await service.plan(PLAN)
    retitled = await service.amend_plan(
        amend_command(PLAN, 2, [UpdateNode("k-old", {"title": "Old KPI, renamed"})])
    )
    with pytest.raises(ValidationError) as again:
        await service.amend_plan(
            amend_command(PLAN, 3, [UpdateNode("k-old", {"targets": kpi.targets})])
        )

    assert found is not None
    assert found.state.nodes["k-old"].targets[0].value == Decimal(180)
    assert retitled.state.nodes["k-old"].baseline == Measurement("2025", Decimal(150))
    assert [p.path for p in again.value.problems] == [
        ("changes", 0, "updateNode", "targets", 0, "value")
    ]
    assert (await service.verify(PLAN)).ok
