"""Budget breakdowns: an activity serving several outputs, priorities or regions splits each
budget line among them by weight (explicit shares, 1 for each without one), rounded to the
centime by largest remainder, so every breakdown adds up exactly to the total.

Largest remainder (Hamilton's method): give each its floor in centimes, then one more centime to
those with the largest remainders until the line is spent; ties go to the earlier key, so the
split is the same every time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from planapi.domain.activity_values import AllocationBasis, BudgetLine
from planapi.domain.nodes import Node

CENTIME = Decimal("0.01")
UNALLOCATED = None  # the key of what an activity serves nothing of the basis for


def split(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`amount` (to the centime) in parts proportional to `weights` (positive), to the
    centime, adding up to `amount` exactly."""
    cents = int(amount.quantize(CENTIME) * 100)
    total = sum((Fraction(w) for w in weights), Fraction(0))
    exact = [Fraction(cents) * Fraction(w) / total for w in weights]
    floors = [int(part // 1) for part in exact]
    left = cents - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return [Decimal(each) / 100 for each in floors]


@dataclass(frozen=True, slots=True)
class Allocated:
    key: str | None  # a node id, a funding source or a region; None: unallocated
    amount: Decimal


def keys_of(
    activity: Node, basis: AllocationBasis, priority_of: Callable[[str], str | None]
) -> list[str]:
    """What `activity`'s budget is split among for `basis`, each once, in its order."""
    if basis is AllocationBasis.OUTPUT:
        found: Iterable[str | None] = activity.output_ids
    elif basis is AllocationBasis.REGION:
        found = (region.value for region in activity.regions)
    else:
        found = (priority_of(node_id) for node_id in activity.serves_ids)
    return list(dict.fromkeys(key for key in found if key is not None))


def allocate(
    activity: Node,
    lines: Iterable[BudgetLine],
    basis: AllocationBasis,
    priority_of: Callable[[str], str | None],
) -> list[Allocated]:
    """`activity`'s budget `lines` split by `basis`, one entry per line and key."""
    if basis is AllocationBasis.SOURCE:
        return [Allocated(line.source.value, line.amount) for line in lines]
    keys = keys_of(activity, basis, priority_of)
    if not keys:
        return [Allocated(UNALLOCATED, line.amount) for line in lines]
    explicit = {share.key: share.weight for share in activity.shares}
    weights = [explicit.get(key, Decimal(1)) for key in keys]
    out: list[Allocated] = []
    for line in lines:
        out += [
            Allocated(k, part) for k, part in zip(keys, split(line.amount, weights), strict=True)
        ]
    return out


def breakdown(
    activities: Iterable[Node],
    year: int | None,
    basis: AllocationBasis,
    priority_of: Callable[[str], str | None],
) -> tuple[Decimal, dict[str | None, Decimal]]:
    """The total of the activities' budget lines (of `year`, or all) and its breakdown by
    `basis`, keys in first-seen order; the amounts add up exactly to the total."""
    total = Decimal("0.00")
    by_key: dict[str | None, Decimal] = {}
    for activity in activities:
        lines = [line for line in activity.budget if year is None or line.year == year]
        total += sum((line.amount for line in lines), Decimal("0.00"))
        for each in allocate(activity, lines, basis, priority_of):
            by_key[each.key] = by_key.get(each.key, Decimal("0.00")) + each.amount
    return total, by_key
