"""Is a KPI on track? Its latest readings against its targets, given the direction it should go."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from planapi.domain.nodes import Direction, Node
from planapi.domain.periods import Period, parse_period

# How far a MAINTAIN KPI may drift from its target and still count as on track.
MAINTAIN_TOLERANCE = Decimal("0.05")


@dataclass(frozen=True, slots=True)
class Observation:
    period: Period
    value: Decimal


@dataclass(frozen=True, slots=True)
class TargetProgress:
    period: str
    target: Decimal
    latest: Observation | None
    # What the KPI should have reached by `latest`'s period on a straight line from the baseline.
    expected: Decimal | None
    on_track: bool | None
    achieved: bool


def assess(kpi: Node, observations: Sequence[Observation]) -> list[TargetProgress]:
    """One entry per target, in period order. `observations` are current readings of the total
    series (no disaggregation)."""
    baseline = _observation(kpi.baseline.period, kpi.baseline.value) if kpi.baseline else None
    direction = kpi.direction or Direction.INCREASE
    out: list[TargetProgress] = []
    for target in sorted(kpi.targets, key=lambda t: parse_period(t.period).end):
        period = parse_period(target.period)
        latest = _latest_by(observations, period.end)
        if latest is None:
            out.append(TargetProgress(target.period, target.value, None, None, None, False))
            continue
        reached = latest.period.end >= period.end
        expected = (
            target.value
            if reached or baseline is None
            else _interpolate(baseline, Observation(period, target.value), latest.period.end)
        )
        achieved = reached and _meets(direction, latest.value, target.value)
        out.append(
            TargetProgress(
                period=target.period,
                target=target.value,
                latest=latest,
                expected=expected,
                on_track=_meets(direction, latest.value, expected),
                achieved=achieved,
            )
        )
    return out


def _observation(period: str, value: Decimal) -> Observation:
    return Observation(parse_period(period), value)


def _latest_by(observations: Sequence[Observation], end: dt.date) -> Observation | None:
    eligible = [o for o in observations if o.period.end <= end]
    return max(eligible, key=lambda o: (o.period.end, o.period.start), default=None)


def _interpolate(start: Observation, goal: Observation, when: dt.date) -> Decimal:
    span = (goal.period.end - start.period.end).days
    if span <= 0:
        return goal.value
    elapsed = min(max((when - start.period.end).days, 0), span)
    exact = start.value + (goal.value - start.value) * Decimal(elapsed) / Decimal(span)
    # Two more decimals than the figures it lies between: enough to compare, short to read.
    places = max(-_exponent(start.value), -_exponent(goal.value), 0) + 2
    return exact.quantize(Decimal(1).scaleb(-places))


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def _meets(direction: Direction, actual: Decimal, wanted: Decimal) -> bool:
    match direction:
        case Direction.INCREASE:
            return actual >= wanted
        case Direction.DECREASE:
            return actual <= wanted
        case Direction.MAINTAIN:
            return abs(actual - wanted) <= abs(wanted) * MAINTAIN_TOLERANCE
