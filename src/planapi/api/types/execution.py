"""Execution of operational plans in GraphQL: `recordExecution` (integrations, like readings),
an activity's execution as of an instant, and a plan's implementation figures. Execution
records move no log head the response cache keys by, so these reads are never cached
(api/runtime/cacheability.UNCACHED)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from decimal import Decimal
from typing import Annotated, Any

import strawberry

from planapi.api.types import scalars  # noqa: F401  (registers the domain enums)
from planapi.api.types.context import Context
from planapi.api.types.errors import (
    Forbidden,
    IdempotencyKeyReused,
    PlanNotFound,
    ValidationFailed,
    as_union_member,
    bad_input,
)
from planapi.api.types.root_fields import Caching, declare
from planapi.application.access import ANY, Permission
from planapi.application.execution import ExecutionService, Implementation
from planapi.domain.activity_values import ActivityStatus, FundingSource
from planapi.domain.errors import PlanApiError, Problem, ValidationError
from planapi.domain.execution import ActivityExecution, ExecutionKind, ExecutionRecord
from planapi.domain.implementation import Figures
from planapi.domain.nodes import NodeKind
from planapi.domain.plan import PlanState
from planapi.domain.plan_kinds import PlanKind

Info = strawberry.Info[Context, None]
ExecutionKindEnum = strawberry.enum(
    ExecutionKind,
    name="ExecutionKind",
    description="STATUS: ONGOING or COMPLETED. MILESTONE: one reached. EXPENDITURE: CHF spent "
    "in a year from a funding source (the latest record of a year and source is the amount).",
)


@strawberry.input(description="One fact of execution; `key` makes a resend store nothing.")
class ExecutionRecordInput:
    key: str
    activity_id: strawberry.ID
    kind: ExecutionKind
    occurred_on: dt.date = strawberry.field(description="When it happened (valid time).")
    status: ActivityStatus | None = None
    milestone_key: str | None = None
    year: int | None = None
    source: FundingSource | None = None
    amount: Decimal | None = None

    def value(self) -> ExecutionRecord:
        return ExecutionRecord(
            self.key,
            self.activity_id,
            self.kind,
            self.occurred_on,
            self.status,
            self.milestone_key,
            self.year,
            self.source,
            self.amount,
        )


@strawberry.input
class RecordExecutionInput:
    plan_id: strawberry.ID
    records: list[ExecutionRecordInput]


@strawberry.type(description="The execution records were stored, all of them.")
class ExecutionRecorded:
    stored: int
    duplicates: int = strawberry.field(description="Records whose key was known: not stored.")
    recorded_at: dt.datetime | None = strawberry.field(description="Null when nothing was new.")


RecordExecutionResult = Annotated[
    ExecutionRecorded | ValidationFailed | PlanNotFound | IdempotencyKeyReused | Forbidden,
    strawberry.union("RecordExecutionResult"),
]


def _service(info: Info) -> ExecutionService:
    service = info.context.execution
    assert service is not None, "execution records need the database"
    return service


async def record_execution(info: Info, input: RecordExecutionInput) -> RecordExecutionResult:
    scope = info.context.principal.scope if info.context.principal else ANY
    records = [item.value() for item in input.records]
    try:
        done = await _service(info).record(input.plan_id, records, info.context.actor, scope)
    except PlanApiError as error:
        return as_union_member(error)  # type: ignore[no-any-return]
    when = done.stored[-1].recorded_at if done.stored else None
    return ExecutionRecorded(stored=len(done.stored), duplicates=done.duplicates, recorded_at=when)


@strawberry.type
class MilestoneReached:
    key: str
    reached_on: dt.date


@strawberry.type
class Expenditure:
    year: int
    source: FundingSource
    amount: Decimal


@strawberry.type(name="ActivityExecution", description="What execution records say.")
class ActivityExecutionType:
    status: ActivityStatus | None = strawberry.field(description="ONGOING, COMPLETED or null.")
    milestones: list[MilestoneReached]
    spent: list[Expenditure]

    @classmethod
    def of(cls, seen: ActivityExecution) -> ActivityExecutionType:
        return cls(
            status=seen.status,
            milestones=[MilestoneReached(key=k, reached_on=d) for k, d in seen.milestones.items()],
            spent=[
                Expenditure(year=y, source=s, amount=a)
                for (y, s), a in sorted(
                    seen.spent.items(), key=lambda item: (item[0][0], item[0][1].value)
                )
            ],
        )


async def activity_execution(
    root: strawberry.Parent[object], info: Info, as_of: dt.datetime | None = None
) -> ActivityExecutionType:
    plan: PlanState = root.plan  # type: ignore[attr-defined]
    node_id: str = root.node.id  # type: ignore[attr-defined]
    seen = await info.context.execution_loader.load((plan.id, _instant(as_of)))
    return ActivityExecutionType.of(seen.get(node_id, ActivityExecution()))


@strawberry.type(description="Completed against planned, executed against planned (CHF).")
class ImplementationFigures:
    planned: int = strawberry.field(description="Activities running in the period, not cancelled.")
    completed: int
    implementation_rate: Decimal | None = strawberry.field(
        description="completed / planned, to four places; null when nothing was planned."
    )
    budget_planned: Decimal
    budget_executed: Decimal

    @classmethod
    def of(cls, figures: Figures) -> ImplementationFigures:
        return cls(
            planned=figures.planned,
            completed=figures.completed,
            implementation_rate=figures.implementation_rate,
            budget_planned=figures.budget_planned,
            budget_executed=figures.budget_executed,
        )


@strawberry.type(description="Figures of one activity, output or priority (null: none).")
class KeyedFigures:
    key: str | None
    figures: ImplementationFigures


def _keyed(items: dict[str, Figures] | dict[str | None, Figures]) -> list[KeyedFigures]:
    return [KeyedFigures(key=k, figures=ImplementationFigures.of(f)) for k, f in items.items()]


@strawberry.type(description="Implementation of an operational plan, as of `asOf`.")
class PlanImplementation:
    """Each list made when selected: a dashboard reading the outputs' figures does not pay for
    every activity's."""

    year: int | None
    found: strawberry.Private[Implementation]

    @strawberry.field
    def total(self) -> ImplementationFigures:
        return ImplementationFigures.of(self.found.total)

    @strawberry.field
    def activities(self) -> list[KeyedFigures]:
        return _keyed(self.found.activities)

    @strawberry.field
    def outputs(self) -> list[KeyedFigures]:
        return _keyed(self.found.outputs)

    @strawberry.field
    def priorities(self) -> list[KeyedFigures]:
        return _keyed(self.found.priorities)


