"""Which version of a plan was in force on a date, from each version's status and effective date.

A version is in force from its effective date (its recording date when none was given). The
plan in force on a day is its latest ADOPTED version effective on or before it; none once a
SUPERSEDED version is effective on or before it (the successor is in force then), and none
before its first adoption.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from planapi.domain.events import AmendmentInfo, PlanEvent, PlanStatus


@dataclass(frozen=True, slots=True)
class VersionStanding:
    version: int
    status: PlanStatus
    effective: dt.date


def standings(
    versions: Iterable[tuple[int, PlanEvent, AmendmentInfo, dt.datetime]],
) -> Iterator[VersionStanding]:
    """Each version's status and effective date, from the events in version order (from 1)."""
    status = PlanStatus.DRAFT
    for version, event, info, recorded_at in versions:
        status = event.status or status
        yield VersionStanding(version, status, info.effective_from or recorded_at.date())


def version_in_force(versions: Iterable[VersionStanding], on: dt.date) -> int | None:
    found: int | None = None
    for standing in versions:
        if standing.effective > on:
            continue
        if standing.status is PlanStatus.SUPERSEDED:
            return None
        if standing.status is PlanStatus.ADOPTED:
            found = standing.version if found is None else max(found, standing.version)
    return found
