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

from planapi.domain.activity_values import AllocationBasis, BudgetLine
from planapi.domain.nodes import Node

CENTIME = Decimal("0.01")
UNALLOCATED = None  # the key of what an activity serves nothing of the basis for
_ONE = Decimal(1)


def split(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`amount` (to the centime) in parts proportional to `weights` (positive), to the
    centime, adding up to `amount` exactly."""
    cents = int(amount.quantize(CENTIME) * 100)
    return [Decimal(part).scaleb(-2) for part in split_cents(cents, weights)]


def split_cents(cents: int, weights: Sequence[Decimal]) -> list[int]:
    """`split` in whole centimes. Integer arithmetic throughout: the weights are scaled to
    whole numbers, so each exact share is `cents·w / W` with an integer remainder."""
    if len(weights) == 1 or not cents:
        return [cents if i == 0 else 0 for i in range(len(weights))]
    if all(w == 1 for w in weights):
        return equal_cents(cents, len(weights))
    whole = whole_weights(weights)
    return split_whole(cents, whole, sum(whole))


def equal_cents(cents: int, count: int) -> list[int]:
    """`cents` in `count` equal shares, the default: every remainder is the same, so the
    centimes left over go to the first keys. What `split_whole` gives, without sorting."""
    share, left = divmod(cents, count)
    return [share + 1 if i < left else share for i in range(count)]


def whole_weights(weights: Sequence[Decimal]) -> list[int]:
    """`weights` scaled by one power of ten to whole numbers, in the same proportions."""
    scale = max(0, *(-w.as_tuple().exponent for w in weights))  # type: ignore[operator]
    return [int(w.scaleb(scale)) for w in weights]


def split_whole(cents: int, whole: Sequence[int], total: int) -> list[int]:
    """`cents` split by the whole-number weights `whole` (their sum: `total`): each its floor,
    then a centime more to the largest remainders, ties to the earlier."""
    shares = [divmod(cents * w, total) for w in whole]
    parts = [floor for floor, _ in shares]
    left = cents - sum(parts)
    if left:
        by_remainder = sorted(range(len(shares)), key=lambda i: (-shares[i][1], i))
        for i in by_remainder[:left]:
            parts[i] += 1
    return parts


@dataclass(frozen=True, slots=True)
class Allocated:
    key: str | None  # a node id, a funding source or a region; None: unallocated
    amount: Decimal


def keys_of(
    activity: Node, basis: AllocationBasis, priority_of: Callable[[str], str | None]
) -> list[str]:
    """What `activity`'s budget is split among for `basis`, each once, in its order."""
    found: Iterable[str | None]
    if basis is AllocationBasis.OUTPUT:
        found = activity.output_ids
    elif basis is AllocationBasis.REGION:
        found = [region.value for region in activity.regions]
    else:
        found = [priority_of(node_id) for node_id in activity.serves_ids]
    keys = list(dict.fromkeys(found))  # each once, in order: one C call
    if None in keys:
        keys.remove(None)
    return keys  # type: ignore[return-value]


def weighted(
    activity: Node, basis: AllocationBasis, priority_of: Callable[[str], str | None]
) -> tuple[list[str | None], list[Decimal]]:
    """The keys `activity`'s budget is split among for `basis` and their weights (explicit
    shares, 1 for each without one); no key: one unallocated part."""
    keys = keys_of(activity, basis, priority_of)
    if not keys:
        return [UNALLOCATED], [_ONE]
    if not activity.shares:
        return list(keys), [_ONE] * len(keys)
    explicit = {share.key: share.weight for share in activity.shares}
    return list(keys), [explicit.get(key, _ONE) for key in keys]


def allocate(
    activity: Node,
    lines: Iterable[BudgetLine],
    basis: AllocationBasis,
    priority_of: Callable[[str], str | None],
) -> list[Allocated]:
    """`activity`'s budget `lines` split by `basis`, one entry per line and key."""
    if basis is AllocationBasis.SOURCE:
        return [Allocated(line.source.value, line.amount) for line in lines]
    keys, weights = weighted(activity, basis, priority_of)
    out: list[Allocated] = []
    for line in lines:
        out += [
            Allocated(k, part) for k, part in zip(keys, split(line.amount, weights), strict=True)
        ]
    return out


def cents_of(amount: Decimal) -> int:
    """`amount` in whole centimes (rounded to the centime, if it ever was not)."""
    # As an exact fraction: one C call, where scaling and comparing Decimals took four.
    numerator, denominator = amount.as_integer_ratio()
    cents, rest = divmod(numerator * 100, denominator)
    if not rest:  # to the centime, as checked when recorded
        return cents
    return int(amount.quantize(CENTIME).scaleb(2))


def francs(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2) if cents else Decimal("0.00")
