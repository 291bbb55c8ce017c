"""Results rollups: where each KPI under a node stands, counted for a dashboard."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
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


def count(kpis: Iterable[KpiStanding], expected: Period | None) -> ProgressCounts:
    """A KPI has reported `expected` when its latest reading's period ends on or after it
    ends: a yearly KPI's 2029 covers the month 2029-12, a monthly KPI's 2029-12 the year."""
    tally = dict.fromkeys(Standing, 0)
    total = reported = 0
    for kpi in kpis:
        total += 1
        tally[kpi.standing] += 1
        if expected is not None and kpi.latest is not None and kpi.latest.end >= expected.end:
            reported += 1
    return ProgressCounts(
        kpis=total,
        achieved=tally[Standing.ACHIEVED],
        on_track=tally[Standing.ON_TRACK],
        off_track=tally[Standing.OFF_TRACK],
        not_assessed=tally[Standing.NOT_ASSESSED],
        without_data=tally[Standing.WITHOUT_DATA],
        expected=expected,
        reported=reported,
    )
