"""An operational plan's activities made ready once for every budget figure a request asks of
them: each one's budget of a year in whole centimes (its lines' Decimal amounts converted once,
not once per breakdown), and per basis the keys it is split among with their weights as whole
numbers (resolved once, not once per breakdown). A dashboard asks the same 500 activities for the
budget by priority, by source, and the implementation figures by output, priority and outcome:
each question is then a loop of integer arithmetic over what is ready.

A ledger is made per request (api/types/context.py) and dropped with it: it keeps nothing beyond
the versions the request read."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from decimal import Decimal
from operator import attrgetter
from typing import Any

from planapi.domain.activity_values import AllocationBasis
from planapi.domain.allocation import (
    UNALLOCATED,
    cents_of,
    equal_cents,
    francs,
    keys_of,
    split_whole,
    weighted,
    whole_weights,
)
from planapi.domain.nodes import Node, NodeKind
from planapi.domain.plan import PlanState

# Node id of the action plan → what it counts for (a priority, an outcome), None for nothing.
# Hashable: a ledger keeps the splits it resolved by basis and resolver.
Resolve = Callable[[str], str | None]


class Split:
    """What one activity's money is split among for a basis: the keys, and their weights as
    whole numbers with their sum (None: equal shares, the usual case). A plain slotted class:
    one is made per activity and basis on every cold read."""

    __slots__ = ("keys", "total", "weights")

    def __init__(
        self, keys: tuple[str | None, ...], weights: tuple[int, ...] | None, total: int
    ) -> None:
        self.keys, self.weights, self.total = keys, weights, total

    def parts(self, cents: int) -> Sequence[int]:
        """`cents` split among the keys by largest remainder (`allocation.split_cents`)."""
        count = len(self.keys)
        if count == 1 or not cents:
            return (cents,) if count == 1 else (0,) * count
        if self.weights is None:
            return equal_cents(cents, count)
        return split_whole(cents, self.weights, self.total)


def split_of(activity: Node, basis: AllocationBasis, resolve: Resolve) -> Split:
    if not activity.shares:  # equal shares: no weights to read
        keys = keys_of(activity, basis, resolve)
        return Split(tuple(keys), None, len(keys)) if keys else _UNALLOCATED
    found, weights = weighted(activity, basis, resolve)
    if all(weight == 1 for weight in weights):
        return Split(tuple(found), None, len(found))
    whole = whole_weights(weights)
    return Split(tuple(found), tuple(whole), sum(whole))


_UNALLOCATED = Split((UNALLOCATED,), None, 1)


class Ledger:
    """`activities` (of one plan version, or of several plans for an action plan's budget), in
    their order; figures keep first-seen key order, as the activities give it."""

    __slots__ = ("_budgets", "_parts", "_splits", "activities")

    def __init__(self, activities: Iterable[Node]) -> None:
        self.activities: tuple[Node, ...] = tuple(activities)
        self._budgets: dict[int | None, list[int | None]] = {}
        self._splits: dict[tuple[AllocationBasis, Hashable], list[Split]] = {}
        self._parts: dict[tuple[int | None, AllocationBasis, Hashable], list[Any]] = {}

    def budget(self, year: int | None) -> list[int | None]:
        """Each activity's budget lines of `year` (None: all years) summed in centimes; None
        for an activity with no line then (which a breakdown leaves out)."""
        found = self._budgets.get(year)
        if found is None:
            found = self._budgets[year] = [_cents_in(node, year) for node in self.activities]
        return found

    def splits(self, basis: AllocationBasis, resolve: Resolve) -> list[Split]:
        """Each activity's split for `basis` (not SOURCE: that splits no line)."""
        key = (basis, resolve if basis is AllocationBasis.PRIORITY else None)
        found = self._splits.get(key)
        if found is None:
            found = self._splits[key] = _splits(self.activities, basis, resolve)
        return found

    def parts(
        self, year: int | None, basis: AllocationBasis, resolve: Resolve
    ) -> list[Sequence[int] | None]:
        """Each activity's budget of `year` split by `basis` (`Split.parts`), once however
        many fields ask (a budget by priority and the priorities' figures split the same);
        None for an activity with no line then."""
        key = (year, basis, resolve if basis is AllocationBasis.PRIORITY else None)
        found = self._parts.get(key)
        if found is None:
            found = self._parts[key] = [
                None if cents is None else split.parts(cents)
                for cents, split in zip(self.budget(year), self.splits(basis, resolve), strict=True)
            ]
        return found

    def breakdown(
        self, year: int | None, basis: AllocationBasis, resolve: Resolve
    ) -> tuple[int, dict[str | None, int]]:
        """The total of the activities' lines of `year` (None: all) and its parts by `basis`,
        in centimes, keys in first-seen order; the parts add up to the total."""
        if basis is AllocationBasis.SOURCE:
            return self._by_source(year)
        total = 0
        by_key: dict[str | None, int] = {}
        splits = self.splits(basis, resolve)
        for cents, split, parts in zip(
            self.budget(year), splits, self.parts(year, basis, resolve), strict=True
        ):
            if cents is None or parts is None:
                continue
            total += cents
            for key, part in zip(split.keys, parts, strict=True):
                by_key[key] = by_key.get(key, 0) + part
        return total, by_key

    def _by_source(self, year: int | None) -> tuple[int, dict[str | None, int]]:
        total = 0
        by_source: dict[str | None, int] = {}
        for node in self.activities:
            for line in node.budget:
                if year is None or line.year == year:
                    cents = cents_of(line.amount)
                    total += cents
                    # `_value_`, not `value`: a plain attribute, where `value` is a property
                    # and hashing the member a call into Python — per line of 4,000.
                    source = line.source._value_
                    by_source[source] = by_source.get(source, 0) + cents
        return total, by_source


# What an activity's split for a basis depends on.
_SERVED = attrgetter("serves_ids", "shares")
_SPLIT_BY = {
    AllocationBasis.OUTPUT: attrgetter("output_ids", "shares"),
    AllocationBasis.REGION: attrgetter("regions", "shares"),
}


def _splits(activities: Iterable[Node], basis: AllocationBasis, resolve: Resolve) -> list[Split]:
    """Each activity's split, made once per distinct (ids, shares): a split depends on nothing
    else, and activities serve the same few outputs, priorities and regions."""
    each = resolve.lookup() if isinstance(resolve, Served) else resolve
    key_of = _SPLIT_BY.get(basis, _SERVED)  # one C call an activity
    made: dict[tuple[object, ...], Split] = {}
    found: list[Split] = []
    for node in activities:
        key = key_of(node)
        split = made.get(key)
        if split is None:
            split = made[key] = split_of(node, basis, each)
        found.append(split)
    return found


def _cents_in(activity: Node, year: int | None) -> int | None:
    found = None
    for line in activity.budget:
        if year is None or line.year == year:
            found = (found or 0) + cents_of(line.amount)
    return found


class Served:
    """What the ids an activity serves count for in `action` (its action plan, or None): the
    priority each belongs to (itself, or an outcome's parent), or with `outcomes` the outcome
    it is; None for anything else. Equal for the same version of the same plan, so a ledger
    resolves each activity's split once however many fields ask."""

    __slots__ = ("_table", "action", "outcomes")

    def __init__(self, action: PlanState | None, outcomes: bool = False) -> None:
        self.action = action
        self.outcomes = outcomes
        self._table: dict[str, str] | None = None

    def __call__(self, node_id: str) -> str | None:
        return self.lookup()(node_id)

    def lookup(self) -> Resolve:
        """This resolver as one C call per id (`dict.get` of a table made once): a ledger
        resolves every id each of 500 activities serves."""
        table = self._table
        if table is None:
            table = self._table = self._every()
        return table.get

    def _every(self) -> dict[str, str]:
        action = self.action
        if action is None:
            return {}
        nodes = action.nodes
        if self.outcomes:
            return {node.id: node.id for node in nodes.values() if node.kind is NodeKind.OUTCOME}
        # Through the children index: a priority's children, not every node's parent.
        priorities = [node.id for node in nodes.values() if node.kind is NodeKind.PRIORITY]
        table = {
            child: priority
            for priority in priorities
            for child in action.children.get(priority, ())
        }
        table.update((priority, priority) for priority in priorities)  # a priority is its own
        return table

    def _identity(self) -> tuple[object, ...]:
        action = self.action
        return (action.id, action.version, self.outcomes) if action else (None, self.outcomes)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Served) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())


def breakdown(
    activities: Iterable[Node], year: int | None, basis: AllocationBasis, resolve: Resolve
) -> tuple[Decimal, dict[str | None, Decimal]]:
    """The total of the activities' budget lines (of `year`, or all) and its breakdown by
    `basis`, keys in first-seen order, in francs; the amounts add up exactly to the total.
    Each activity's lines of the year are split once, as their sum (the same keys and weights
    for all), or by line for SOURCE."""
    total, by_key = Ledger(activities).breakdown(year, basis, resolve)
    return francs(total), {key: francs(cents) for key, cents in by_key.items()}
