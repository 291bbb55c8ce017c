"""Is a KPI on track? Its readings against its targets, given the direction it should go: what a
dashboard colours green or red and an evaluator quotes."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from planapi.application.readings import latest, progress
from planapi.domain.nodes import Direction, Measurement, Node
from planapi.domain.periods import parse_period
from planapi.domain.progress import Observation, TargetProgress, assess
from planapi.domain.readings import ReadingQuery, select
from tests.readings_fixtures import kpi, stored

FEMALE = (("sex", "female"),)


def seen(**values: str) -> list[Observation]:
    """Observations by period: seen(y2026="66", q2027_1="67") — `_` for `-`, no leading letter."""
    return [
        Observation(parse_period(name[1:].replace("_", "-")), Decimal(value))
        for name, value in values.items()
    ]


def by_period(found: list[TargetProgress]) -> dict[str, TargetProgress]:
    return {item.period: item for item in found}


def with_targets(
    direction: Direction | None,
    baseline: tuple[str, str] | None,
    *targets: tuple[str, str],
) -> Node:
    return msgspec.structs.replace(
        kpi("kpi-1"),
        direction=direction,
        baseline=Measurement(baseline[0], Decimal(baseline[1])) if baseline else None,
        targets=tuple(Measurement(period, Decimal(value)) for period, value in targets),
    )


# kpi-1 rises from 60 (2025) to 70 (2027) and 80 (2029).
RISING = kpi("kpi-1")
FALLING = with_targets(Direction.DECREASE, ("2025", "20"), ("2027", "10"))
STEADY = with_targets(Direction.MAINTAIN, ("2025", "100"), ("2027", "100"))


def test_without_readings_no_target_has_a_verdict() -> None:
    found = assess(RISING, [])

    assert [(t.period, t.target, t.latest, t.expected, t.on_track, t.achieved) for t in found] == [
        ("2027", Decimal("70"), None, None, None, False),
        ("2029", Decimal("80"), None, None, None, False),
    ]


def test_a_kpi_without_targets_has_no_progress_to_report() -> None:
    assert assess(with_targets(Direction.INCREASE, ("2025", "60")), seen(y2026="66")) == []


def test_a_rising_kpi_ahead_of_the_straight_line_from_its_baseline_is_on_track() -> None:
    [to_2027, to_2029] = assess(RISING, seen(y2026="66"))

    # Half way from the end of 2025 to the end of 2027: 60 + (70 - 60) * 365/730.
    assert to_2027.expected == Decimal("65.00")
    assert to_2027.latest == Observation(parse_period("2026"), Decimal("66"))
    assert (to_2027.on_track, to_2027.achieved) == (True, False)
    # A quarter of the way to the end of 2029: 60 + 20 * 365/1461 = 64.9966 → 65.00.
    assert to_2029.expected == Decimal("65.00")
    assert to_2029.on_track is True


def test_a_rising_kpi_behind_the_straight_line_is_off_track() -> None:
    to_2027 = by_period(assess(RISING, seen(y2026="62")))["2027"]

    assert (to_2027.expected, to_2027.on_track, to_2027.achieved) == (
        Decimal("65.00"),
        False,
        False,
    )


def test_a_target_is_achieved_only_once_its_period_is_read_and_met() -> None:
    early = by_period(assess(RISING, seen(y2026="75")))["2027"]
    met = by_period(assess(RISING, seen(y2026="66", y2027="70")))["2027"]
    missed = by_period(assess(RISING, seen(y2026="66", y2027="69.9")))["2027"]

    assert (early.on_track, early.achieved) == (True, False), "ahead of time: on track, not done"
    assert (met.on_track, met.achieved, met.expected) == (True, True, Decimal("70"))
    assert (missed.on_track, missed.achieved) == (False, False)


def test_a_quarter_that_ends_the_target_year_counts_as_reading_that_year() -> None:
    to_2027 = by_period(assess(RISING, seen(q2027_Q4="71")))["2027"]

    assert to_2027.achieved is True


def test_readings_after_a_target_period_do_not_count_for_it() -> None:
    found = by_period(assess(RISING, seen(y2026="62", y2028="90")))

    assert found["2027"].latest == Observation(parse_period("2026"), Decimal("62"))
    assert found["2027"].on_track is False
    assert found["2029"].latest == Observation(parse_period("2028"), Decimal("90"))
    assert found["2029"].on_track is True


def test_the_latest_reading_before_a_target_is_the_one_judged() -> None:
    to_2027 = by_period(assess(RISING, seen(y2026="66", q2027_Q1="61", q2027_Q2="63")))["2027"]

    assert to_2027.latest == Observation(parse_period("2027-Q2"), Decimal("63"))


def test_a_falling_kpi_is_on_track_at_or_below_its_line() -> None:
    def verdict(**values: str) -> tuple[bool | None, bool]:
        [found] = assess(FALLING, seen(**values))
        return found.on_track, found.achieved

    assert verdict(y2026="14") == (True, False)  # expected 15.00
    assert verdict(y2026="15") == (True, False)
    assert verdict(y2026="16") == (False, False)
    assert verdict(y2027="10") == (True, True)
    assert verdict(y2027="9.5") == (True, True)
    assert verdict(y2027="10.01") == (False, False)


@pytest.mark.parametrize(
    ("value", "achieved"),
    [("100", True), ("105", True), ("95", True), ("105.01", False), ("94.99", False)],
)
def test_a_kpi_to_maintain_may_drift_five_percent_either_way(value: str, achieved: bool) -> None:
    [found] = assess(STEADY, seen(y2027=value))

    assert (found.on_track, found.achieved) == (achieved, achieved)


def test_without_a_baseline_the_target_itself_is_the_bar() -> None:
    no_baseline = with_targets(Direction.INCREASE, None, ("2027", "70"))

    [found] = assess(no_baseline, seen(y2026="69"))

    assert (found.expected, found.on_track, found.achieved) == (Decimal("70"), False, False)


def test_a_kpi_without_a_direction_is_read_as_one_that_should_rise() -> None:
    undirected = msgspec.structs.replace(RISING, direction=None)

    assert assess(undirected, seen(y2026="66")) == assess(RISING, seen(y2026="66"))


def test_targets_are_judged_in_period_order_whatever_order_they_were_set() -> None:
    reordered = with_targets(Direction.INCREASE, ("2025", "60"), ("2029", "80"), ("2027", "70"))

    assert [t.period for t in assess(reordered, [])] == ["2027", "2029"]


def test_an_exact_decimal_reaches_its_target_where_a_float_would_miss_it() -> None:
    assert not 0.1 + 0.2 <= 0.3  # a float series would be judged off target
    falling = with_targets(Direction.DECREASE, ("2025", "0.5"), ("2027", "0.3"))

    [found] = assess(falling, [Observation(parse_period("2027"), Decimal("0.1") + Decimal("0.2"))])

    assert found.achieved is True


def test_the_expected_value_keeps_two_more_decimals_than_its_figures() -> None:
    fine = with_targets(Direction.INCREASE, ("2025", "60.5"), ("2027", "70.25"))

    [found] = assess(fine, seen(y2026="66"))

    assert found.expected == Decimal("65.3750")
    assert str(found.expected) == "65.3750"


# -- from stored readings ----------------------------------------------------------------------
def test_progress_reads_the_current_total_series_only() -> None:
    readings = [
        stored(1, "2026", "62"),
        stored(2, "2026", "66"),  # a correction: this one counts
        stored(3, "2026", "90", series=FEMALE),  # a disaggregated series: not the total
    ]
    versions = select(readings, ReadingQuery(include_superseded=True))

    to_2027 = by_period(progress(RISING, versions))["2027"]

    assert to_2027.latest == Observation(parse_period("2026"), Decimal("66"))
    assert to_2027.on_track is True


def test_the_latest_reading_is_the_current_one_of_the_most_recent_period() -> None:
    readings = [stored(1, "2027", "70"), stored(2, "2026", "66"), stored(3, "2027", "71")]

    found = latest(select(readings, ReadingQuery(include_superseded=True)))

    assert found is not None
    assert (found.reading.period, found.reading.value, found.is_current) == (
        "2027",
        Decimal("71"),
        True,
    )
    assert latest([]) is None
