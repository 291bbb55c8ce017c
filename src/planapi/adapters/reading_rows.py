"""Stored readings as domain readings, and a reading query's filters in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from planapi.adapters.tables import readings
from planapi.domain.readings import Reading, ReadingQuery, ReadingSource, ReadingStatus, series_key


def narrowed(statement: Any, query: ReadingQuery) -> Any:
    """The query's filters in SQL. Each one keeps or drops whole (series, period) groups, so
    which reading supersedes which is unchanged by narrowing first."""
    if query.as_of is not None:
        statement = statement.where(readings.c.recorded_at <= query.as_of)
    if query.disaggregation is not None:
        statement = statement.where(readings.c.series == series_key(query.disaggregation))
    if query.from_period is not None:
        statement = statement.where(readings.c.period_start >= query.from_period.start)
    if query.to_period is not None:
        statement = statement.where(readings.c.period_end <= query.to_period.end)
    return statement


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def reading_of(row: Any) -> Reading:
    return Reading(
        id=row.id,
        batch_id=row.batch_id,
        plan_id=row.plan_id,
        kpi_id=row.kpi_id,
        period=row.period,
        series=row.series,
        status=ReadingStatus(row.status),
        value=_decimal(row.value),
        text=row.text,
        numerator=_decimal(row.numerator),
        denominator=_decimal(row.denominator),
        source=ReadingSource(row.source, row.source_reading_id) if row.source else None,
        note=row.note,
        recorded_at=row.recorded_at,
    )


# The columns `reading_of_values` takes, in its order: tens of thousands of rows are unpacked
# by position, several times faster than by name.
COLUMNS = (
    readings.c.id,
    readings.c.batch_id,
    readings.c.plan_id,
    readings.c.kpi_id,
    readings.c.period,
    readings.c.series,
    readings.c.status,
    readings.c.value,
    readings.c.text,
    readings.c.numerator,
    readings.c.denominator,
    readings.c.source,
    readings.c.source_reading_id,
    readings.c.note,
    readings.c.recorded_at,
)
_STATUS = {status.value: status for status in ReadingStatus}


def reading_of_values(values: Sequence[Any]) -> Reading:
    """A reading from the values of `COLUMNS`, in that order."""
    (id_, batch_id, plan_id, kpi_id, period, series, status, value, text, numerator,
     denominator, source, source_id, note, recorded_at) = values  # fmt: skip
    return Reading(
        id_,
        batch_id,
        plan_id,
        kpi_id,
        period,
        series,
        _STATUS[status],
        None if value is None else Decimal(value),
        text,
        None if numerator is None else Decimal(numerator),
        None if denominator is None else Decimal(denominator),
        ReadingSource(source, source_id) if source else None,
        note,
        recorded_at,
    )
