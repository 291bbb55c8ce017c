"""Implementation figures for dashboards: activities completed against those planned, and the
budget executed against the budget planned — for an activity, an output, a priority, a plan,
in a year or over all years. An activity counts once for each output or priority it serves;
its money is split among them as its budget is (domain/allocation.py), so the parts add up."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from planapi.domain.activities import runs_in
from planapi.domain.activity_values import ActivityStatus, AllocationBasis
from planapi.domain.allocation import split, weighted
from planapi.domain.execution import ActivityExecution
from planapi.domain.nodes import Node

_NOTHING = ActivityExecution()
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Figures:
    planned: int = 0  # activities running in the period, not cancelled
    completed: int = 0
    budget_planned: Decimal = ZERO
    budget_executed: Decimal = ZERO

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.planned + other.planned,
            self.completed + other.completed,
            self.budget_planned + other.budget_planned,
            self.budget_executed + other.budget_executed,
        )

    @property
    def implementation_rate(self) -> Decimal | None:
        """Completed over planned, to four places; None when nothing was planned."""
        if not self.planned:
            return None
        return (Decimal(self.completed) / Decimal(self.planned)).quantize(Decimal("0.0001"))


_NONE = Figures()


def status_of(activity: Node, seen: ActivityExecution) -> ActivityStatus:
    """Cancellation and postponement by amendment stand; otherwise what execution recorded."""
    planned = activity.status or ActivityStatus.PLANNED
    if planned in (ActivityStatus.CANCELLED, ActivityStatus.POSTPONED) or seen.status is None:
        return planned
    return seen.status


def activity_figures(activity: Node, seen: ActivityExecution, year: int | None) -> Figures:
    if not runs_in(activity, year):
        return Figures()
    status = status_of(activity, seen)
    counted = status is not ActivityStatus.CANCELLED
    return Figures(
        planned=int(counted),
        completed=int(status is ActivityStatus.COMPLETED),
        budget_planned=sum(
            (line.amount for line in activity.budget if year is None or line.year == year), ZERO
        ),
        budget_executed=seen.spent_in(year),
    )


def figures_by(
    activities: Iterable[Node],
    execution: dict[str, ActivityExecution],
    year: int | None,
    basis: AllocationBasis,
    priority_of: Callable[[str], str | None],
) -> dict[str | None, Figures]:
    """Figures per output, priority or region (`basis`; not SOURCE: an activity's count has no
    funding source). Keys in first-seen order; None gathers what serves none of them."""
    out: dict[str | None, Figures] = {}
    for activity in activities:
        whole = activity_figures(activity, execution.get(activity.id, _NOTHING), year)
        if whole == _NONE:
            continue  # not running in the period: nothing to add anywhere
        keys, weights = weighted(activity, basis, priority_of)
        planned = split(whole.budget_planned, weights)
        executed = split(whole.budget_executed, weights)
        for key, plan_part, spent_part in zip(keys, planned, executed, strict=True):
            part = Figures(whole.planned, whole.completed, plan_part, spent_part)
            out[key] = out.get(key, Figures()) + part
    return out
