"""Results rollups: each KPI stands in exactly one place, and "reported" reads period ends."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from planapi.domain.periods import parse_period
from planapi.domain.progress import Observation, TargetProgress
from planapi.domain.rollups import KpiStanding, Standing, count, standing


def target(period: str, *, on_track: bool | None, achieved: bool = False) -> TargetProgress:
    seen = None if on_track is None else Observation(parse_period(period), Decimal(1))
    return TargetProgress(period, Decimal(1), seen, None, on_track, achieved)


def test_a_kpi_without_a_current_reading_is_without_data_whatever_its_targets() -> None:
    assert standing([target("2029", on_track=None)], has_data=False) is Standing.WITHOUT_DATA


def test_only_the_last_target_reached_makes_a_kpi_achieved() -> None:
    first_met = [target("2027", on_track=True, achieved=True), target("2029", on_track=False)]
    assert standing(first_met, has_data=True) is Standing.OFF_TRACK
    last_met = [target("2027", on_track=False), target("2029", on_track=True, achieved=True)]
    assert standing(last_met, has_data=True) is Standing.ACHIEVED


def test_readings_with_nothing_to_judge_them_by_are_not_assessed() -> None:
    assert standing([], has_data=True) is Standing.NOT_ASSESSED  # no targets, or qualitative
    assert standing([target("2027", on_track=None)], has_data=True) is Standing.NOT_ASSESSED


def test_a_reading_covers_the_expected_period_when_it_ends_no_earlier() -> None:
    kpis = [
        KpiStanding(Standing.ON_TRACK, parse_period("2029")),  # the year covers 2029-12
        KpiStanding(Standing.ON_TRACK, parse_period("2029-12")),
        KpiStanding(Standing.OFF_TRACK, parse_period("2029-11")),
        KpiStanding(Standing.WITHOUT_DATA, None),
    ]
    counts = count(kpis, parse_period("2029-12"))
    assert (counts.reported, counts.completeness) == (2, 0.5)
    assert count([], None).completeness is None  # no KPIs: no share to give


@given(st.lists(st.sampled_from(list(Standing)), max_size=50))
def test_the_counts_add_up_to_the_kpis(standings: list[Standing]) -> None:
    counts = count((KpiStanding(s, None) for s in standings), None)
    parts = (
        counts.achieved,
        counts.on_track,
        counts.off_track,
        counts.not_assessed,
        counts.without_data,
    )
    assert sum(parts) == counts.kpis == len(standings)
    assert counts.reported == 0
