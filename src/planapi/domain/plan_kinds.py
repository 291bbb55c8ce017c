"""Plan kinds: an action plan, or an operational plan that implements one.

The draft says the action plan is implemented through an operational plan that BDT prepares
every year: a four-year rolling plan of activities that the Council approves. Both live in the
same event log; which node kinds each holds keeps an activity out of an action plan and
priorities out of an operational plan.
"""

from __future__ import annotations

import enum

from planapi.domain.errors import Problem
from planapi.domain.nodes import NodeKind


class PlanKind(enum.Enum):
    ACTION_PLAN = "ACTION_PLAN"
    OPERATIONAL_PLAN = "OPERATIONAL_PLAN"


_OPERATIONAL_KINDS = frozenset({NodeKind.ACTIVITY, NodeKind.KPI, NodeKind.SECTION, NodeKind.TERM})

# The node kinds each plan kind may hold.
NODE_KINDS: dict[PlanKind, frozenset[NodeKind]] = {
    PlanKind.ACTION_PLAN: frozenset(NodeKind) - {NodeKind.ACTIVITY},
    PlanKind.OPERATIONAL_PLAN: _OPERATIONAL_KINDS,
}


def node_kind_problems(
    plan_kind: PlanKind, kind: NodeKind, path: tuple[str | int, ...]
) -> list[Problem]:
    if kind in NODE_KINDS[plan_kind]:
        return []
    allowed = ", ".join(sorted(k.value for k in NODE_KINDS[plan_kind]))
    return [Problem(path, f"an {plan_kind.value} holds no {kind.value} (allowed: {allowed})")]


def creation_problems(plan_kind: PlanKind, implements: str | None) -> list[Problem]:
    """What the plan's kind asks of `implements` (the action plan an operational plan serves)."""
    if plan_kind is PlanKind.OPERATIONAL_PLAN and implements is None:
        return [Problem(("implements",), "an OPERATIONAL_PLAN names the action plan it implements")]
    if plan_kind is PlanKind.ACTION_PLAN and implements is not None:
        return [Problem(("implements",), "only an OPERATIONAL_PLAN implements another plan")]
    return []
