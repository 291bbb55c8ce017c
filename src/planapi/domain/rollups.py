"""Results rollups: where each KPI under a node stands, counted for a dashboard."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from planapi.domain.periods import Period
from planapi.domain.progress import TargetProgress


class Standing(enum.Enum):
    """Exactly one per KPI, so the counts add up to the KPIs."""

    ACHIEVED = "ACHIEVED"  # its last target reached
    ON_TRACK = "ON_TRACK"  # every target with readings on track
    OFF_TRACK = "OFF_TRACK"  # some target with readings off track
    NOT_ASSESSED = "NOT_ASSESSED"  # readings, but no target they can be judged against
    WITHOUT_DATA = "WITHOUT_DATA"  # no current reading of the total


def standing(targets: Sequence[TargetProgress], has_data: bool) -> Standing:
    """`targets` in period order, as `progress.assess` gives them."""
    if not has_data:
        return Standing.WITHOUT_DATA
    if targets and targets[-1].achieved:
        return Standing.ACHIEVED
    known = [t.on_track for t in targets if t.on_track is not None]
    if not known:
        return Standing.NOT_ASSESSED
    return Standing.ON_TRACK if all(known) else Standing.OFF_TRACK


@dataclass(frozen=True, slots=True)
class KpiStanding:
    standing: Standing
    latest: Period | None  # of its latest current reading of the total


@dataclass(frozen=True, slots=True)
class ProgressCounts:
    """The KPIs under a node by standing, and how many have reported the expected period.
    Figures of other kinds (an operational plan's implementation, budget) belong beside these,
    in a summary of their own that the API type composes."""

    kpis: int
    achieved: int
    on_track: int
    off_track: int
    not_assessed: int
    without_data: int
    expected: Period | None
    reported: int  # KPIs with a reading for `expected` (or a period ending no earlier)

    @property
    def completeness(self) -> float | None:
        return self.reported / self.kpis if self.kpis else None


class _Tally:
    """KPIs being counted: by standing (keyed by the member's plain `_value_`: hashing the
    member is a call into Python, per KPI per level), how many, how many reported."""

    __slots__ = ("by", "kpis", "reported")

    def __init__(self) -> None:
        self.by = dict.fromkeys((standing.value for standing in Standing), 0)
        self.kpis = self.reported = 0

    def take(self, kpi: KpiStanding, expected: Period | None) -> None:
        self.kpis += 1
        self.by[kpi.standing._value_] += 1
        if expected is not None and kpi.latest is not None and kpi.latest.end >= expected.end:
            self.reported += 1

    def add(self, other: _Tally) -> None:
        self.kpis += other.kpis
        self.reported += other.reported
        for key, found in other.by.items():
            self.by[key] += found

    def counts(self, expected: Period | None) -> ProgressCounts:
        by = self.by
        return ProgressCounts(
            kpis=self.kpis,
            achieved=by["ACHIEVED"],
            on_track=by["ON_TRACK"],
            off_track=by["OFF_TRACK"],
            not_assessed=by["NOT_ASSESSED"],
            without_data=by["WITHOUT_DATA"],
            expected=expected,
            reported=self.reported,
        )


def count(kpis: Iterable[KpiStanding], expected: Period | None) -> ProgressCounts:
    """A KPI has reported `expected` when its latest reading's period ends on or after it
    ends: a yearly KPI's 2029 covers the month 2029-12, a monthly KPI's 2029-12 the year."""
    tally = _Tally()
    for kpi in kpis:
        tally.take(kpi, expected)
    return tally.counts(expected)


def count_every(
    kpis: Iterable[tuple[str | None, KpiStanding]],
    parent_of: Callable[[str], str | None],
    expected: Period | None,
) -> dict[str | None, ProgressCounts]:
    """`count` of the KPIs under every node that has any below it, and of the whole plan
    (None), in one pass: each KPI (given with its parent's id) counted for its parent, then
    each parent's counts added to every node above it."""
    parents: dict[str | None, _Tally] = {}
    for parent, kpi in kpis:
        tally = parents.get(parent)
        if tally is None:
            tally = parents[parent] = _Tally()
        tally.take(kpi, expected)
    every: dict[str | None, _Tally] = {}
    for parent, tally in parents.items():
        node = parent
        while True:
            above = every.get(node)
            if above is None:
                above = every[node] = _Tally()
            above.add(tally)
            if node is None:
                break
            node = parent_of(node)
    return {node: tally.counts(expected) for node, tally in every.items()}
