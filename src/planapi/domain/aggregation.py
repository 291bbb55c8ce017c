"""Aggregates of a KPI's country readings by region or group (ITU-D regions, M49, LDC…).

What may be aggregated depends on what the KPI measures: counts (UNIT) add up; percentages and
ratios are means weighted by another KPI's readings for the same countries and period (its
population, its households), which the plan declares with a WEIGHTED_BY link from the KPI. An
unweighted mean of percentages would let Tuvalu count as much as India, so it is refused, as is
anything qualitative: each refusal says why.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from planapi.domain.code_lists import ISO_3166, CodeList
from planapi.domain.nodes import Measure, Node
from planapi.domain.periods import Period
from planapi.domain.readings import ReadingVersion, series_key


class AggregationMethod(enum.Enum):
    SUM = "SUM"
    WEIGHTED_MEAN = "WEIGHTED_MEAN"


@dataclass(frozen=True, slots=True)
class GroupValue:
    """One group's aggregate: `value` over the `reporting` members (None: none reported);
    `missing` are members on the period's last day without a reading (or without a weight)."""

    code: str
    name: str
    value: Decimal | None
    reporting: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Aggregate:
    grouping: str
    dimension: str
    period: str
    method: AggregationMethod
    weight_kpi_id: str | None
    groups: tuple[GroupValue, ...]


class AggregationRefusedError(Exception):
    """The KPI's measure or definition does not allow the aggregate asked for; `reason` says
    why, in words a front-end can show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def country_dimension(kpi: Node, dimension: str | None) -> str:
    """The KPI's dimension bound to ISO 3166 (the one named, or the only one)."""
    bound = [d.name for d in kpi.dimensions if d.code_list == ISO_3166]
    if dimension is not None:
        if dimension not in bound:
            raise AggregationRefusedError(
                f"KPI {kpi.id} has no dimension {dimension!r} bound to {ISO_3166}"
            )
        return dimension
    if len(bound) != 1:
        raise AggregationRefusedError(
            f"KPI {kpi.id} has {len(bound)} dimensions bound to {ISO_3166}: name one"
            if bound
            else f"KPI {kpi.id} has no dimension bound to {ISO_3166}: its readings name no country"
        )
    return bound[0]


def method_for(kpi: Node, weight_kpi_id: str | None) -> AggregationMethod:
    if kpi.measure is Measure.UNIT:
        return AggregationMethod.SUM
    if kpi.measure in (Measure.PERCENTAGE, Measure.RATIO):
        if weight_kpi_id is None:
            raise AggregationRefusedError(
                f"KPI {kpi.id} measures a {kpi.measure.value.lower()}: countries are averaged "
                "only weighted, and the plan links it WEIGHTED_BY no KPI"
            )
        return AggregationMethod.WEIGHTED_MEAN
    measure = kpi.measure.value.lower() if kpi.measure else "no declared measure"
    raise AggregationRefusedError(f"KPI {kpi.id} has {measure}: its readings do not add up")


def country_values(
    versions: Iterable[ReadingVersion], dimension: str, period: Period
) -> dict[str, Decimal]:
    """The current value per country of the series disaggregated by the country alone."""
    prefix = series_key([(dimension, "")])
    found: dict[str, Decimal] = {}
    for version in versions:
        reading = version.reading
        if not version.is_current or reading.period != period.id or reading.value is None:
            continue
        if reading.series.startswith(prefix) and ";" not in reading.series:
            found[reading.series[len(prefix) :]] = reading.value
    return found


def aggregate(
    grouping: CodeList,
    method: AggregationMethod,
    values: Mapping[str, Decimal],
    weights: Mapping[str, Decimal],
    period: Period,
) -> tuple[GroupValue, ...]:
    """Each group of `grouping`, with its members as of the period's last day."""
    if grouping.kind != "GROUPING":
        raise AggregationRefusedError(f"{grouping.id} groups no countries: it is a list of codes")
    out = []
    for group in grouping.codes_on(period.end):
        members = group.members_on(period.end)
        if method is AggregationMethod.SUM:
            reporting = [c for c in members if c in values]
            total = sum((values[c] for c in reporting), Decimal(0)) if reporting else None
        else:
            reporting = [c for c in members if c in values and weights.get(c, 0) > 0]
            total = _weighted_mean(reporting, values, weights)
        missing = tuple(c for c in members if c not in reporting)
        out.append(GroupValue(group.id, group.name, total, tuple(reporting), missing))
    return tuple(out)


def _weighted_mean(
    reporting: list[str], values: Mapping[str, Decimal], weights: Mapping[str, Decimal]
) -> Decimal | None:
    if not reporting:
        return None
    weight = sum((weights[c] for c in reporting), Decimal(0))
    return sum((values[c] * weights[c] for c in reporting), Decimal(0)) / weight
