"""A KPI's range, and the values that must fit it: its baseline, its targets and its readings.

A KPI may declare `minimum` and `maximum`; a PERCENTAGE is 0 to 100 unless it declares otherwise
(a rate such as "per 100 inhabitants" is a UNIT or RATIO measure, not a percentage: it may
exceed 100). Only what a change gives is checked: a value stored before a rule existed still
folds and reads, and an amendment that leaves it alone is not refused for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from planapi.domain.errors import Problem
from planapi.domain.nodes import Measure, Node, NodeKind

PERCENT_RANGE = (Decimal(0), Decimal(100))
# Fields whose change moves the range itself: every value is checked against the new one.
_RANGE_FIELDS = ("minimum", "maximum", "measure")

Path = tuple[str | int, ...]


def kpi_range(kpi: Node) -> tuple[Decimal | None, Decimal | None]:
    low, high = kpi.minimum, kpi.maximum
    if kpi.measure is Measure.PERCENTAGE:
        low = PERCENT_RANGE[0] if low is None else low
        high = PERCENT_RANGE[1] if high is None else high
    return low, high


def outside(kpi: Node, value: Decimal) -> str | None:
    """Why `value` does not fit the KPI's range (None: it fits)."""
    if kpi.measure is Measure.QUALITATIVE or not value.is_finite():
        return None
    low, high = kpi_range(kpi)
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    if low is not None and high is not None:
        shown = f"from {_plain(low)} to {_plain(high)}"
    else:
        shown = f"at least {_plain(low)}" if low is not None else f"at most {_plain(high)}"
    why = " (a percentage)" if kpi.measure is Measure.PERCENTAGE else ""
    return f"{_plain(value)} is outside KPI {kpi.id}'s range, {shown}{why}"


def _plain(number: Decimal | None) -> str:
    """1.8E+2 as 180: people read plain numbers."""
    return f"{number.normalize():f}" if number is not None else ""


def range_problems(kpi: Node, given: Iterable[str], path: Path) -> list[Problem]:
    """What an add or update of `kpi` (now as it would stand) gave that does not fit."""
    if kpi.kind is not NodeKind.KPI:
        return []
    given = set(given)
    low, high = kpi.minimum, kpi.maximum
    if low is not None and high is not None and low > high and given & {"minimum", "maximum"}:
        field = "minimum" if "minimum" in given else "maximum"
        return [Problem((*path, field), f"minimum {low} is above maximum {high}")]
    moved = [name for name in _RANGE_FIELDS if name in given]
    problems: list[Problem] = []
    if kpi.baseline is not None and ("baseline" in given or moved):
        where = (*path, "baseline", "value") if "baseline" in given else (*path, moved[0])
        problems += _fits(kpi, kpi.baseline.value, where, "baseline")
    if "targets" in given or moved:
        for i, target in enumerate(kpi.targets):
            where = (*path, "targets", i, "value") if "targets" in given else (*path, moved[0])
            problems += _fits(kpi, target.value, where, f"target {target.period}")
    return problems


def _fits(kpi: Node, value: Decimal, path: Path, what: str) -> list[Problem]:
    why = outside(kpi, value)
    return [] if why is None else [Problem(path, f"{what}: {why}")]
