"""Period ids: `2027`, `2027-S1`, `2027-Q2`, `2027-03`, `2027-W14`."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planapi.domain.errors import PeriodError
from planapi.domain.periods import Period, PeriodType, parse_period, period_id

D = dt.date


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2027", PeriodType.YEAR, D(2027, 1, 1), D(2027, 12, 31)),
        ("2027-S1", PeriodType.SEMESTER, D(2027, 1, 1), D(2027, 6, 30)),
        ("2027-S2", PeriodType.SEMESTER, D(2027, 7, 1), D(2027, 12, 31)),
        ("2027-Q1", PeriodType.QUARTER, D(2027, 1, 1), D(2027, 3, 31)),
        ("2027-Q2", PeriodType.QUARTER, D(2027, 4, 1), D(2027, 6, 30)),
        ("2027-Q4", PeriodType.QUARTER, D(2027, 10, 1), D(2027, 12, 31)),
        ("2027-03", PeriodType.MONTH, D(2027, 3, 1), D(2027, 3, 31)),
        ("2027-02", PeriodType.MONTH, D(2027, 2, 1), D(2027, 2, 28)),
        ("2028-02", PeriodType.MONTH, D(2028, 2, 1), D(2028, 2, 29)),
        ("2027-12", PeriodType.MONTH, D(2027, 12, 1), D(2027, 12, 31)),
        ("2027-W14", PeriodType.WEEK, D(2027, 4, 5), D(2027, 4, 11)),
        # ISO weeks belong to the year of their Thursday: they may start or end in another.
        ("2026-W01", PeriodType.WEEK, D(2025, 12, 29), D(2026, 1, 4)),
        ("2026-W53", PeriodType.WEEK, D(2026, 12, 28), D(2027, 1, 3)),
    ],
)
def test_a_period_id_names_its_type_and_days(
    text: str, kind: PeriodType, start: dt.date, end: dt.date
) -> None:
    period = parse_period(text)

    assert (period.type, period.start, period.end) == (kind, start, end)
    assert str(period) == period.id == text
    assert period.year == int(text[:4])


@pytest.mark.parametrize(
    ("text", "explanation"),
    [
        ("2027-Q5", "is not a period id"),
        ("2027-S3", "is not a period id"),
        ("2027-13", "month 13 is not between 01 and 12"),
        ("2027-00", "month 0 is not between 01 and 12"),
        ("2027-W54", "2027 has no ISO week 54"),
        ("2027-W53", "2027 has no ISO week 53"),
        ("2027-W00", "2027 has no ISO week 0"),
        ("1899", "is before 1900"),
        ("27", "is not a period id"),
        ("", "is not a period id"),
        ("2027-3", "is not a period id"),
        ("2027-W1", "is not a period id"),
        ("2027-q2", "is not a period id"),
        (" 2027", "is not a period id"),
        ("2027-Q2\n", "is not a period id"),
        ("\uff12\uff10\uff12\uff17-Q2", "is not a period id"),  # full-width digits
        ("\u0662\u0660\u0662\u0667", "is not a period id"),  # Arabic-Indic digits
    ],
)
def test_a_bad_period_id_is_refused_with_the_reason(text: str, explanation: str) -> None:
    with pytest.raises(PeriodError) as refused:
        parse_period(text)

    assert explanation in str(refused.value)
    assert repr(text) in str(refused.value)


def test_a_bad_period_id_is_a_value_error_for_callers_that_only_know_builtins() -> None:
    with pytest.raises(ValueError, match="not a period id"):
        parse_period("next year")


def test_a_year_contains_its_quarters_but_not_the_first_week_starting_in_december() -> None:
    year = parse_period("2026")

    assert year.contains(parse_period("2026-Q3"))
    assert year.contains(year)
    assert not year.contains(parse_period("2026-W01"))
    assert not parse_period("2026-Q3").contains(year)


# -- properties --------------------------------------------------------------------------------
def weeks_in(year: int) -> int:
    return D(year, 12, 28).isocalendar().week


COUNTS = {
    PeriodType.YEAR: lambda year: 1,
    PeriodType.SEMESTER: lambda year: 2,
    PeriodType.QUARTER: lambda year: 4,
    PeriodType.MONTH: lambda year: 12,
    PeriodType.WEEK: weeks_in,
}

years = st.integers(1900, 2200)
types = st.sampled_from(PeriodType)


def periods_of(kind: PeriodType, year: int) -> list[Period]:
    return [parse_period(period_id(kind, year, i)) for i in range(1, COUNTS[kind](year) + 1)]


@settings(max_examples=300, deadline=None)
@given(types, years, st.data())
def test_every_period_id_parses_back_to_a_period_of_its_type(
    kind: PeriodType, year: int, data: st.DataObject
) -> None:
    index = data.draw(st.integers(1, COUNTS[kind](year)), label="index")
    text = period_id(kind, year, index)

    period = parse_period(text)

    assert period.id == text
    assert period.type is kind
    assert period.start <= period.end
    assert period_id(kind, year, index) == text


@settings(max_examples=200, deadline=None)
@given(types, years)
def test_the_periods_of_one_type_tile_their_year_without_gap_or_overlap(
    kind: PeriodType, year: int
) -> None:
    periods = periods_of(kind, year)
    one_day = dt.timedelta(days=1)

    for earlier, later in itertools.pairwise(periods):
        assert later.start == earlier.end + one_day
    if kind is PeriodType.WEEK:
        # ISO years: Monday of week 1 to the Sunday before next year's week 1.
        assert all((p.end - p.start).days == 6 for p in periods)
        assert periods[0].start == D.fromisocalendar(year, 1, 1)
        assert periods[-1].end + one_day == parse_period(period_id(kind, year + 1, 1)).start
    else:
        assert (periods[0].start, periods[-1].end) == (D(year, 1, 1), D(year, 12, 31))
        assert all(parse_period(str(year)).contains(p) for p in periods)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([kind for kind in PeriodType if kind is not PeriodType.YEAR]), years)
def test_the_period_after_the_last_of_a_year_is_not_a_period(kind: PeriodType, year: int) -> None:
    text = period_id(kind, year, COUNTS[kind](year) + 1)

    with pytest.raises(PeriodError) as refused:
        parse_period(text)

    assert repr(text) in str(refused.value)
