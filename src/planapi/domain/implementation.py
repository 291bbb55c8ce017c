"""Implementation figures for dashboards: activities completed against those planned, and the
budget executed against the budget planned — for an activity, an output, a priority, a plan,
in a year or over all years. An activity counts once for each output or priority it serves;
its money is split among them as its budget is (domain/allocation.py), so the parts add up.

Money is tallied in whole centimes (ints) and turned into Decimal francs once per figure: a
dashboard splits every activity of a plan two or three ways, and Decimal arithmetic per part
was most of its cost."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from planapi.domain.activities import runs_in
from planapi.domain.activity_values import ActivityStatus, AllocationBasis
from planapi.domain.allocation import cents_of as _cents
from planapi.domain.allocation import francs as _francs
from planapi.domain.allocation import split_cents, weighted
from planapi.domain.execution import ActivityExecution
from planapi.domain.nodes import Node

_NOTHING = ActivityExecution()
ZERO = Decimal("0.00")
PriorityOf = Callable[[str], str | None]


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


class _Tally:
    """Figures being added up, money in centimes."""

    __slots__ = ("budget", "completed", "planned", "spent")

    def __init__(self) -> None:
        self.planned = self.completed = self.budget = self.spent = 0

    def figures(self) -> Figures:
        return Figures(self.planned, self.completed, _francs(self.budget), _francs(self.spent))


def status_of(activity: Node, seen: ActivityExecution) -> ActivityStatus:
    """Cancellation and postponement by amendment stand; otherwise what execution recorded."""
    planned = activity.status or ActivityStatus.PLANNED
    if planned in (ActivityStatus.CANCELLED, ActivityStatus.POSTPONED) or seen.status is None:
        return planned
    return seen.status


def _whole(activity: Node, seen: ActivityExecution, year: int | None) -> tuple[int, ...] | None:
    """(planned, completed, budget cents, spent cents); None when it does not run in `year`."""
    if not runs_in(activity, year):
        return None
    status = status_of(activity, seen)
    budget = sum(
        _cents(line.amount) for line in activity.budget if year is None or line.year == year
    )
    spent = sum(_cents(amount) for (y, _), amount in seen.spent.items() if year in (None, y))
    counted = int(status is not ActivityStatus.CANCELLED)
    return counted, int(status is ActivityStatus.COMPLETED), budget, spent


def activity_figures(activity: Node, seen: ActivityExecution, year: int | None) -> Figures:
    whole = _whole(activity, seen, year)
    if whole is None:
        return _NONE
    return Figures(whole[0], whole[1], _francs(whole[2]), _francs(whole[3]))


def _spread(
    whole: tuple[int, ...],
    activity: Node,
    basis: AllocationBasis,
    priority_of: PriorityOf,
    into: dict[str | None, _Tally],
) -> None:
    planned, completed, budget, spent = whole
    keys, weights = weighted(activity, basis, priority_of)
    budgets = split_cents(budget, weights)
    spents = split_cents(spent, weights)
    for key, budget_part, spent_part in zip(keys, budgets, spents, strict=True):
        tally = into.get(key)
        if tally is None:
            tally = into[key] = _Tally()
        tally.planned += planned
        tally.completed += completed
        tally.budget += budget_part
        tally.spent += spent_part


def tally(
    activities: Iterable[Node],
    execution: dict[str, ActivityExecution],
    year: int | None,
    bases: tuple[AllocationBasis, ...],
    priority_of: PriorityOf,
) -> tuple[dict[str, Figures], list[dict[str | None, Figures]]]:
    """In one pass over the activities: each one's figures, and the figures per key of each of
    `bases` (output, priority or region; not SOURCE: an activity's count has no funding
    source), keys in first-seen order, None gathering what serves none of them."""
    per_activity: dict[str, Figures] = {}
    by: list[dict[str | None, _Tally]] = [{} for _ in bases]
    for activity in activities:
        whole = _whole(activity, execution.get(activity.id, _NOTHING), year)
        if whole is None:
            per_activity[activity.id] = _NONE
            continue
        per_activity[activity.id] = Figures(
            whole[0], whole[1], _francs(whole[2]), _francs(whole[3])
        )
        if not any(whole):
            continue  # nothing to add anywhere
        for basis, into in zip(bases, by, strict=True):
            _spread(whole, activity, basis, priority_of, into)
    return per_activity, [{k: t.figures() for k, t in each.items()} for each in by]


def figures_by(
    activities: Iterable[Node],
    execution: dict[str, ActivityExecution],
    year: int | None,
    basis: AllocationBasis,
    priority_of: PriorityOf,
) -> dict[str | None, Figures]:
    """Figures per output, priority or region (`basis`)."""
    return tally(activities, execution, year, (basis,), priority_of)[1][0]
