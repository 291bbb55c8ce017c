"""Execution of an operational plan, recorded like readings: append-only facts sent by the
integrations that observe them — an activity started or completed, a milestone reached, money
spent in a year from a funding source. Bitemporal: `occurred_on` is when it happened,
`recorded_at` when we learned it; a read `asOf` an instant sees what was recorded by then.
A later record of the same thing (a status, a milestone, the spending of one year and source)
supersedes an earlier one: the latest by occurrence, then by recording."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from planapi.domain.activities import is_chf
from planapi.domain.activity_values import ActivityStatus, FundingSource
from planapi.domain.errors import Problem
from planapi.domain.nodes import NodeKind
from planapi.domain.plan import PlanState

CENTIME = Decimal("0.01")
# What execution records may set; amendments set the others.
RECORDED_STATUSES = frozenset({ActivityStatus.ONGOING, ActivityStatus.COMPLETED})


class ExecutionKind(enum.Enum):
    STATUS = "STATUS"
    MILESTONE = "MILESTONE"
    EXPENDITURE = "EXPENDITURE"


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    """One fact of execution. `key`: the sender's id for it, unique within the plan, so a
    resend stores nothing new."""

    key: str
    activity_id: str
    kind: ExecutionKind
    occurred_on: dt.date
    status: ActivityStatus | None = None
    milestone_key: str | None = None
    year: int | None = None
    source: FundingSource | None = None
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class StoredExecution:
    id: int
    record: ExecutionRecord
    actor: str
    recorded_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ExecutionIntegrity:
    """A plan's execution records re-hashed: how many held, and the id of the first that did
    not (altered, inserted out of the chain, or following a removed one)."""

    checked: int
    first_break: int | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def record_problems(
    state: PlanState, record: ExecutionRecord, path: tuple[str | int, ...]
) -> list[Problem]:
    activity = state.node(record.activity_id)
    if activity is None or activity.kind is not NodeKind.ACTIVITY:
        return [Problem((*path, "activity_id"), f"no activity {record.activity_id!r}")]
    problems: list[Problem] = []
    if not record.key.strip() or len(record.key) > 200:
        problems.append(Problem((*path, "key"), "must be 1-200 characters"))
    if record.kind is ExecutionKind.STATUS and record.status not in RECORDED_STATUSES:
        problems.append(Problem((*path, "status"), "execution records set ONGOING or COMPLETED"))
    if record.kind is ExecutionKind.MILESTONE and record.milestone_key not in {
        m.key for m in activity.milestones
    }:
        problems.append(Problem((*path, "milestone_key"), "no such milestone of the activity"))
    if record.kind is ExecutionKind.EXPENDITURE:
        problems += _expenditure_problems(state, record, path)
    return problems


def _expenditure_problems(
    state: PlanState, record: ExecutionRecord, path: tuple[str | int, ...]
) -> list[Problem]:
    activity = state.nodes[record.activity_id]
    first = activity.start.year if activity.start else state.period_start
    last = activity.end.year if activity.end else state.period_end
    problems: list[Problem] = []
    if record.year is None or not first <= record.year <= last:
        problems.append(
            Problem((*path, "year"), f"must be within the activity's years {first}-{last}")
        )
    if record.source is None:
        problems.append(Problem((*path, "source"), "an expenditure names its funding source"))
    if record.amount is None or not is_chf(record.amount):
        problems.append(Problem((*path, "amount"), "must be CHF, not negative, to the centime"))
    return problems


@dataclass
class ActivityExecution:
    """What execution records say of one activity, as of some instant."""

    status: ActivityStatus | None = None
    milestones: dict[str, dt.date] = field(default_factory=dict)  # key → when reached
    spent: dict[tuple[int, FundingSource], Decimal] = field(default_factory=dict)

    def spent_in(self, year: int | None) -> Decimal:
        return sum(
            (amount for (y, _), amount in self.spent.items() if year is None or y == year),
            Decimal("0.00"),
        )


# One record as the fold reads it: activity id, kind, occurred on, status, milestone key, year,
# funding source, amount. A plain tuple: a dashboard folds every record of a plan per request.
Fact = tuple[
    str,
    ExecutionKind,
    dt.date,
    ActivityStatus | None,
    str | None,
    int | None,
    FundingSource | None,
    Decimal | None,
]


def fold_facts(facts: Iterable[Fact]) -> dict[str, ActivityExecution]:
    """Activity id → what its records say, `facts` in the order they fold: by occurrence, then
    by recording (the store's `facts`), so later ones win."""
    out: dict[str, ActivityExecution] = {}
    for activity_id, kind, occurred_on, status, milestone, year, source, amount in facts:
        seen = out.get(activity_id)
        if seen is None:
            seen = out[activity_id] = ActivityExecution()
        if kind is ExecutionKind.STATUS:
            seen.status = status
        elif kind is ExecutionKind.MILESTONE and milestone is not None:
            seen.milestones.setdefault(milestone, occurred_on)
        elif year is not None and source is not None and amount is not None:
            seen.spent[(year, source)] = amount
    return out
