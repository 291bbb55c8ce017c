"""KPI readings: observations of a KPI for a period, checked against the KPI's definition.

Readings are bitemporal: the period is valid time, `recorded_at` transaction time. A reading for a
series (KPI + disaggregation) and period supersedes the earlier ones; they all stay stored.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from planapi.domain.errors import PeriodError, Problem
from planapi.domain.nodes import Node, NodeKind
from planapi.domain.periods import Period, PeriodType, parse_period
from planapi.domain.reading_series import SeriesChecks
from planapi.domain.reading_series import parse_series as parse_series
from planapi.domain.reading_series import series_key as series_key
from planapi.domain.reading_values import check_value

MAX_NOTE = 10_000
MAX_TEXT = 10_000
MAX_SOURCE = 200

_PERIOD_NAMES = {
    PeriodType.YEAR: "yearly",
    PeriodType.SEMESTER: "half-yearly",
    PeriodType.QUARTER: "quarterly",
    PeriodType.MONTH: "monthly",
    PeriodType.WEEK: "weekly",
}


class ReadingStatus(enum.Enum):
    PROVISIONAL = "PROVISIONAL"
    FINAL = "FINAL"
    ESTIMATED = "ESTIMATED"
    FORECAST = "FORECAST"


# The three classes below are built once per reading submitted (10,000 to a batch), used within
# one request and never shared: plain slots, because a frozen dataclass costs ten times as much
# to build (each field set through object.__setattr__), which was a tenth of ingestion.
@dataclass(slots=True)
class ReadingSource:
    """Where a reading came from: the integration and its own id for the reading."""

    integration: str
    reading_id: str | None = None


@dataclass(slots=True)
class NewReading:
    """A reading as an integration submits it."""

    kpi_id: str
    period: str
    status: ReadingStatus
    value: Decimal | None = None
    text: str | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    # (dimension, value) pairs, sorted by dimension: one spelling per series.
    disaggregation: tuple[tuple[str, str], ...] = ()
    source: ReadingSource | None = None
    note: str | None = None

    @property
    def series(self) -> str:
        return series_key(self.disaggregation)


@dataclass(slots=True)
class CheckedReading:
    """A valid reading with what checking it established: its period, its exact value and the
    key of its series."""

    reading: NewReading
    period: Period
    value: Decimal | None
    series: str


def check_readings(
    kpis: Mapping[str, Node | None], readings: Sequence[NewReading], plan_id: str
) -> tuple[list[CheckedReading], list[Problem]]:
    """Check each reading against its KPI's definition in the plan's latest version.

    `kpis` maps every kpi id the readings mention to its node (None: not in the latest version).
    Every problem is reported, with its index: a batch is stored whole or not at all.
    """
    batch = BatchCheck(kpis, readings, plan_id)
    return batch.all(), batch.problems


class BatchCheck:
    """A batch's readings, checked in order a chunk at a time, so that a store can write one
    chunk while the next is being checked. `problems` holds every problem found so far; once
    every chunk has been taken it holds the batch's, and a batch with any is not stored."""

    def __init__(
        self,
        kpis: Mapping[str, Node | None],
        readings: Sequence[NewReading],
        plan_id: str,
        plan_years: tuple[int, int] | None = None,
    ) -> None:
        self.kpis = kpis
        self.readings = readings
        self.plan_id = plan_id
        # The plan's period (first and last year): readings must lie within it.
        self.plan_years = plan_years
        self.problems: list[Problem] = []
        self._taken = False

    def __len__(self) -> int:
        return len(self.readings)

    def sources(self) -> list[ReadingSource]:
        """The sources the readings name (for looking up what was sent before)."""
        return [r.source for r in self.readings if r.source is not None]

    def all(self) -> list[CheckedReading]:
        """The valid readings, checked in one go (once, like `chunks`)."""
        return next(self.chunks(max(len(self.readings), 1)), [])

    def chunks(self, size: int) -> Iterator[list[CheckedReading]]:
        """The valid readings, `size` readings checked at a time. Once only: a reading repeating
        an earlier one of the batch is a problem, so checking twice would find every one."""
        if self._taken:
            raise RuntimeError("a batch is checked once")
        self._taken = True
        seen: dict[tuple[str, str, str], int] = {}
        known = SeriesChecks()
        kpis, plan_id, problems = self.kpis, self.plan_id, self.problems
        for start in range(0, len(self.readings), size):
            checked: list[CheckedReading] = []
            for index in range(start, min(start + size, len(self.readings))):
                reading = self.readings[index]
                found = _check_one(kpis.get(reading.kpi_id), reading, index, plan_id, known)
                if not isinstance(found, list):
                    found = _within(found, self.plan_years, kpis, index)
                if isinstance(found, list):
                    problems += found
                    continue
                key = (reading.kpi_id, found.series, found.period.id)
                earlier = seen.setdefault(key, index)
                if earlier != index:
                    problems.append(
                        Problem(
                            ("readings", index),
                            f"repeats the KPI, series and period of readings[{earlier}]",
                        )
                    )
                    continue
                checked.append(found)
            yield checked


