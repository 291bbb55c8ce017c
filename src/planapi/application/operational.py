"""An operational plan's tie to the action plan it implements: the action plan's latest
version, against which its activities' links are checked when it is created or amended."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from planapi.domain.errors import Problem, ValidationError
from planapi.domain.plan import PlanState
from planapi.domain.plan_kinds import PlanKind

if TYPE_CHECKING:
    from planapi.application.plans import PlanVersion


async def implemented_plan(
    read: Callable[[str], Awaitable[PlanVersion | None]], plan_id: str | None
) -> PlanState | None:
    """The latest version of the action plan `plan_id` (None: the plan implements none);
    a ValidationError naming `implements` when there is no such action plan."""
    if plan_id is None:
        return None
    found = await read(plan_id)
    if found is None:
        raise ValidationError([Problem(("implements",), f"no plan {plan_id!r}")])
    if found.state.plan_kind is not PlanKind.ACTION_PLAN:
        raise ValidationError(
            [Problem(("implements",), f"{plan_id!r} is an {found.state.plan_kind.value}")]
        )
    return found.state
