"""Readings in GraphQL: the series of a KPI, its progress, and the recordReadings mutation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import strawberry

from planapi.api.types import cursors
from planapi.api.types.global_ids import Node as GlobalNode
from planapi.api.types.global_ids import global_id
from planapi.api.types.history import PageInfo
from planapi.domain.nodes import Direction
from planapi.domain.periods import parse_period
from planapi.domain.progress import TargetProgress as TargetProgressModel
from planapi.domain.readings import ReadingStatus, ReadingVersion

ReadingStatusEnum = strawberry.enum(
    ReadingStatus,
    name="ReadingStatus",
    description="How firm a reading is (after SDMX OBS_STATUS).",
)


@strawberry.type
class DimensionValue:
    dimension: str
    value: str


@strawberry.type(name="ReadingSource", description="The integration and its own id for it.")
class ReadingSourceType:
    integration: str
    reading_id: str | None


@strawberry.type(description="An observation of a KPI for a period.")
class Reading(GlobalNode):
    version: strawberry.Private[ReadingVersion]

    @strawberry.field(
        description="Global id of the reading as known when read: "
        "`Reading:<planId>:<kpiId>:<readingId>:current`, or `…:superseded-by-<readingId>` once "
        "a correction is known (`isCurrent` and `supersededAt` differ between the two)."
    )
    def id(self) -> strawberry.ID:
        return reading_global_id(self.version)

    @strawberry.field(
        description="The server's number for the reading, the same whether current or "
        "superseded (what `id` was before global ids); `source.readingId` is the integration's."
    )
    def reading_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.version.reading.id))

    @strawberry.field
    def kpi_id(self) -> strawberry.ID:
        return strawberry.ID(self.version.reading.kpi_id)

    @strawberry.field(description="Valid time: the period observed (2027, 2027-Q2, …).")
    def period(self) -> str:
        return self.version.reading.period

    @strawberry.field
    def period_start(self) -> dt.date:
        return parse_period(self.version.reading.period).start

    @strawberry.field
    def period_end(self) -> dt.date:
        return parse_period(self.version.reading.period).end

    @strawberry.field(description="Exact decimal; null for qualitative KPIs.")
    def value(self) -> Decimal | None:
        return self.version.reading.value

    @strawberry.field(description="The narrative of a qualitative reading.")
    def text(self) -> str | None:
        return self.version.reading.text

    @strawberry.field
    def numerator(self) -> Decimal | None:
        return self.version.reading.numerator

    @strawberry.field
    def denominator(self) -> Decimal | None:
        return self.version.reading.denominator

    @strawberry.field(description="Empty for the total.")
    def disaggregation(self) -> list[DimensionValue]:
        pairs = self.version.reading.disaggregation
        return [DimensionValue(dimension=name, value=value) for name, value in pairs]

    @strawberry.field
    def status(self) -> ReadingStatus:
        return self.version.reading.status

    @strawberry.field
    def source(self) -> ReadingSourceType | None:
        found = self.version.reading.source
        if found is None:
            return None
        return ReadingSourceType(integration=found.integration, reading_id=found.reading_id)

    @strawberry.field
    def note(self) -> str | None:
        return self.version.reading.note

    @strawberry.field(description="Transaction time: when the server recorded it.")
    def recorded_at(self) -> dt.datetime:
        return self.version.reading.recorded_at

    @strawberry.field(
        description="False once a later reading of the same series and period "
        "supersedes it (as known at the time asked about)."
    )
    def is_current(self) -> bool:
        return self.version.is_current

    @strawberry.field
    def superseded_at(self) -> dt.datetime | None:
        later = self.version.superseded_by
        return later.recorded_at if later else None


CURRENT = "current"
SUPERSEDED_BY = "superseded-by-"


def reading_global_id(version: ReadingVersion) -> strawberry.ID:
    reading, later = version.reading, version.superseded_by
    state = CURRENT if later is None else f"{SUPERSEDED_BY}{later.id}"
    return global_id("Reading", reading.plan_id, reading.kpi_id, reading.id, state)


@strawberry.type
class PeriodReading:
    period: str
    value: Decimal


@strawberry.type(description="One target against the latest reading at or before its period.")
class TargetProgress:
    period: str
    target: Decimal
    latest: PeriodReading | None
    expected: Decimal | None = strawberry.field(
        description="Where a straight line from the baseline to the target stands at the "
        "latest reading's period."
    )
    on_track: bool | None = strawberry.field(description="Null without readings.")
    achieved: bool

    @classmethod
    def of(cls, model: TargetProgressModel) -> TargetProgress:
        found = model.latest
        return cls(
            period=model.period,
            target=model.target,
            latest=PeriodReading(period=found.period.id, value=found.value) if found else None,
            expected=model.expected,
            on_track=model.on_track,
            achieved=model.achieved,
        )


@strawberry.type
class KpiProgress:
    direction: Direction | None
    # The domain's verdicts, turned into API objects only when `targets` is asked for: a
    # dashboard asking each KPI for `onTrack` alone builds none.
    assessed: strawberry.Private[Sequence[TargetProgressModel]]

    @strawberry.field
    def targets(self) -> list[TargetProgress]:
        return [TargetProgress.of(item) for item in self.assessed]

    @strawberry.field(description="On track for every target that has readings.")
    def on_track(self) -> bool | None:
        known = [t.on_track for t in self.assessed if t.on_track is not None]
        return all(known) if known else None


@strawberry.input
class DimensionValueInput:
    dimension: str
    value: str


@strawberry.input
class ReadingSourceInput:
    integration: str
    reading_id: str | None = None


@strawberry.input(
    description="A value for numeric KPIs (or numerator and denominator), text "
    "for qualitative ones."
)
class ReadingInput:
    kpi_id: strawberry.ID
    period: str
    status: ReadingStatus
    value: Decimal | None = None
    text: str | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    disaggregation: list[DimensionValueInput] | None = None
    source: ReadingSourceInput | None = None
    note: str | None = None


@strawberry.input
class RecordReadingsInput:
    plan_id: strawberry.ID
    readings: list[ReadingInput]
    idempotency_key: str | None = strawberry.field(
        default=None, description="Send the same key with a retry: it is stored once."
    )


@strawberry.type(description="The batch was stored whole (or had been, for a replay).")
class ReadingsRecorded:
    batch_id: int
    stored: int
    duplicates: int = strawberry.field(description="Readings already stored: not stored again.")
    recorded_at: dt.datetime
    replayed: bool = strawberry.field(description="This idempotency key was seen before.")
    consistency_token: str = strawberry.field(
        description="Pass it in the `PlanAPI-Consistent-With` header of later requests, to any "
        "server process: none answers from a state older than this batch."
    )


def pairs(given: list[DimensionValueInput] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((item.dimension, item.value) for item in given or ()))


@strawberry.type
class ReadingEdge:
    cursor: str
    node: Reading


@strawberry.type(description="Readings in period order (then series, then recording order).")
class ReadingConnection:
    edges: list[ReadingEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Readings matching, over all pages.")

    @strawberry.field
    def nodes(self) -> list[Reading]:
        return [edge.node for edge in self.edges]


_READING = "reading"


def _order_key(version: ReadingVersion) -> tuple[str, str, str, int]:
    """Where a reading stands in a KPI's series list (`select` sorts by the same)."""
    period = parse_period(version.reading.period)
    reading = version.reading
    return period.start.isoformat(), period.end.isoformat(), reading.series, reading.id


