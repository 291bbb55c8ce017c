"""`Kpi.aggregate(by:, period:)`: a KPI's country readings summed or weighted-averaged by
region or group, or the reason it cannot be (its own types: an aggregate is not a reading)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from planapi.api.types.context import Context
from planapi.api.types.errors import UserError
from planapi.domain import aggregation
from planapi.domain.aggregation import AggregationMethod, AggregationRefusedError
from planapi.domain.code_lists import code_list, code_lists
from planapi.domain.errors import PeriodError
from planapi.domain.links import LinkRelation
from planapi.domain.nodes import Node
from planapi.domain.periods import Period, parse_period
from planapi.domain.plan import PlanState
from planapi.domain.readings import ReadingQuery

Info = strawberry.Info[Context, None]
strawberry.enum(AggregationMethod, name="AggregationMethod")


@strawberry.type(description="One region's or group's aggregate of its member states' readings.")
class GroupAggregate:
    code: str
    name: str
    value: Decimal | None = strawberry.field(description="Null: no member reported.")
    reporting: list[str] = strawberry.field(
        description="Members (ISO 3166-1 alpha-3) whose readings (and weights) it covers."
    )
    missing: list[str] = strawberry.field(
        description="Members on the period's last day without a reading (or a weight)."
    )

    @classmethod
    def of(cls, found: aggregation.GroupValue) -> GroupAggregate:
        return cls(
            code=found.code,
            name=found.name,
            value=found.value,
            reporting=list(found.reporting),
            missing=list(found.missing),
        )


@strawberry.type(description="A KPI's country readings for one period, by region or group.")
class KpiAggregate:
    by: strawberry.ID = strawberry.field(description="The grouping code list.")
    dimension: str = strawberry.field(description="The KPI's dimension naming the country.")
    period: str
    method: AggregationMethod
    weighted_by: strawberry.ID | None = strawberry.field(
        description="The KPI whose readings weigh each country (WEIGHTED_BY link)."
    )
    groups: list[GroupAggregate]


@strawberry.type(description="The KPI's measure or definition allows no such aggregate.")
class AggregationRefused(UserError):
    reason: str


KpiAggregateResult = Annotated[
    KpiAggregate | AggregationRefused, strawberry.union("KpiAggregateResult")
]


async def kpi_aggregate(
    info: Info, state: PlanState, kpi: Node, by: str, period: str, dimension: str | None
) -> KpiAggregate | AggregationRefused:
    try:
        return await _aggregate(info, state, kpi, by, period, dimension)
    except AggregationRefusedError as refused:
        return AggregationRefused(message=refused.reason, reason=refused.reason)


async def _aggregate(
    info: Info, state: PlanState, kpi: Node, by: str, period_id: str, dimension: str | None
) -> KpiAggregate:
    grouping = code_list(by)
    if grouping is None:
        known = ", ".join(c.id for c in code_lists().values() if c.kind == "GROUPING")
        raise AggregationRefusedError(f"no code list {by!r}; the groupings are {known}")
    try:
        period = parse_period(period_id)
    except PeriodError as error:
        raise AggregationRefusedError(str(error)) from error
    weights_by = state.linked_to(kpi.id, LinkRelation.WEIGHTED_BY)
    if len(weights_by) > 1:
        raise AggregationRefusedError(f"KPI {kpi.id} is WEIGHTED_BY {len(weights_by)} KPIs")
    weight_kpi = weights_by[0] if weights_by else None
    method = aggregation.method_for(kpi, weight_kpi.id if weight_kpi else None)
    country = aggregation.country_dimension(kpi, dimension)
    values = await _values(info, state.id, kpi, period, country)
    weights: dict[str, Decimal] = {}
    if method is AggregationMethod.WEIGHTED_MEAN and weight_kpi is not None:
        weight_dimension = aggregation.country_dimension(weight_kpi, None)
        weights = await _values(info, state.id, weight_kpi, period, weight_dimension)
    groups = aggregation.aggregate(grouping, method, values, weights, period)
    return KpiAggregate(
        by=strawberry.ID(grouping.id),
        dimension=country,
        period=period.id,
        method=method,
        weighted_by=strawberry.ID(weight_kpi.id) if weight_kpi else None,
        groups=[GroupAggregate.of(group) for group in groups],
    )


async def _values(
    info: Info, plan_id: str, kpi: Node, period: Period, dimension: str
) -> dict[str, Decimal]:
    query = ReadingQuery(from_period=period, to_period=period)
    found = await info.context.reading_loader.load((plan_id, kpi.id, query))
    return aggregation.country_values(found, dimension, period)
