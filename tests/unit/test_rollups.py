"""Results rollups: each KPI stands in exactly one place, and "reported" reads period ends."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from planapi.domain.periods import parse_period
from planapi.domain.progress import Observation, TargetProgress
from planapi.domain.rollups import KpiStanding, Standing, count, count_every, standing

PERIODS = [None, "2027", "2028-06", "2029", "2029-12"]


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


# A tree of node ids: each node's parent is an earlier node or the plan (None).
trees = st.integers(1, 12).flatmap(
    lambda size: st.tuples(
        *(st.sampled_from([None, *(f"n{j}" for j in range(i))]) for i in range(size))
    )
)
kpis_under = st.lists(
    st.tuples(st.integers(0, 11), st.sampled_from(list(Standing)), st.sampled_from(PERIODS)),
    max_size=30,
)


@given(trees, kpis_under, st.sampled_from(PERIODS))
def test_counting_every_node_at_once_counts_each_as_counting_it_alone(
    tree: tuple[str | None, ...],
    kpis: list[tuple[int, Standing, str | None]],
    expected: str | None,
) -> None:
    parent = {f"n{i}": above for i, above in enumerate(tree)}
    placed = [
        (f"n{at % len(tree)}", KpiStanding(s, parse_period(p) if p else None)) for at, s, p in kpis
    ]
    period = parse_period(expected) if expected else None

    every = count_every(placed, parent.__getitem__, period)

    def below(node: str | None, above: str | None) -> bool:
        while node is not None:
            if node == above:
                return True
            node = parent[node]
        return above is None

    for node in [None, *parent]:
        alone = count((kpi for at, kpi in placed if below(at, node)), period)
        assert every.get(node, count((), period)) == alone
