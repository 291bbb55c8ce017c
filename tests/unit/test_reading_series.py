"""A batch checks each series once (`SeriesChecks`), yet every reading gets the answer it would
get alone: the same series key, and the same problems with its disaggregation, at its index."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from planapi.domain.readings import NewReading, ReadingStatus, check_readings, series_key
from tests.readings_fixtures import PLAN_ID, kpi_map

VALUE = Decimal("65")
PAIRS = st.tuples(
    st.sampled_from(["sex", "region", "age"]),
    st.sampled_from(["female", "male", "Africa", "Europe", "other"]),
)
# kpi-1 declares sex and region (two values each); kpi-4 declares none.
READINGS = st.builds(
    lambda kpi_id, pairs, year: NewReading(
        kpi_id, str(year), ReadingStatus.FINAL, VALUE, disaggregation=tuple(pairs)
    ),
    st.sampled_from(["kpi-1", "kpi-4"]),
    st.lists(PAIRS, max_size=3),
    st.integers(2026, 2029),
)


def _alone(reading: NewReading, index: int) -> tuple[list[str], list[tuple[object, str]]]:
    checked, problems = check_readings(kpi_map(), [reading], PLAN_ID)
    moved = [(("readings", index, *p.path[2:]), p.message) for p in problems]
    return [c.series for c in checked], moved


@given(st.lists(READINGS, max_size=12))
def test_each_reading_of_a_batch_is_checked_as_it_would_be_alone(
    readings: list[NewReading],
) -> None:
    checked, problems = check_readings(kpi_map(), readings, PLAN_ID)
    series = iter(c.series for c in checked)
    for index, reading in enumerate(readings):
        keys, expected = _alone(reading, index)
        found = [(p.path, p.message) for p in problems if p.path[1] == index]
        repeats = [f for f in found if f[1].startswith("repeats the KPI")]
        if repeats:  # a repeat within the batch: refused there, not alone
            assert not expected
            assert len(found) == 1
            continue
        assert found == expected
        if not expected:
            assert [next(series)] == keys == [series_key(reading.disaggregation)]


def test_a_wrong_disaggregation_is_reported_at_every_reading_that_gives_it() -> None:
    wrong = (("region", "Africa"), ("sex", "other"))
    readings = [
        NewReading("kpi-1", year, ReadingStatus.FINAL, VALUE, disaggregation=wrong)
        for year in ("2026", "2027")
    ]
    _, problems = check_readings(kpi_map(), readings, PLAN_ID)
    assert [(p.path, p.message) for p in problems] == [
        (("readings", i, "disaggregation", "sex"), "'other' is not one of female, male")
        for i in (0, 1)
    ]
