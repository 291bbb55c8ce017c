"""Implementation figures for dashboards: activities completed against those planned, and the
budget executed against the budget planned — for an activity, an output, a priority, a plan,
in a year or over all years. An activity counts once for each output or priority it serves;
its money is split among them as its budget is (domain/allocation.py), so the parts add up.

Money is tallied in whole centimes (ints) and turned into Decimal francs once per figure: a
dashboard splits every activity of a plan two or three ways, and Decimal arithmetic per part
was most of its cost."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from planapi.domain.activities import runs_in
from planapi.domain.activity_values import ActivityStatus, AllocationBasis
from planapi.domain.allocation import cents_of as _cents
from planapi.domain.allocation import francs as _francs
from planapi.domain.execution import ActivityExecution
from planapi.domain.ledger import Ledger, Resolve
from planapi.domain.nodes import Node

_NOTHING = ActivityExecution()
ZERO = Decimal("0.00")
Whole = tuple[int, int, int, int]  # planned, completed, budget and spent in centimes


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

    def add(self, planned: int, completed: int, budget: int, spent: int) -> None:
        self.planned += planned
        self.completed += completed
        self.budget += budget
        self.spent += spent

    def figures(self) -> Figures:
        return _figures(self.planned, self.completed, self.budget, self.spent)


def status_of(activity: Node, seen: ActivityExecution) -> ActivityStatus:
    """Cancellation and postponement by amendment stand; otherwise what execution recorded."""
    planned = activity.status or ActivityStatus.PLANNED
    if planned in (ActivityStatus.CANCELLED, ActivityStatus.POSTPONED) or seen.status is None:
        return planned
    return seen.status


def _whole(activity: Node, seen: ActivityExecution, year: int | None, budget: int) -> Whole | None:
    """(planned, completed, budget cents, spent cents); None when it does not run in `year`.
    `budget`: its lines of `year` in centimes (`Ledger.budget`)."""
    if not runs_in(activity, year):
        return None
    status = status_of(activity, seen)
    spent = (  # most activities have spent nothing: no generator for them
        sum(_cents(amount) for (y, _), amount in seen.spent.items() if year in (None, y))
        if seen.spent
        else 0
    )
    counted = int(status is not ActivityStatus.CANCELLED)
    return counted, int(status is ActivityStatus.COMPLETED), budget, spent


class Tallied:
    """The figures of a ledger's activities in `year` (None: all years) given what execution
    recorded: each activity's worked out once, in one pass; the total; and the figures per key
    of each basis asked (output, priority, region; not SOURCE: an activity's count has no
    funding source), each basis in one more pass when first asked, keys in first-seen order,
    None gathering what serves none of them."""

    __slots__ = ("_by", "_ledger", "_wholes", "_year", "total")

    def __init__(
        self, ledger: Ledger, execution: Mapping[str, ActivityExecution], year: int | None
    ) -> None:
        self._ledger, self._year = ledger, year
        self._by: dict[tuple[AllocationBasis, Resolve], dict[str | None, Figures]] = {}
        self._wholes: list[Whole | None] = []
        total = _Tally()
        for activity, budget in zip(ledger.activities, ledger.budget(year), strict=True):
            whole = _whole(activity, execution.get(activity.id, _NOTHING), year, budget or 0)
            self._wholes.append(whole)
            if whole is not None:
                total.add(*whole)
        self.total = total.figures()

    def activities(self) -> dict[str, Figures]:
        """Each activity's figures, by id."""
        return {
            activity.id: _NONE if whole is None else _figures(*whole)
            for activity, whole in zip(self._ledger.activities, self._wholes, strict=True)
        }

    def by(self, basis: AllocationBasis, resolve: Resolve) -> dict[str | None, Figures]:
        """The figures per key of `basis`, each activity counted whole for every key it is split
        among, its money split as `Plan.budget` splits it (domain/allocation.py)."""
        found = self._by.get((basis, resolve))
        if found is None:
            found = self._by[(basis, resolve)] = self._spread(basis, resolve)
        return found

    def _spread(self, basis: AllocationBasis, resolve: Resolve) -> dict[str | None, Figures]:
        into: dict[str | None, list[int]] = {}  # planned, completed, budget, spent
        ledger = self._ledger
        splits = ledger.splits(basis, resolve)
        budgets = ledger.parts(self._year, basis, resolve)  # split as Plan.budget splits
        for whole, split, budget_parts in zip(self._wholes, splits, budgets, strict=True):
            if whole is None or not any(whole):
                continue  # nothing to add anywhere
            planned, completed, _, spent = whole
            spent_parts = split.parts(spent)
            for i, key in enumerate(split.keys):
                tally = into.get(key)
                if tally is None:
                    tally = into[key] = [0, 0, 0, 0]
                tally[0] += planned
                tally[1] += completed
                tally[2] += budget_parts[i] if budget_parts is not None else 0
                tally[3] += spent_parts[i]
        return {key: _figures(*tally) for key, tally in into.items()}


def _figures(planned: int, completed: int, budget: int, spent: int) -> Figures:
    return Figures(planned, completed, _francs(budget), _francs(spent))


def tally(
    activities: Iterable[Node],
    execution: Mapping[str, ActivityExecution],
    year: int | None,
    bases: tuple[AllocationBasis, ...],
    resolve: Resolve,
) -> tuple[dict[str, Figures], list[dict[str | None, Figures]]]:
    """Each activity's figures, and the figures per key of each of `bases` (`Tallied`)."""
    found = Tallied(Ledger(activities), execution, year)
    return found.activities(), [found.by(basis, resolve) for basis in bases]
