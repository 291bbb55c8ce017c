"""The plan in force on a date, as the log stood at an instant (asOf) or now."""

from __future__ import annotations

import datetime as dt

from planapi.application.plan_views import PlanVersion
from planapi.application.plans import PlanService, stream_of
from planapi.domain.errors import Problem, ValidationError
from planapi.domain.in_force import standings, version_in_force

# What `Query.plan` says of itself (kept here, beside the rule it describes).
PLAN_FIELD = (
    "The plan as of `version` (1 = creation) or the instant `asOf` (the latest amendment "
    "recorded at or before it); neither: the latest. Null when the plan did not exist then. "
    "`inForceOn`: the latest ADOPTED version effective (`effectiveFrom`, else the day it was "
    "recorded) on or before that date, among the versions recorded by `asOf` when given too; "
    "null when none was adopted (or the plan was superseded) by then."
)


async def plan_in_force(
    service: PlanService, plan_id: str, on: dt.date, as_of: dt.datetime | None = None
) -> PlanVersion | None:
    """The latest ADOPTED version effective on or before `on` among the versions recorded by
    `as_of` (all when None); None when there is none."""
    stream = stream_of(plan_id)
    if as_of is not None:
        # Checked and resolved as `plan(asOf:)` does; that version is the likely answer anyway.
        believed = await service.plan(plan_id, as_of=as_of)
        upto = believed.state.version if believed is not None else 0
    else:
        upto = await service.events.latest_version(stream)
    if upto == 0:
        return None
    # Status and effective date only: the events are read, not folded.
    records = await service.events.read(stream, 0, upto)
    facts = ((r.version, r.event, r.info, r.recorded_at) for r in records)
    chosen = version_in_force(standings(facts), on)
    return None if chosen is None else await service.plan(plan_id, chosen)


async def read_plan(
    service: PlanService,
    plan_id: str,
    version: int | None = None,
    as_of: dt.datetime | None = None,
    in_force_on: dt.date | None = None,
) -> PlanVersion | None:
    """What `plan(id, version, asOf, inForceOn)` and the document route answer."""
    if in_force_on is None:
        return await service.plan(plan_id, version, as_of)
    if version is not None:
        raise ValidationError(
            [Problem(("inForceOn",), "give inForceOn alone or with asOf, not with version")]
        )
    return await plan_in_force(service, plan_id, in_force_on, as_of)


async def version_for_links(service: PlanService, plan_id: str, on: dt.date) -> PlanVersion | None:
    """The version of action plan `plan_id` an operational plan's links are checked against on
    day `on`: the one in force then; while none is (a draft never adopted, an adoption
    effective later, a superseded plan), its latest. None: no such plan."""
    found = await plan_in_force(service, plan_id, on)
    return found if found is not None else await service.plan(plan_id)