async def plan_implementation(
    root: strawberry.Parent[object],
    info: Info,
    year: int | None = None,
    as_of: dt.datetime | None = None,
) -> PlanImplementation:
    state: PlanState = root._state  # type: ignore[attr-defined]
    _service(info)  # a server without the database says so here, not in a loader
    found = await info.context.implementation(state, year, _instant(as_of))
    return PlanImplementation(year=year, found=found)


def summary_figures(
    context: Context, plan: PlanState, under: str | None, year: int | None
) -> ImplementationFigures | Awaitable[ImplementationFigures | None] | None:
    """A progressSummary's implementation figures: of an operational plan, its own; of an
    action plan (`under`: one of its priorities or outcomes, or None), those of the activities
    of the operational plans implementing it (latest versions) serving it. None where no
    operational plan's activities count: an action plan nothing implements, a node of an
    operational plan. At once when the plan query read what they need (`prepare`), as a
    dashboard's 31 summaries do; otherwise an awaitable."""
    found = figures_now(context, plan, under, year)
    return _summary_figures(context, plan, under, year) if found is NOT_READ else found


NOT_READ = object()  # what the figures need is not read yet


def figures_now(context: Context, plan: PlanState, under: str | None, year: int | None) -> Any:
    """`summary_figures` from what this request has read, or NOT_READ."""
    if plan.plan_kind is PlanKind.OPERATIONAL_PLAN:
        if under:
            return None
        implementing: list[PlanState] | None = [plan]
    else:
        implementing = context.implementing_now(plan.id)
    if implementing is None:
        return NOT_READ
    each = [context.implementation_now(state, year) for state in implementing]
    if any(found is None for found in each):
        return NOT_READ
    return _summed(plan, under, each)  # type: ignore[arg-type]


async def _summary_figures(
    context: Context, plan: PlanState, under: str | None, year: int | None
) -> ImplementationFigures | None:
    if plan.plan_kind is PlanKind.OPERATIONAL_PLAN:
        return _summed(plan, under, [await context.implementation(plan, year)])
    implementing = await context.implementing_loader.load(plan.id)
    return _summed(plan, under, [await context.implementation(s, year) for s in implementing])


def _summed(
    plan: PlanState, under: str | None, found: list[Implementation]
) -> ImplementationFigures | None:
    """The figures of `under` (None: the whole plan) from each implementing plan's."""
    if not found:
        return None
    node = plan.node(under) if under else None
    total = Figures()
    for each in found:
        if node is None:
            total += each.total
        elif node.kind is NodeKind.PRIORITY:
            total += each.priorities.get(node.id, Figures())
        else:
            total += each.outcomes.get(node.id, Figures())
    return ImplementationFigures.of(total)


def _instant(as_of: dt.datetime | None) -> dt.datetime | None:
    if as_of is not None and as_of.tzinfo is None:
        raise bad_input(ValidationError([Problem(("asOf",), "must include a UTC offset")]))
    return as_of


@strawberry.type
class ExecutionMutations:
    """The execution root field, which `api.schema.Mutation` inherits."""

    record_execution: RecordExecutionResult = strawberry.mutation(
        resolver=record_execution,
        description="Record the execution of an operational plan's activities (status ONGOING "
        "or COMPLETED, milestones reached, CHF spent per year and source): all or none; a "
        "record whose key the plan already holds stores nothing (a different content under it "
        "is IdempotencyKeyReused).",
        metadata=declare(Permission.RECORD_READINGS, Caching.NOT_A_QUERY),
    )