def _check_one(
    kpi: Node | None,
    reading: NewReading,
    index: int,
    plan_id: str,
    known: SeriesChecks,
) -> CheckedReading | list[Problem]:
    path: tuple[str | int, ...] = ("readings", index)
    if kpi is None:
        return [
            Problem(
                (*path, "kpi_id"),
                f"no KPI {reading.kpi_id!r} in the latest version of plan {plan_id!r}",
            )
        ]
    if kpi.kind is not NodeKind.KPI:
        return [Problem((*path, "kpi_id"), f"{kpi.id!r} is a {kpi.kind.value}, not a KPI")]
    problems: list[Problem] = []
    period = _period(kpi, reading.period, path, problems)
    value = check_value(kpi, reading, path, problems)
    series, wrong = known.series_key(kpi, reading.disaggregation, path)
    if wrong:
        problems += wrong
    _texts(reading, path, problems)
    if problems or period is None:
        return problems
    return CheckedReading(reading, period, value, series)


def _within(
    found: CheckedReading,
    years: tuple[int, int] | None,
    kpis: Mapping[str, Node | None],
    index: int,
) -> CheckedReading | list[Problem]:
    """A reading outside the plan's period is refused, except for its KPI's baseline year."""
    period = found.period
    # A period belongs to one year (a week to its ISO year), so the year is what is compared.
    if years is None or years[0] <= period.year <= years[1]:
        return found
    kpi = kpis.get(found.reading.kpi_id)
    baseline = kpi.baseline if kpi is not None else None
    if baseline is not None and _year_of(baseline.period) == period.year:
        return found
    return [
        Problem(
            ("readings", index, "period"),
            f"{period.id} is outside the plan period {years[0]}-{years[1]}",
        )
    ]


def _year_of(text: str) -> int | None:
    try:
        return parse_period(text).year
    except PeriodError:
        return None


def _period(
    kpi: Node, text: str, path: tuple[str | int, ...], problems: list[Problem]
) -> Period | None:
    try:
        period = parse_period(text)
    except PeriodError as error:
        problems.append(Problem((*path, "period"), str(error)))
        return None
    if kpi.period_types and period.type not in kpi.period_types:
        takes = " or ".join(_PERIOD_NAMES[kind] for kind in kpi.period_types)
        problems.append(
            Problem((*path, "period"), f"KPI {kpi.id} takes {takes} periods, not {text}")
        )
        return None
    return period


def _texts(reading: NewReading, path: tuple[str | int, ...], problems: list[Problem]) -> None:
    if reading.text is not None and len(reading.text) > MAX_TEXT:
        problems.append(Problem((*path, "text"), f"must be at most {MAX_TEXT} characters"))
    if reading.note is not None and len(reading.note) > MAX_NOTE:
        problems.append(Problem((*path, "note"), f"must be at most {MAX_NOTE} characters"))
    source = reading.source
    if source is not None:
        if not source.integration.strip() or len(source.integration) > MAX_SOURCE:
            problems.append(
                Problem((*path, "source", "integration"), f"must be 1-{MAX_SOURCE} characters")
            )
        if source.reading_id is not None and not 0 < len(source.reading_id) <= MAX_SOURCE:
            problems.append(
                Problem((*path, "source", "reading_id"), f"must be 1-{MAX_SOURCE} characters")
            )


@dataclass(frozen=True, slots=True)
class Reading:
    """A stored reading: what was submitted, plus when and in which batch the server took it."""

    id: int
    batch_id: int
    plan_id: str
    kpi_id: str
    period: str
    series: str
    status: ReadingStatus
    value: Decimal | None
    text: str | None
    numerator: Decimal | None
    denominator: Decimal | None
    source: ReadingSource | None
    note: str | None
    recorded_at: dt.datetime

    @property
    def disaggregation(self) -> tuple[tuple[str, str], ...]:
        return parse_series(self.series)


@dataclass(frozen=True, slots=True)
class ReadingQuery:
    from_period: Period | None = None
    to_period: Period | None = None
    # None: every series; () the total only; otherwise exactly that series.
    disaggregation: tuple[tuple[str, str], ...] | None = None
    as_of: dt.datetime | None = None
    include_superseded: bool = False


@dataclass(frozen=True, slots=True)
class ReadingVersion:
    """A reading with what later knowledge says of it."""

    reading: Reading
    superseded_by: Reading | None

    @property
    def is_current(self) -> bool:
        return self.superseded_by is None


def select(readings: Iterable[Reading], query: ReadingQuery) -> list[ReadingVersion]:
    """The readings known at `query.as_of` (transaction time), each series' latest per period
    unless `include_superseded`, in period then series order. `readings` in recording order."""
    known = [r for r in readings if query.as_of is None or r.recorded_at <= query.as_of]
    known.sort(key=lambda r: r.id)
    later: dict[tuple[str, str, str], Reading] = {}
    versions: list[ReadingVersion] = []
    for reading in reversed(known):
        key = (reading.kpi_id, reading.series, reading.period)
        versions.append(ReadingVersion(reading, later.get(key)))
        later[key] = reading
    wanted = None if query.disaggregation is None else series_key(query.disaggregation)
    low = query.from_period.start if query.from_period else None
    high = query.to_period.end if query.to_period else None
    out = []
    for version in versions:
        reading = version.reading
        if not (query.include_superseded or version.is_current):
            continue
        if wanted is not None and reading.series != wanted:
            continue
        period = parse_period(reading.period)
        if (low and period.start < low) or (high and period.end > high):
            continue
        out.append((period.start, period.end, reading.series, reading.id, version))
    out.sort(key=lambda item: item[:4])
    return [item[4] for item in out]
