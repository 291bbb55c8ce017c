"""KPI readings in the domain: what `check_readings` refuses (every problem, with its index), how
`select` answers for the current, corrected and past states of a series, and exact decimals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planapi.domain.errors import Problem
from planapi.domain.nodes import Node, NodeKind
from planapi.domain.periods import parse_period
from planapi.domain.readings import (
    BatchCheck,
    NewReading,
    Reading,
    ReadingQuery,
    ReadingVersion,
    check_readings,
    parse_series,
    select,
    series_key,
)
from tests.readings_fixtures import PLAN_ID, T0, kpi_map, reading, stored

FEMALE_AFRICA = (("region", "Africa"), ("sex", "female"))
FEMALE = (("sex", "female"),)


def check(*readings: NewReading) -> tuple[list[Decimal | None], list[Problem]]:
    """(the value each accepted reading settles on, the problems) for readings of our plan."""
    checked, problems = check_readings(kpi_map(), readings, PLAN_ID)
    return [c.value for c in checked], problems


def problems_of(*readings: NewReading) -> list[tuple[tuple[str | int, ...], str]]:
    _, problems = check(*readings)
    assert problems, "expected the batch to be refused"
    return [(p.path, p.message) for p in problems]


# -- check_readings ----------------------------------------------------------------------------
def test_a_valid_reading_is_accepted_with_its_parsed_period_and_exact_value() -> None:
    checked, problems = check_readings(kpi_map(), [reading("2027", "64.25")], PLAN_ID)

    assert problems == []
    [found] = checked
    assert found.period == parse_period("2027")
    assert found.value == Decimal("64.25")


def test_a_reading_for_a_period_type_the_kpi_does_not_take_is_refused_by_name() -> None:
    assert problems_of(reading("2027-Q2", "64")) == [
        (("readings", 0, "period"), "KPI kpi-1 takes yearly periods, not 2027-Q2")
    ]
    assert problems_of(reading("2027-03", "3.1", kpi_id="kpi-2")) == [
        (("readings", 0, "period"), "KPI kpi-2 takes quarterly or yearly periods, not 2027-03")
    ]


def test_a_kpi_that_names_no_period_types_takes_any_period() -> None:
    periods = ["2027", "2027-S1", "2027-Q2", "2027-03", "2027-W14"]

    values, problems = check(*(reading(p, "10", kpi_id="kpi-4") for p in periods))

    assert problems == []
    assert len(values) == len(periods)


@pytest.mark.parametrize("period", ["2027-Q5", "27", "2027-W53", "\uff12\uff10\uff12\uff17"])
def test_a_period_that_is_no_period_id_is_refused_with_the_reason(period: str) -> None:
    [(path, message)] = problems_of(reading(period, "64"))

    assert path == ("readings", 0, "period")
    assert period in message


def test_a_qualitative_kpi_needs_text_and_takes_no_number() -> None:
    assert problems_of(reading("2027", kpi_id="kpi-3")) == [
        (("readings", 0, "text"), "KPI kpi-3 is qualitative: give text")
    ]
    assert problems_of(reading("2027", kpi_id="kpi-3", text="   ")) == [
        (("readings", 0, "text"), "KPI kpi-3 is qualitative: give text")
    ]
    assert problems_of(reading("2027", "1", kpi_id="kpi-3", text="Adopted")) == [
        (("readings", 0, "value"), "KPI kpi-3 is qualitative: give text only")
    ]
    values, problems = check(reading("2027", kpi_id="kpi-3", text="Policy adopted in May"))
    assert (values, problems) == ([None], [])


def test_a_numeric_kpi_needs_a_value_and_takes_no_text() -> None:
    assert problems_of(reading("2027")) == [(("readings", 0, "value"), "is required")]
    assert problems_of(reading("2027", "64", text="about 64")) == [
        (("readings", 0, "text"), "KPI kpi-1 is numeric: give a value")
    ]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_a_value_that_is_no_finite_number_is_refused(value: str) -> None:
    assert problems_of(reading("2027", value)) == [
        (("readings", 0, "value"), "must be a finite number")
    ]


def test_a_percentage_is_derived_from_its_numerator_and_denominator() -> None:
    values, problems = check(reading("2027", numerator=Decimal("45"), denominator=Decimal("60")))

    assert problems == []
    assert values == [Decimal("75")]


def test_a_ratio_is_derived_without_scaling_to_a_hundred() -> None:
    values, _ = check(
        reading("2027", kpi_id="kpi-2", numerator=Decimal("3"), denominator=Decimal("4"))
    )

    assert values == [Decimal("0.75")]


def test_a_given_percentage_must_agree_with_numerator_and_denominator_to_its_own_precision() -> (
    None
):
    def one_third(value: str) -> NewReading:
        return reading("2027", value, numerator=Decimal("1"), denominator=Decimal("3"))

    assert check(one_third("33.3")) == ([Decimal("33.3")], [])
    assert check(one_third("33")) == ([Decimal("33")], [])
    assert problems_of(one_third("33.4")) == [
        (
            ("readings", 0, "value"),
            "33.4 does not match numerator/denominator (33.33333333333333333333333333)",
        )
    ]


def test_numerator_and_denominator_come_together_and_the_denominator_is_not_zero() -> None:
    assert problems_of(reading("2027", numerator=Decimal("4"))) == [
        (("readings", 0, "denominator"), "give numerator and denominator together")
    ]
    assert problems_of(reading("2027", "5", denominator=Decimal("4"))) == [
        (("readings", 0, "numerator"), "give numerator and denominator together")
    ]
    assert problems_of(reading("2027", numerator=Decimal("4"), denominator=Decimal("0"))) == [
        (("readings", 0, "denominator"), "must not be zero")
    ]


# Anything Decimal() parses, exponents beyond what arithmetic holds included.
any_number = st.decimals(allow_nan=True, allow_infinity=True) | st.builds(
    lambda digits, exponent: Decimal(f"{digits}E{exponent}"),
    st.integers(-999, 999),
    st.integers(-1_000_100, 1_000_100) | st.sampled_from([-999_999, 999_999, 1_000_000]),
)


@settings(max_examples=300, deadline=None)
@given(numerator=any_number, denominator=any_number, value=st.none() | any_number)
def test_any_numbers_an_integration_sends_are_accepted_or_refused_never_crash(
    numerator: Decimal, denominator: Decimal, value: Decimal | None
) -> None:
    given_reading = reading("2027", value, numerator=numerator, denominator=denominator)

    values, problems = check(given_reading)

    assert bool(values) != bool(problems)
    assert all(p.path[:2] == ("readings", 0) for p in problems)


@pytest.mark.parametrize(
    ("numerator", "denominator"), [("1E+999999", "1E-999999"), ("9E+999999", "1")]
)
def test_a_ratio_too_large_to_compute_is_a_problem_of_the_reading(
    numerator: str, denominator: str
) -> None:
    [(path, _)] = problems_of(
        reading("2027", numerator=Decimal(numerator), denominator=Decimal(denominator))
    )

    assert path[:2] == ("readings", 0)


@pytest.mark.parametrize("field", ["value", "numerator", "denominator"])
@pytest.mark.parametrize("number", ["1E+1000000", "-1E+1000000", "1E-1000000"])
def test_a_number_beyond_what_decimal_arithmetic_holds_is_refused_at_the_door(
    field: str, number: str
) -> None:
    given = {"value": Decimal("50"), "numerator": Decimal("1"), "denominator": Decimal("2")}
    given[field] = Decimal(number)

    sent = reading(
        "2027", given["value"], numerator=given["numerator"], denominator=given["denominator"]
    )

    assert problems_of(sent) == [(("readings", 0, field), "is too large or too small a number")]


def test_a_value_at_the_far_end_of_the_range_from_its_ratio_is_a_mismatch_not_a_crash() -> None:
    [(path, message)] = problems_of(
        reading(
            "2027",
            "-9E+999999",
            kpi_id="kpi-2",
            numerator=Decimal("9E+999999"),
            denominator=Decimal("1"),
        )
    )

    assert path == ("readings", 0, "value")
    assert "does not match" in message


def test_a_disaggregation_uses_only_declared_dimensions_and_values() -> None:
    assert problems_of(reading("2027", "64", disaggregation=(("age", "15-24"),))) == [
        (
            ("readings", 0, "disaggregation", "age"),
            "KPI kpi-1 declares no dimension 'age' (declared: region, sex)",
        )
    ]
    assert problems_of(reading("2027", "64", disaggregation=(("sex", "other"),))) == [
        (("readings", 0, "disaggregation", "sex"), "'other' is not one of female, male")
    ]
    assert problems_of(reading("2027", "5", kpi_id="kpi-2", disaggregation=FEMALE)) == [
        (
            ("readings", 0, "disaggregation", "sex"),
            "KPI kpi-2 declares no dimension 'sex' (declared: none)",
        )
    ]
    assert check(reading("2027", "64", disaggregation=FEMALE_AFRICA))[1] == []


def test_a_batch_may_not_give_the_same_series_and_period_twice() -> None:
    batch = [
        reading("2027", "64"),
        reading("2027", "61", disaggregation=FEMALE),  # another series: fine
        reading("2028", "66"),
        reading("2027", "65"),
        reading("2027", "62", disaggregation=FEMALE),
    ]

    assert problems_of(*batch) == [
        (("readings", 3), "repeats the KPI, series and period of readings[0]"),
        (("readings", 4), "repeats the KPI, series and period of readings[1]"),
    ]


def test_every_problem_of_a_batch_is_reported_with_the_index_of_its_reading() -> None:
    batch = [reading(str(2000 + i), "50") for i in range(20)]
    batch[3] = reading("2003", "50", kpi_id="kpi-99")
    batch[5] = reading("2005", "50", kpi_id="o1")
    batch[11] = reading("2011-Q1", "50", disaggregation=(("sex", "other"),))
    batch[17] = reading("2017-Q2", "50")
    batch[19] = reading("2019", "50", note="n" * 10_001)
    kpis = {**kpi_map(), "o1": Node(id="o1", kind=NodeKind.OUTCOME, title="More people online")}

    checked, problems = check_readings(kpis, batch, PLAN_ID)

    assert [(p.path, p.message) for p in problems] == [
        (
            ("readings", 3, "kpi_id"),
            "no KPI 'kpi-99' in the latest version of plan 'readings-2026'",
        ),
        (("readings", 5, "kpi_id"), "'o1' is a OUTCOME, not a KPI"),
        (("readings", 11, "period"), "KPI kpi-1 takes yearly periods, not 2011-Q1"),
        (("readings", 11, "disaggregation", "sex"), "'other' is not one of female, male"),
        (("readings", 17, "period"), "KPI kpi-1 takes yearly periods, not 2017-Q2"),
        (("readings", 19, "note"), "must be at most 10000 characters"),
    ]
    assert len(checked) == 15


def test_a_kpi_absent_from_the_latest_version_is_refused() -> None:
    checked, problems = check_readings({"kpi-1": None}, [reading("2027", "64")], PLAN_ID)

    assert checked == []
    assert problems == [
        Problem(
            ("readings", 0, "kpi_id"),
            "no KPI 'kpi-1' in the latest version of plan 'readings-2026'",
        )
    ]


def test_a_source_names_its_integration_and_a_bounded_reading_id() -> None:
    assert problems_of(reading("2027", "64", source=(" ", "r-1"))) == [
        (("readings", 0, "source", "integration"), "must be 1-200 characters")
    ]
    assert problems_of(reading("2027", "64", source=("nso", ""))) == [
        (("readings", 0, "source", "reading_id"), "must be 1-200 characters")
    ]


# -- series keys -------------------------------------------------------------------------------
def test_a_series_has_one_spelling_whatever_the_order_of_its_dimensions() -> None:
    assert series_key((("sex", "female"), ("region", "Africa"))) == "region=Africa;sex=female"
    assert series_key(FEMALE_AFRICA) == "region=Africa;sex=female"
    assert series_key(()) == ""
    assert parse_series("region=Africa;sex=female") == FEMALE_AFRICA
    assert parse_series("") == ()


# -- exact decimals ----------------------------------------------------------------------------
def test_a_value_keeps_the_scale_it_was_written_with() -> None:
    [value], _ = check(reading("2027", "2.50"))

    assert value == Decimal("2.5")
    assert str(value) == "2.50"


def test_decimals_stay_exact_where_binary_floats_would_not() -> None:
    assert 0.1 + 0.2 != 0.3  # what a float column would store
    exact = Decimal("0.1") + Decimal("0.2")

    [value], problems = check(
        reading(
            "2027",
            exact,
            kpi_id="kpi-2",
            numerator=Decimal("0.3"),
            denominator=Decimal("1"),
        )
    )

    assert problems == []
    assert value == Decimal("0.3")
    assert str(value) == "0.3"


def test_a_derived_percentage_is_exact_when_the_ratio_is() -> None:
    [value], _ = check(reading("2027", numerator=Decimal("1"), denominator=Decimal("8")))

    assert value == Decimal("12.5")


# -- select: current, corrected, as known then -------------------------------------------------
def currents(versions: list[ReadingVersion]) -> list[tuple[int, bool]]:
    return [(v.reading.id, v.is_current) for v in versions]


def test_a_later_reading_supersedes_an_earlier_one_and_both_stay_stored() -> None:
    first, correction = stored(1, "2027", "64"), stored(2, "2027", "65")

    [current] = select([first, correction], ReadingQuery())
    both = select([first, correction], ReadingQuery(include_superseded=True))

    assert current == ReadingVersion(correction, None)
    assert both == [ReadingVersion(first, correction), ReadingVersion(correction, None)]


def test_as_of_returns_what_was_known_then() -> None:
    first, correction = stored(1, "2027", "64"), stored(2, "2027", "65")
    between = first.recorded_at + dt.timedelta(microseconds=500)

    assert select([first, correction], ReadingQuery(as_of=between)) == [ReadingVersion(first, None)]
    assert select([first, correction], ReadingQuery(as_of=first.recorded_at)) == [
        ReadingVersion(first, None)
    ], "a reading is known from the very instant it was recorded"
    assert select([first, correction], ReadingQuery(as_of=T0)) == []
    later = select([first, correction], ReadingQuery(as_of=correction.recorded_at))
    assert later == [ReadingVersion(correction, None)]


def test_as_of_with_superseded_shows_corrections_only_as_far_as_known_then() -> None:
    readings = [stored(1, "2027", "64"), stored(2, "2027", "65"), stored(3, "2027", "66")]
    at_second = readings[1].recorded_at

    found = select(readings, ReadingQuery(as_of=at_second, include_superseded=True))

    assert found == [ReadingVersion(readings[0], readings[1]), ReadingVersion(readings[1], None)]


def test_a_period_range_keeps_the_periods_that_lie_within_it() -> None:
    quarters = [f"{year}-Q{q}" for year in (2026, 2027, 2028) for q in (1, 2, 3, 4)]
    readings = [stored(i, period) for i, period in enumerate(quarters, start=1)]

    def periods(query: ReadingQuery) -> list[str]:
        return [v.reading.period for v in select(readings, query)]

    year_2027 = parse_period("2027")
    assert periods(ReadingQuery(from_period=year_2027, to_period=year_2027)) == [
        "2027-Q1",
        "2027-Q2",
        "2027-Q3",
        "2027-Q4",
    ]
    assert periods(ReadingQuery(from_period=parse_period("2028-Q3"))) == ["2028-Q3", "2028-Q4"]
    assert periods(ReadingQuery(to_period=parse_period("2026-S1"))) == ["2026-Q1", "2026-Q2"]
    assert periods(ReadingQuery(from_period=parse_period("2027-05"))) == quarters[6:]


def test_a_disaggregation_filter_picks_every_series_the_total_or_exactly_one() -> None:
    total = stored(1, "2027", "64")
    female = stored(2, "2027", "61", series=FEMALE)
    female_africa = stored(3, "2027", "52", series=FEMALE_AFRICA)
    readings = [total, female, female_africa]

    def ids(disaggregation: tuple[tuple[str, str], ...] | None) -> list[int]:
        return [v.reading.id for v in select(readings, ReadingQuery(disaggregation=disaggregation))]

    assert ids(None) == [1, 3, 2], "every series, in series order"
    assert ids(()) == [1], "the total only"
    assert ids(FEMALE) == [2], "exactly that series, not those that refine it"
    assert ids((("sex", "female"), ("region", "Africa"))) == [3], "in any dimension order"
    assert ids((("sex", "male"),)) == []


def test_readings_come_in_period_order_then_series_order_whatever_order_they_were_recorded() -> (
    None
):
    readings = [
        stored(1, "2028", series=FEMALE),
        stored(2, "2026"),
        stored(3, "2027-Q1"),
        stored(4, "2027"),
        stored(5, "2026", series=FEMALE),
    ]

    found = [(v.reading.period, v.reading.series) for v in select(readings, ReadingQuery())]

    assert found == [
        ("2026", ""),
        ("2026", "sex=female"),
        ("2027-Q1", ""),  # starts with 2027 and ends first
        ("2027", ""),
        ("2028", "sex=female"),
    ]


# -- select, for any history -------------------------------------------------------------------
SERIES = [(), FEMALE, FEMALE_AFRICA]
PERIODS = ["2026", "2027", "2027-Q1", "2028"]


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Reading], dt.datetime]:
    """Readings as a store records them (ids rising, times never going back), and an instant."""
    count = draw(st.integers(min_value=0, max_value=25))
    readings, instant = [], T0
    for number in range(1, count + 1):
        instant += dt.timedelta(seconds=draw(st.sampled_from([0, 0, 1, 60])))  # batches share
        readings.append(
            stored(
                number,
                draw(st.sampled_from(PERIODS)),
                str(draw(st.integers(0, 100))),
                series=draw(st.sampled_from(SERIES)),
                recorded_at=instant,
            )
        )
    as_of = T0 + dt.timedelta(seconds=draw(st.integers(min_value=-1, max_value=count * 60 + 1)))
    return readings, as_of


@settings(max_examples=300, deadline=None)
@given(history=histories(), shuffle=st.randoms(use_true_random=False))
def test_select_keeps_exactly_the_last_reading_known_per_series_and_period(
    history: tuple[list[Reading], dt.datetime], shuffle: random.Random
) -> None:
    readings, as_of = history
    known = [r for r in readings if r.recorded_at <= as_of]
    expected: dict[tuple[str, str], int] = {}
    for r in known:
        expected[r.series, r.period] = max(expected.get((r.series, r.period), 0), r.id)
    given_order = list(readings)
    shuffle.shuffle(given_order)

    found = select(given_order, ReadingQuery(as_of=as_of))

    assert {(v.reading.series, v.reading.period): v.reading.id for v in found} == expected
    assert len(found) == len(expected), "one per series and period"
    assert all(v.is_current for v in found)


@settings(max_examples=300, deadline=None)
@given(history=histories())
def test_with_superseded_every_known_reading_points_to_the_next_of_its_series_and_period(
    history: tuple[list[Reading], dt.datetime],
) -> None:
    readings, as_of = history
    known = [r for r in readings if r.recorded_at <= as_of]

    found = select(readings, ReadingQuery(as_of=as_of, include_superseded=True))

    assert sorted(v.reading.id for v in found) == [r.id for r in known]
    for version in found:
        mine = version.reading
        later = [r for r in known if (r.series, r.period) == (mine.series, mine.period)]
        later = [r for r in later if r.id > mine.id]
        assert version.superseded_by == (min(later, key=lambda r: r.id) if later else None)
    spans = [
        (parse_period(v.reading.period).start, parse_period(v.reading.period).end, v.reading.series)
        for v in found
    ]
    assert spans == sorted(spans), "in period order (start, then end), then series order"


@settings(max_examples=100, deadline=None)
@given(history=histories())
def test_a_filter_by_series_is_the_same_as_filtering_the_unfiltered_answer(
    history: tuple[list[Reading], dt.datetime],
) -> None:
    readings, as_of = history
    everything = select(readings, ReadingQuery(as_of=as_of))

    for series in SERIES:
        found = select(readings, ReadingQuery(as_of=as_of, disaggregation=series))
        assert found == [v for v in everything if v.reading.disaggregation == series]


def test_a_stored_reading_gives_back_its_disaggregation_as_pairs() -> None:
    found = dataclasses.replace(stored(1, "2027"), series="sex=female;region=Africa")

    assert found.disaggregation == FEMALE_AFRICA


# -- checking in chunks --------------------------------------------------------------------------
any_reading = st.builds(
    reading,
    period=st.sampled_from(["2026", "2027", "2027-Q2", "2027-13", "20x6"]),
    value=st.sampled_from([None, "1", "62.5", "NaN"]),
    kpi_id=st.sampled_from(["kpi-1", "kpi-2", "kpi-3", "kpi-4", "nope"]),
    disaggregation=st.sampled_from([(), FEMALE, FEMALE_AFRICA, (("sex", "other"),)]),
    text=st.sampled_from([None, "adopted"]),
)


@settings(max_examples=200)
@given(batch=st.lists(any_reading, max_size=30), size=st.integers(1, 12))
def test_a_batch_checked_in_chunks_finds_what_checking_it_at_once_finds(
    batch: list[NewReading], size: int
) -> None:
    """The store checks a batch a chunk at a time, writing one chunk while checking the next:
    the valid readings, in order, and every problem (repeats across chunks too) are the same."""
    whole, problems = check_readings(kpi_map(), batch, PLAN_ID)
    in_chunks = BatchCheck(kpi_map(), batch, PLAN_ID)

    chunked = [checked for chunk in in_chunks.chunks(size) for checked in chunk]

    assert chunked == whole
    assert in_chunks.problems == problems


def test_a_batch_is_checked_once() -> None:
    batch = BatchCheck(kpi_map(), [reading("2026", "61")], PLAN_ID)
    assert [len(chunk) for chunk in batch.chunks(10)] == [1]

    with pytest.raises(RuntimeError, match="checked once"):
        list(batch.chunks(10))
