"""What a plan command asks for: create a plan, amend it (the use cases: application.plans)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from planapi.application.operational import Read, amendment_terms, creation_terms
from planapi.domain.changes import Change
from planapi.domain.events import AmendmentInfo, Authority, PlanStatus
from planapi.domain.plan import PlanState
from planapi.domain.plan_kinds import PlanKind


@dataclass(frozen=True, slots=True)
class CreatePlan:
    plan_id: str
    title: str
    period_start: int
    period_end: int
    authority: Authority
    rationale: str
    description: str | None = None
    reference: str | None = None
    effective_from: dt.date | None = None
    changes: Sequence[Change] = ()
    idempotency_key: str | None = None
    status: PlanStatus = PlanStatus.DRAFT
    succeeds: str | None = None
    plan_kind: PlanKind | None = None  # None: an action plan
    implements: str | None = None  # the action plan an operational plan implements

    async def terms(self, read: Read) -> dict[str, object]:
        """What deciding it needs beyond its fields (`application.operational`)."""
        return await creation_terms(read, self)


@dataclass(frozen=True, slots=True)
class AmendPlan:
    plan_id: str
    expected_version: int
    authority: Authority
    rationale: str
    changes: Sequence[Change]
    reference: str | None = None
    effective_from: dt.date | None = None
    idempotency_key: str | None = None
    status: PlanStatus | None = None
    succeeds: str | None = None
    superseded_by: str | None = None  # set by the service alone (see application/succession.py)
    edition: int | None = None  # an operational plan's, set by the Council's approval

    async def terms(self, read: Read, state: PlanState) -> dict[str, object]:
        """What deciding it against `state` needs beyond its fields."""
        return await amendment_terms(read, state, self)


def amendment_info(command: CreatePlan | AmendPlan, actor: str) -> AmendmentInfo:
    """Who records `command`, on what authority, why, and from when."""
    return AmendmentInfo(
        actor=actor,
        authority=command.authority,
        rationale=command.rationale.strip(),
        reference=command.reference,
        effective_from=command.effective_from,
    )
