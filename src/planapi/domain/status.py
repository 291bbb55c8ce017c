"""A plan's status (draft, adopted, superseded): who may change it, and which changes are allowed.

Status is part of every version's state, set only by an amendment (or at creation) whose
authority the table below allows for the plan's kind: the WTDC adopts an action plan. A plan
becomes SUPERSEDED only when a successor that names it (`succeeds`) is adopted; the application
records that on the predecessor's own stream, as an amendment on the successor's authority.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from planapi.domain.errors import Problem
from planapi.domain.events import AmendmentInfo, Authority, PlanStatus
from planapi.domain.plan import PlanState

__all__ = [
    "ACTION_PLAN",
    "STATUS_AUTHORITIES",
    "PlanStatus",
    "amendment_status_problems",
    "creation_status_problems",
    "plan_kind_of",
    "status_problems",
]


# Plans without a kind of their own are action plans (the only kind before operational plans).
ACTION_PLAN = "ACTION_PLAN"
OPERATIONAL_PLAN = "OPERATIONAL_PLAN"

# Who may change a plan's status, by plan kind: one line per kind.
STATUS_AUTHORITIES: Mapping[str, frozenset[Authority]] = MappingProxyType(
    {
        ACTION_PLAN: frozenset({Authority.WTDC}),
        OPERATIONAL_PLAN: frozenset({Authority.COUNCIL}),
    }
)

_PLAN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}\Z")
_KIND_NAMES = {ACTION_PLAN: "an action plan", OPERATIONAL_PLAN: "an operational plan"}

# The status each status may become by an amendment that asks for it.
_ALLOWED: Mapping[PlanStatus, frozenset[PlanStatus]] = MappingProxyType(
    {
        PlanStatus.DRAFT: frozenset({PlanStatus.ADOPTED}),
        PlanStatus.ADOPTED: frozenset(),
        PlanStatus.SUPERSEDED: frozenset(),
    }
)


def plan_kind_of(state: object) -> str:
    """The plan's kind as the table keys it: ACTION_PLAN for plans that name none."""
    kind = getattr(state, "plan_kind", None)
    value = getattr(kind, "value", kind)
    return value if isinstance(value, str) else ACTION_PLAN


def authority_problems(plan_kind: str, authority: Authority) -> list[Problem]:
    allowed = STATUS_AUTHORITIES.get(plan_kind, frozenset())
    if authority in allowed:
        return []
    names = " or ".join(sorted(a.value for a in allowed)) or "no authority"
    what = _KIND_NAMES.get(plan_kind, f"a plan of kind {plan_kind}")
    return [
        Problem(
            ("status",),
            f"only {names} may change the status of {what}; this amendment's authority is "
            f"{authority.value}",
        )
    ]


def status_problems(
    plan_kind: str,
    authority: Authority,
    current: PlanStatus | None,
    wanted: PlanStatus,
    *,
    successor: str | None = None,
) -> list[Problem]:
    """Problems with moving a plan from `current` (None: being created) to `wanted`.

    SUPERSEDED is reached only through `successor`, the adopted plan that names this one."""
    if wanted is PlanStatus.SUPERSEDED:
        if successor is None:
            return [
                Problem(
                    ("status",),
                    "a plan becomes SUPERSEDED when a successor that names it (succeeds) is "
                    "adopted; it cannot be set directly",
                )
            ]
        return authority_problems(plan_kind, authority)
    if current is None:
        if wanted is PlanStatus.DRAFT:
            return []
        return authority_problems(plan_kind, authority)
    if wanted is current:
        return [Problem(("status",), f"the plan is already {current.value}")]
    if wanted not in _ALLOWED[current]:
        return [Problem(("status",), f"a {current.value} plan cannot become {wanted.value}")]
    return authority_problems(plan_kind, authority)


def succeeds_problems(plan_id: str, succeeds: str | None) -> list[Problem]:
    """The predecessor's existence is the application's to check: it reads another stream."""
    if succeeds is None:
        return []
    if succeeds == plan_id:
        return [Problem(("succeeds",), "a plan cannot succeed itself")]
    if not _PLAN_ID.match(succeeds):
        return [Problem(("succeeds",), f"{succeeds!r} is not a plan id")]
    return []


def creation_status_problems(
    info: AmendmentInfo,
    plan_id: str,
    status: PlanStatus,
    succeeds: str | None,
    plan_kind: str = "ACTION_PLAN",
) -> list[Problem]:
    return [
        *status_problems(plan_kind, info.authority, None, status),
        *succeeds_problems(plan_id, succeeds),
    ]


def amendment_status_problems(
    state: PlanState,
    info: AmendmentInfo,
    status: PlanStatus | None,
    succeeds: str | None,
    superseded_by: str | None,
) -> list[Problem]:
    problems = succeeds_problems(state.id, succeeds)
    if succeeds is not None and state.status is not PlanStatus.DRAFT:
        problems.append(Problem(("succeeds",), "only a DRAFT plan may name the plan it succeeds"))
    if status is not None:
        problems += status_problems(
            plan_kind_of(state), info.authority, state.status, status, successor=superseded_by
        )
    return problems
