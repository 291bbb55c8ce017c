"""The KPI node: its definition, and its readings, their pages, the latest and the progress."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from planapi.api.types import dashboard as dash
from planapi.api.types.aggregates import KpiAggregateResult, kpi_aggregate
from planapi.api.types.context import Context
from planapi.api.types.errors import bad_input
from planapi.api.types.kpi_range import KpiRange
from planapi.api.types.node_values import KpiDimension, PeriodValue
from planapi.api.types.nodes import NODE_FIELDS, PlanNode, node_type
from planapi.api.types.readings import (
    DimensionValueInput,
    KpiProgress,
    Reading,
    ReadingConnection,
    pairs,
    reading_page,
)
from planapi.api.types.views import node_view
from planapi.domain import bounds
from planapi.domain.errors import PeriodError, Problem, ValidationError
from planapi.domain.nodes import Direction, Measure, NodeKind
from planapi.domain.periods import Period, PeriodType, parse_period
from planapi.domain.readings import ReadingQuery

DEFAULT_READINGS = 100
MAX_READINGS = 10_000


@node_type(NodeKind.KPI)
@strawberry.type(description="A key performance indicator and its definition.")
class Kpi(KpiRange, PlanNode):
    @strawberry.field
    def unit(self) -> str | None:
        return self.node.unit

    @strawberry.field
    def measure(self) -> Measure | None:
        return self.node.measure

    @strawberry.field
    def direction(self) -> Direction | None:
        return self.node.direction

    @strawberry.field
    def baseline(self) -> PeriodValue | None:
        return PeriodValue.of(self.node.baseline) if self.node.baseline else None

    @strawberry.field
    def targets(self) -> list[PeriodValue]:
        return [PeriodValue.of(target) for target in self.node.targets]

    @strawberry.field
    def dimensions(self) -> list[KpiDimension]:
        return [KpiDimension.of(dimension) for dimension in self.node.dimensions]

    @strawberry.field(description="Period types readings may use; empty: any.")
    def period_types(self) -> list[PeriodType]:
        return list(self.node.period_types)

    @strawberry.field(
        description="Readings of this KPI: the current one per series and period, or those "
        "known at `asOf` (transaction time); `includeSuperseded` adds the ones later corrected. "
        "`from`/`to` bound the periods; `disaggregation` picks one series ([] = the total). "
        f"At most `limit` (≤ {MAX_READINGS:,}) readings: when more match, the field is an error "
        "(BAD_USER_INPUT) rather than a silent cut — narrow the periods, raise `limit`, or "
        "page through `readingsPage`."
    )
    async def readings(
        self,
        info: strawberry.Info[Context, None],
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        to: str | None = None,
        disaggregation: list[DimensionValueInput] | None = None,
        as_of: dt.datetime | None = None,
        include_superseded: bool = False,
        limit: int = DEFAULT_READINGS,
    ) -> list[Reading]:
        _page_size("limit", limit)
        query = reading_query(from_, to, disaggregation, as_of, include_superseded)
        found = await info.context.reading_loader.load((self.plan.id, self.node.id, query))
        if len(found) > limit:
            message = (
                f"{len(found):,} readings match, more than limit {limit:,}: narrow from/to "
                "or raise the limit"
            )
            raise bad_input(ValidationError([Problem(("limit",), message)]))
        return [Reading(version=version) for version in found]

    @strawberry.field(
        description="The readings `readings` gives, a page at a time: `first` of them (≤ "
        f"{MAX_READINGS:,}) after the cursor `after` (a page's `endCursor`). A cursor marks a "
        "place in the series' order, so readings recorded between two pages are neither "
        "repeated nor skipped among those already passed."
    )
    async def readings_page(
        self,
        info: strawberry.Info[Context, None],
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        to: str | None = None,
        disaggregation: list[DimensionValueInput] | None = None,
        as_of: dt.datetime | None = None,
        include_superseded: bool = False,
        first: int = DEFAULT_READINGS,
        after: str | None = None,
    ) -> ReadingConnection:
        _page_size("first", first)
        query = reading_query(from_, to, disaggregation, as_of, include_superseded)
        found = await info.context.reading_loader.load((self.plan.id, self.node.id, query))
        try:
            return reading_page(found, first, after)
        except ValidationError as error:
            raise bad_input(error) from error

    @strawberry.field(description=dash.LATEST_DESCRIPTION, metadata=dash.LATEST)
    def latest(
        self,
        info: strawberry.Info[Context, None],
        disaggregation: list[DimensionValueInput] | None = None,
    ) -> Reading | None:
        return dash.kpi_latest(info.context, self.plan, self.node, disaggregation)  # type: ignore[return-value]

    @strawberry.field(description=dash.PROGRESS_DESCRIPTION, metadata=dash.PROGRESS)
    def progress(self, info: strawberry.Info[Context, None]) -> KpiProgress:
        return dash.kpi_progress(info.context, self.plan, self.node)  # type: ignore[return-value]

    @strawberry.field(
        description="The current country readings of `period` by region or group (`by`: "
        "ITU_D_REGIONS, UN_M49_REGIONS, UN_COUNTRY_GROUPS), members as of the period's last "
        "day: summed for counts (UNIT), averaged weighted by the WEIGHTED_BY KPI's readings "
        "for percentages and ratios, otherwise refused with the reason. `dimension`: the one "
        "bound to ISO_3166_1_ALPHA3 (needed only when several are)."
    )
    async def aggregate(
        self,
        info: strawberry.Info[Context, None],
        by: strawberry.ID,
        period: str,
        dimension: str | None = None,
    ) -> KpiAggregateResult:
        return await kpi_aggregate(info, self.plan, self.node, str(by), period, dimension)


# Its plain fields read from the domain node (`api.types.views`), as the resolvers above do:
# a baseline or target is the `Measurement` itself (`PeriodValue`'s view), a dimension too.
node_view(
    Kpi,
    NODE_FIELDS,
    unit="unit",
    measure="measure",
    direction="direction",
    baseline="baseline",
    targets="targets",
    dimensions="dimensions",
    period_types="period_types",
    minimum=lambda node, plan: bounds.kpi_range(node)[0],
    maximum=lambda node, plan: bounds.kpi_range(node)[1],
)


def _page_size(name: str, given: int) -> None:
    if not 1 <= given <= MAX_READINGS:
        problem = Problem((name,), f"must be between 1 and {MAX_READINGS:,}")
        raise bad_input(ValidationError([problem]))


def reading_query(
    from_: str | None,
    to: str | None,
    disaggregation: list[DimensionValueInput] | None,
    as_of: dt.datetime | None,
    include_superseded: bool,
) -> ReadingQuery:
    low, high = _period_argument("from", from_), _period_argument("to", to)
    if as_of is not None and as_of.tzinfo is None:
        raise bad_input(ValidationError([Problem(("asOf",), "must include a UTC offset")]))
    return ReadingQuery(
        from_period=low,
        to_period=high,
        disaggregation=None if disaggregation is None else pairs(disaggregation),
        as_of=as_of,
        include_superseded=include_superseded,
    )


def _period_argument(name: str, given: str | None) -> Period | None:
    if given is None:
        return None
    try:
        return parse_period(given)
    except PeriodError as error:
        raise bad_input(ValidationError([Problem((name,), str(error))])) from error