def reading_page(found: list[ReadingVersion], first: int, after: str | None) -> ReadingConnection:
    """A page of `found` (in `select`'s order) after the reading `after` points at. The cursor
    holds that reading's place in the order, not an index: readings recorded between two pages
    neither repeat nor push readings already passed onto the next page."""
    rest = found
    if after is not None:
        start, end, series, id_ = _cursor_key(after)
        mark = (start, end, series, id_)
        rest = [v for v in found if _order_key(v) > mark]
    page = rest[:first]
    edges = [
        ReadingEdge(cursor=_cursor(version), node=Reading(version=version)) for version in page
    ]
    return ReadingConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rest) > first, end_cursor=edges[-1].cursor if edges else None
        ),
        total_count=len(found),
    )


def _cursor(version: ReadingVersion) -> str:
    start, end, series, id_ = _order_key(version)
    return cursors.encode(_READING, "|".join((start, end, str(id_), series)))


def _cursor_key(cursor: str) -> tuple[str, str, str, int]:
    position = cursors.decode(_READING, cursor)
    try:
        start, end, id_, series = position.split("|", 3)
        return (
            dt.date.fromisoformat(start).isoformat(),
            dt.date.fromisoformat(end).isoformat(),
            series,
            int(id_),
        )
    except ValueError as error:
        raise cursors.not_a_cursor() from error
