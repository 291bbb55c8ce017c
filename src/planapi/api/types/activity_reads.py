"""`Output.activities` and `Priority.activities` on an action plan: the activities of the
operational plans implementing it (their latest versions). They read other plans' streams, so
they reach the request context and the response cache keys them by the event log's head
besides their plan's version (api/runtime/cacheability.py names them in OTHER_PLANS).
Imported by nodes.py, so nothing here imports it at load time: the types it returns are named
lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Protocol

import strawberry

from planapi.api.types.context import Context
from planapi.domain.activities import runs_in
from planapi.domain.nodes import Node, NodeKind
from planapi.domain.plan import PlanState
from planapi.domain.plan_kinds import PlanKind

if TYPE_CHECKING:
    from planapi.api.types.activities import Activity

Info = strawberry.Info[Context, None]


class _Read(Protocol):
    node: Node
    plan: PlanState


async def operational_plans(state: PlanState, info: Info) -> list[PlanState]:
    """The operational plans whose activities count for `state`: itself, or for an action
    plan, those implementing it (latest versions)."""
    if state.plan_kind is PlanKind.OPERATIONAL_PLAN:
        return [state]
    return await info.context.implementing_loader.load(state.id)


async def _activities(
    root: _Read, info: Info, year: int | None, wanted: set[str]
) -> list[Activity]:
    from planapi.api.types.nodes import as_type

    plans = await operational_plans(root.plan, info)
    return [
        as_type(node, plan)  # type: ignore[misc]
        for plan in plans
        for node in plan.children_of(None, NodeKind.ACTIVITY)
        if runs_in(node, year) and wanted & {*node.output_ids, *node.serves_ids}
    ]


async def output_activities(
    root: _Read, info: Info, year: int | None = None
) -> list[Annotated[Activity, strawberry.lazy("planapi.api.types.activities")]]:
    """Activities delivering this output (of a year: running in it)."""
    return await _activities(root, info, year, {root.node.id})


async def priority_activities(
    root: _Read, info: Info, year: int | None = None
) -> list[Annotated[Activity, strawberry.lazy("planapi.api.types.activities")]]:
    """Activities serving this priority or one of its outcomes (of a year: running in it)."""
    outcomes = root.plan.children_of(root.node.id, NodeKind.OUTCOME)
    return await _activities(root, info, year, {root.node.id, *(n.id for n in outcomes)})
