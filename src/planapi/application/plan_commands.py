"""What a plan command asks for: create a plan, amend it (the use cases: application.plans)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from planapi.domain.changes import Change
from planapi.domain.events import Authority


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
