"""`Plan.budget`: an operational plan's budget broken down by priority, output, funding source
or region (on an action plan: the operational plans implementing it). It reads other plans'
streams, so the response cache keys it by the heads of the logs."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from planapi.api.types.activity_reads import operational_plans
from planapi.api.types.context import Context
from planapi.domain.activity_values import AllocationBasis
from planapi.domain.allocation import francs
from planapi.domain.ledger import Served
from planapi.domain.plan import PlanState
from planapi.domain.plan_kinds import PlanKind

Info = strawberry.Info[Context, None]


@strawberry.type(description="One part of a budget breakdown, in CHF.")
class BudgetAmount:
    key: str | None = strawberry.field(
        description="A priority or output (its node id in the action plan), a funding source or "
        "a region, as `by` says; null: what serves none of them (unallocated)."
    )
    amount: Decimal


@strawberry.type(description="A budget and its breakdown; the amounts add up to the total.")
class BudgetBreakdown:
    year: int | None
    by: AllocationBasis
    total: Decimal
    items: list[BudgetAmount]


async def action_plan(state: PlanState, info: Info) -> PlanState | None:
    """The action plan `state` is, or implements (its latest version, once a request)."""
    if state.plan_kind is PlanKind.ACTION_PLAN:
        return state
    return await info.context.latest_loader.load(state.implements) if state.implements else None


async def plan_budget(
    root: strawberry.Parent[object], info: Info, by: AllocationBasis, year: int | None = None
) -> BudgetBreakdown:
    state: PlanState = root._state  # type: ignore[attr-defined]
    plans = await operational_plans(state, info)
    action = await action_plan(state, info) if by is AllocationBasis.PRIORITY else None
    total, by_key = 0, dict[str | None, int]()
    for plan in plans:  # in order: keys in first-seen order over all their activities
        cents, parts = info.context.ledger(plan).breakdown(year, by, Served(action))
        total += cents
        for key, part in parts.items():
            by_key[key] = by_key.get(key, 0) + part
    items = [BudgetAmount(key=key, amount=francs(amount)) for key, amount in by_key.items()]
    return BudgetBreakdown(year=year, by=by, total=francs(total), items=items)
