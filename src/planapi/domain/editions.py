"""An operational plan's edition: each year the Council approves it as a four-year rolling plan
(edition 2027: activities for 2027, a forecast for 2028-2030). The approval is an amendment on
the Council's authority that sets the edition."""

from __future__ import annotations

from planapi.domain.errors import Problem
from planapi.domain.events import AmendmentInfo, Authority
from planapi.domain.plan import PlanState
from planapi.domain.plan_kinds import PlanKind

EDITION_AUTHORITY = Authority.COUNCIL


def edition_problems(state: PlanState, info: AmendmentInfo, edition: int | None) -> list[Problem]:
    if edition is None:
        return []
    problems: list[Problem] = []
    if state.plan_kind is not PlanKind.OPERATIONAL_PLAN:
        problems.append(Problem(("edition",), "only an OPERATIONAL_PLAN has editions"))
    if info.authority is not EDITION_AUTHORITY:
        problems.append(
            Problem(("authority",), f"an edition is approved by {EDITION_AUTHORITY.value}")
        )
    if not state.period_start <= edition <= state.period_end:
        problems.append(
            Problem(
                ("edition",),
                f"must be a year of the plan's period {state.period_start}-{state.period_end}",
            )
        )
    elif state.edition is not None and edition < state.edition:
        problems.append(
            Problem(("edition",), f"editions only go forward: this plan is at {state.edition}")
        )
    return problems
