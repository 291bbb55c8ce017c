"""An operational plan's tie to the action plan it implements: the action plan's version in
force on the day of the creation or amendment (its effective date, else the day it is
recorded), against which its activities' links are checked; the latest version while none is
in force then (a draft never adopted, an adoption effective later, a superseded plan)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from planapi.domain.errors import Problem, ValidationError
from planapi.domain.plan import PlanState
from planapi.domain.plan_kinds import PlanKind

if TYPE_CHECKING:
    from planapi.application.plan_commands import AmendPlan, CreatePlan
    from planapi.application.plan_views import PlanVersion

# (plan id, day) → the version of that action plan links are checked against on that day
# (`application.in_force.version_for_links`), None when there is no such plan. The day is the
# command's effective date; None: the day it is recorded, by the service's clock (the one that
# stamps the event), not the wall clock here.
Read = Callable[[str, dt.date | None], Awaitable["PlanVersion | None"]]


async def creation_terms(read: Read, command: CreatePlan) -> dict[str, object]:
    """What `decide_creation` needs of a plan's kind: the kind, the action plan it implements,
    and that plan's version in force to check activities' links against."""
    return {
        "plan_kind": command.plan_kind or PlanKind.ACTION_PLAN,
        "implements": command.implements,
        "implemented": await implemented_plan(read, command.implements, command.effective_from),
    }


async def amendment_terms(read: Read, state: PlanState, command: AmendPlan) -> dict[str, object]:
    """What `decide_amendment` needs beyond the changes: the edition a Council approval sets,
    and the implemented action plan's version in force on the amendment's day."""
    return {
        "edition": command.edition,
        "implemented": await implemented_plan(read, state.implements, command.effective_from),
    }


async def implemented_plan(read: Read, plan_id: str | None, on: dt.date | None) -> PlanState | None:
    """The version of the action plan `plan_id` in force on `on` (None: today), else its
    latest (None: the plan implements none); a ValidationError naming `implements` when there
    is no such action plan."""
    if plan_id is None:
        return None
    found = await read(plan_id, on)
    if found is None:
        raise ValidationError([Problem(("implements",), f"no plan {plan_id!r}")])
    if found.state.plan_kind is not PlanKind.ACTION_PLAN:
        raise ValidationError(
            [Problem(("implements",), f"{plan_id!r} is an {found.state.plan_kind.value}")]
        )
    return found.state


async def implementing(
    latest: Callable[[], Awaitable[list[PlanVersion]]], action_plan_ids: Sequence[str]
) -> list[list[PlanState]]:
    """For each action plan, the latest versions of the operational plans implementing it
    (`latest`: every plan's latest version, `PlanService.plans`, one indexed read plus the
    versions not cached yet), by plan id."""
    every = sorted(
        (found.state for found in await latest() if found.state.implements is not None),
        key=lambda state: state.id,
    )
    return [[state for state in every if state.implements == wanted] for wanted in action_plan_ids]
