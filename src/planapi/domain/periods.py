"""Period ids as DHIS2 and SDMX spell them: `2027`, `2027-S1`, `2027-Q2`, `2027-03`, `2027-W14`.

A period is a closed interval of calendar days; its id is canonical (one spelling per period),
so ids compare equal exactly when periods do.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from dataclasses import dataclass

from planapi.domain.errors import PeriodError


class PeriodType(enum.Enum):
    YEAR = "YEAR"
    SEMESTER = "SEMESTER"
    QUARTER = "QUARTER"
    MONTH = "MONTH"
    WEEK = "WEEK"


_PATTERN = re.compile(
    r"^(?P<year>\d{4})(?:-(?:S(?P<s>[12])|Q(?P<q>[1-4])|W(?P<w>\d{2})|(?P<m>\d{2})))?$",
    re.ASCII,  # `\d` would otherwise take other scripts' digits: ids have one spelling
)


@dataclass(frozen=True, slots=True, order=True)
class Period:
    start: dt.date
    end: dt.date
    type: PeriodType
    id: str

    def __str__(self) -> str:
        return self.id

    @property
    def year(self) -> int:
        """The year the period belongs to: its ISO year for a week (2026-W01 starts in 2025)."""
        return int(self.id[:4])

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end


@functools.lru_cache(maxsize=8192)
def parse_period(text: str) -> Period:
    """Cached: ids repeat across thousands of readings, and a Period never changes."""
    return _parse(text)


def _parse(text: str) -> Period:
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise PeriodError(
            f"{text!r} is not a period id (expected 2027, 2027-S1, 2027-Q2, 2027-03 or 2027-W14)"
        )
    year = int(match["year"])
    if year < 1900:
        raise PeriodError(f"{text!r}: year {year} is before 1900")
    if match["s"]:
        half = int(match["s"])
        return _months(year, 6 * half - 5, 6, PeriodType.SEMESTER, text)
    if match["q"]:
        quarter = int(match["q"])
        return _months(year, 3 * quarter - 2, 3, PeriodType.QUARTER, text)
    if match["m"]:
        month = int(match["m"])
        if not 1 <= month <= 12:
            raise PeriodError(f"{text!r}: month {month} is not between 01 and 12")
        return _months(year, month, 1, PeriodType.MONTH, text)
    if match["w"]:
        week = int(match["w"])
        try:
            start = dt.date.fromisocalendar(year, week, 1)
        except ValueError as error:
            raise PeriodError(f"{text!r}: {year} has no ISO week {week}") from error
        return Period(start, start + dt.timedelta(days=6), PeriodType.WEEK, text)
    return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), PeriodType.YEAR, text)


def period_id(kind: PeriodType, year: int, index: int = 1) -> str:
    """The canonical id of the `index`-th period of `kind` in `year`."""
    match kind:
        case PeriodType.YEAR:
            return f"{year:04d}"
        case PeriodType.SEMESTER:
            return f"{year:04d}-S{index}"
        case PeriodType.QUARTER:
            return f"{year:04d}-Q{index}"
        case PeriodType.MONTH:
            return f"{year:04d}-{index:02d}"
        case PeriodType.WEEK:
            return f"{year:04d}-W{index:02d}"


def _months(year: int, first: int, count: int, kind: PeriodType, text: str) -> Period:
    start = dt.date(year, first, 1)
    last_month = first + count - 1
    following = dt.date(year + 1, 1, 1) if last_month == 12 else dt.date(year, last_month + 1, 1)
    return Period(start, following - dt.timedelta(days=1), kind, text)
