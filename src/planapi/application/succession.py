"""Succession: a plan names the plan it succeeds; adopting it supersedes that plan.

The predecessor's status lives in its own stream, so its supersession is one more amendment
there, appended right after the successor's adoption, on the successor's authority, reference
and effective date. The two appends are not one transaction: should the second fail, adopting
is not undone, and `supersede` (idempotent) completes it when called again, as every later
write to the successor does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from planapi.application.plan_commands import AmendPlan, CreatePlan
from planapi.application.ports import EventStore
from planapi.domain.decide import decide_amendment, decide_creation
from planapi.domain.errors import Problem, ValidationError, VersionConflictError
from planapi.domain.events import AmendmentInfo, PlanAmended, PlanCreated, PlanStatus

if TYPE_CHECKING:
    from planapi.application.plan_views import PlanVersion
    from planapi.application.plans import PlanService
    from planapi.domain.plan import PlanState

# Writers racing on the predecessor: re-read its head this many times before giving up.
_ATTEMPTS = 5


def decided_creation(
    info: AmendmentInfo, command: CreatePlan, terms: dict[str, object]
) -> PlanCreated:
    """`terms`: what deciding it needs beyond its fields (`application.operational`)."""
    return decide_creation(
        info,
        command.plan_id,
        command.title,
        command.period_start,
        command.period_end,
        command.description,
        command.changes,
        status=command.status,
        succeeds=command.succeeds,
        **terms,  # type: ignore[arg-type]
    )


def decided_amendment(
    state: PlanState, info: AmendmentInfo, command: AmendPlan, terms: dict[str, object]
) -> PlanAmended:
    return decide_amendment(
        state,
        info,
        command.changes,
        status=command.status,
        succeeds=command.succeeds,
        superseded_by=command.superseded_by,
        **terms,  # type: ignore[arg-type]
    )


async def predecessor_check(
    events: EventStore, stream_of: Callable[[str], str], succeeds: str | None
) -> None:
    if succeeds is not None and await events.latest_version(stream_of(succeeds)) == 0:
        raise ValidationError([Problem(("succeeds",), f"there is no plan {succeeds!r}")])


async def supersede(service: PlanService, found: PlanVersion) -> PlanVersion:
    """Mark the plan `found` succeeds as SUPERSEDED if `found` is adopted; `found` unchanged."""
    state = found.state
    if state.status is not PlanStatus.ADOPTED or state.succeeds is None:
        return found
    info = found.amendment.info
    for _ in range(_ATTEMPTS):
        head = await service.require(state.succeeds)
        if head.state.status is PlanStatus.SUPERSEDED:
            return found
        command = AmendPlan(
            plan_id=state.succeeds,
            expected_version=head.state.version,
            authority=info.authority,
            rationale=f"Superseded by plan {state.id}, adopted in its version {state.version}.",
            changes=(),
            reference=info.reference,
            effective_from=info.effective_from,
            status=PlanStatus.SUPERSEDED,
            superseded_by=state.id,
        )
        try:
            await service.amend_plan(command, info.actor)
        except VersionConflictError:
            continue
        return found
    return found
