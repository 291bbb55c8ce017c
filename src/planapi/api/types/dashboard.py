"""What dashboards read: each KPI's latest reading and progress, and results rollups.

All of it comes from the plan's summary of current readings (`application/reading_summary.py`),
caught up once per request, so a whole tree of KPIs costs the same few statements as one. A
question the summary cannot answer (a disaggregated series) takes the per-request loader.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from planapi.api.types.context import Context
from planapi.api.types.errors import bad_input
from planapi.api.types.execution import (
    NOT_READ,
    ImplementationFigures,
    figures_now,
    summary_figures,
)
from planapi.api.types.readings import DimensionValueInput, KpiProgress, Reading
from planapi.application.reading_summary import PlanReadings
from planapi.application.readings import latest, progress
from planapi.domain.errors import PeriodError, Problem, ValidationError
from planapi.domain.nodes import Node
from planapi.domain.periods import Period, parse_period
from planapi.domain.plan import PlanState
from planapi.domain.plan_kinds import PlanKind
from planapi.domain.progress import TargetProgress as TargetProgressModel
from planapi.domain.readings import ReadingQuery
from planapi.domain.rollups import ProgressCounts

_TOTAL = ReadingQuery(disaggregation=())


# Metadata key of a field that can answer from its parent and the request's context alone,
# without its resolver: `api/runtime/execution.py` compiles such fields into the tree it
# completes directly (its resolver stays for everything else: arguments, no summary yet).
AT_ONCE = "planapi-at-once"


class NotYet(LookupError):
    """No summary caught up for this request: the field must run its resolver."""


def at_once(answer: Callable[[Any, Context], Any]) -> dict[str, Any]:
    return {AT_ONCE: answer}


def _summary_now(context: Context, plan: PlanState) -> PlanReadings:
    found = context.current_readings_now(plan.id)
    if found is None:
        raise NotYet(plan.id)
    return found


def latest_at_once(kpi: Any, context: Context) -> Reading | None:
    found = _summary_now(context, kpi.plan).latest(kpi.node.id)
    return Reading(version=found) if found else None


def progress_at_once(kpi: Any, context: Context) -> KpiProgress:
    return _progress(kpi.node, _summary_now(context, kpi.plan).progress(kpi.node))


def summary_at_once(node: Any, context: Context) -> ProgressSummary:
    plan: PlanState = node.plan
    return _summary(_summary_now(context, plan), plan, node.node.id, None, None)


IMPLEMENTATION_DESCRIPTION = (
    "Activities completed against planned and CHF executed against planned, of the year the "
    "summary was asked for (all years when none), with execution as recorded now. Of an "
    "OPERATIONAL_PLAN: all its activities. Of an action plan, a priority or an outcome: the "
    "activities of the operational plans implementing it (latest versions) serving it, each "
    "counted whole, its money split as `Plan.budget` splits it (for an outcome: among the "
    "outcomes the activity names). Null where no operational plan's activities count: an "
    "action plan that none implements, or a node of an operational plan."
)


# Fields answered from the summary: a query of a plan selecting any of them has the summary
# caught up before its tree resolves (`prepare`).
_FROM_SUMMARY = frozenset({"latest", "progress", "progressSummary"})


async def prepare(info: strawberry.Info[Context, None], state: PlanState) -> None:
    """Catches the plan's summary up once, before the tree below resolves, when the query reads
    it: then each KPI's `latest` and `progress` answer at once, without an await (through
    graphql-core, an awaited field per KPI cost more than all the rest of a dashboard). Reads
    what the implementation figures need too, when a progressSummary asks for them: then each
    one's figures answer at once (an awaited leaf makes graphql-core await every object above
    it: for the 30 priorities and outcomes of a dashboard, more than computing the figures)."""
    raw = info._raw_info
    summary, figures = _reads(raw.field_nodes, raw.fragments)
    context = info.context
    reads: list[Awaitable[object]] = []
    if summary:
        reads.append(context.current_readings(state.id))
    if figures and context.execution is not None:
        operational = state.plan_kind is PlanKind.OPERATIONAL_PLAN
        reads.append(context.preload_figures(state, operational))
    # The plan itself is at hand: if a read fails, each field that needs it reports the
    # failure where it is (it awaits the same read), as the readings fields always did.
    if reads:  # most queries read neither: no future made and awaited for nothing
        await asyncio.gather(*reads, return_exceptions=True)


# Per root field's AST (kept alive beside its answer, so no other node takes its id): whether
# it reads the summary, and the implementation figures of a progressSummary. The same
# document's AST comes back for every request of its text.
_READS: dict[int, tuple[object, tuple[bool, bool]]] = {}
_MAX_READS = 1_024
Wanted = Callable[[FieldNode, Mapping[str, Any]], bool]


def _reads(nodes: Sequence[FieldNode], fragments: Mapping[str, Any]) -> tuple[bool, bool]:
    first = nodes[0]
    found = _READS.get(id(first))
    if found is not None and found[0] is first and len(nodes) == 1:
        return found[1]
    answer = (
        any(_selects(node.selection_set, fragments, set(), _from_summary) for node in nodes),
        any(_selects(node.selection_set, fragments, set(), _summary_figures) for node in nodes),
    )
    if len(nodes) == 1:  # merged fields: walked each time (rare)
        if len(_READS) >= _MAX_READS:
            _READS.pop(next(iter(_READS)))
        _READS[id(first)] = (first, answer)
    return answer


def _from_summary(field: FieldNode, fragments: Mapping[str, Any]) -> bool:
    return field.name.value in _FROM_SUMMARY


def _summary_figures(field: FieldNode, fragments: Mapping[str, Any]) -> bool:
    return field.name.value == "progressSummary" and _selects(
        field.selection_set, fragments, set(), _implementation
    )


def _implementation(field: FieldNode, fragments: Mapping[str, Any]) -> bool:
    return field.name.value == "implementation"


def _selects(
    selections: SelectionSetNode | None,
    fragments: Mapping[str, Any],
    seen: set[str],
    wanted: Wanted,
) -> bool:
    """Whether any field below is `wanted` (the document's own AST, walked without building
    strawberry's selection objects: every plan query passes here)."""
    for item in selections.selections if selections else ():
        if isinstance(item, FieldNode):
            if wanted(item, fragments) or _selects(item.selection_set, fragments, seen, wanted):
                return True
        elif isinstance(item, InlineFragmentNode):
            if _selects(item.selection_set, fragments, seen, wanted):
                return True
        elif isinstance(item, FragmentSpreadNode) and item.name.value not in seen:
            seen.add(item.name.value)
            fragment = fragments.get(item.name.value)
            if fragment is not None and _selects(fragment.selection_set, fragments, seen, wanted):
                return True
    return False


# `Kpi.latest` and `Kpi.progress` are plain functions answering at once from the summary a plan
# query caught up, returning an awaitable only where it was not: graphql-core awaits whatever
# a resolver returns.
def kpi_latest(
    context: Context, plan: PlanState, kpi: Node, disaggregation: list[DimensionValueInput] | None
) -> Reading | Awaitable[Reading | None] | None:
    summary = None if disaggregation else context.current_readings_now(plan.id)
    if summary is None:
        return _latest_slowly(context, plan, kpi, disaggregation)
    found = summary.latest(kpi.id)
    return Reading(version=found) if found else None


async def _latest_slowly(
    context: Context, plan: PlanState, kpi: Node, disaggregation: list[DimensionValueInput] | None
) -> Reading | None:
    summary = None if disaggregation else await context.current_readings(plan.id)
    if summary is not None:
        found = summary.latest(kpi.id)
    else:
        query = _TOTAL
        if disaggregation:
            pairs = tuple(sorted((d.dimension, d.value) for d in disaggregation))
            query = ReadingQuery(disaggregation=pairs)
        found = latest(await context.reading_loader.load((plan.id, kpi.id, query)))
    return Reading(version=found) if found else None


def kpi_progress(
    context: Context, plan: PlanState, kpi: Node
) -> KpiProgress | Awaitable[KpiProgress]:
    summary = context.current_readings_now(plan.id)
    if summary is None:
        return _progress_slowly(context, plan, kpi)
    return _progress(kpi, summary.progress(kpi))


async def _progress_slowly(context: Context, plan: PlanState, kpi: Node) -> KpiProgress:
    summary = await context.current_readings(plan.id)
    if summary is not None:
        return _progress(kpi, summary.progress(kpi))
    versions = await context.reading_loader.load((plan.id, kpi.id, _TOTAL))
    return _progress(kpi, progress(kpi, versions))


def _progress(kpi: Node, assessed: list[TargetProgressModel]) -> KpiProgress:
    return KpiProgress(direction=kpi.direction, assessed=assessed)


@strawberry.type(
    description="Where the KPIs under a node (or the whole plan) stand: each KPI counted in "
    "exactly one of achieved, onTrack, offTrack, notAssessed and withoutData, from the current "
    "readings of its total series; and how many reported the expected period."
)
class ProgressSummary:
    counts: strawberry.Private[ProgressCounts]
    # What `implementation` reads: the plan version, the node (None: the plan), the year.
    plan: strawberry.Private[PlanState]
    under: strawberry.Private[str | None]
    year: strawberry.Private[int | None]

    @strawberry.field(
        description=IMPLEMENTATION_DESCRIPTION, metadata=at_once(lambda s, c: s._figures_now(c))
    )
    def implementation(self, info: strawberry.Info[Context, None]) -> ImplementationFigures | None:
        # At once where the plan query read what the figures need (`prepare`); an awaitable,
        # which graphql-core awaits, where it did not.
        return summary_figures(info.context, self.plan, self.under, self.year)  # type: ignore[return-value]

    def _figures_now(self, context: Context) -> ImplementationFigures | None:
        """`implementation` for the compiled execution: at once, or NotYet."""
        found = figures_now(context, self.plan, self.under, self.year)
        if found is NOT_READ:
            raise NotYet(self.plan.id)
        return found  # type: ignore[no-any-return]

    @strawberry.field(description="KPIs under the node, in the version read.")
    def kpis(self) -> int:
        return self.counts.kpis

    @strawberry.field(description="Its last target (by period) reached.")
    def achieved(self) -> int:
        return self.counts.achieved

    @strawberry.field(description="Not achieved; on track for every target with readings.")
    def on_track(self) -> int:
        return self.counts.on_track

    @strawberry.field(description="Not achieved; off track for some target with readings.")
    def off_track(self) -> int:
        return self.counts.off_track

    @strawberry.field(
        description="Readings, but none to judge a target by (no targets, qualitative "
        "readings only, or readings only after its targets' periods)."
    )
    def not_assessed(self) -> int:
        return self.counts.not_assessed

    @strawberry.field(description="No current reading of the total.")
    def without_data(self) -> int:
        return self.counts.without_data

    @strawberry.field(
        description="The period readings are expected for: the argument, or else the most "
        "recent period any KPI of the plan has a reading for. Null before any reading."
    )
    def expected_period(self) -> str | None:
        found = self.counts.expected
        return found.id if found else None

    @strawberry.field(
        description="KPIs whose latest reading's period ends no earlier than the expected "
        "period (a yearly 2029 reading covers 2029-12)."
    )
    def reported(self) -> int:
        return self.counts.reported

    @strawberry.field(
        description="Data completeness: `reported` / `kpis`, from 0 to 1; null without KPIs."
    )
    def data_completeness(self) -> float | None:
        return self.counts.completeness


async def progress_summary(
    context: Context,
    plan: PlanState,
    under: str | None,
    expected_period: str | None,
    year: int | None = None,
) -> ProgressSummary:
    """The rollup of the KPIs under node `under` (None: the whole plan)."""
    expected = _expected(expected_period)
    summary = await context.current_readings(plan.id)
    if summary is None:
        raise RuntimeError("progress summaries need the summary of current readings")
    return _summary(summary, plan, under, expected, year)


def _summary(
    summary: PlanReadings,
    plan: PlanState,
    under: str | None,
    expected: Period | None,
    year: int | None,
) -> ProgressSummary:
    counts = summary.rollup(plan, under, expected)
    return ProgressSummary(counts=counts, plan=plan, under=under, year=year)


def _expected(given: str | None) -> Period | None:
    if given is None:
        return None
    try:
        return parse_period(given)
    except PeriodError as error:
        raise bad_input(ValidationError([Problem(("expectedPeriod",), str(error))])) from error


SUMMARY_DESCRIPTION = (
    "Results rollup of the KPIs under this node: counts by standing and data completeness, "
    "in one batched read whatever the number of KPIs. `expectedPeriod` (2029, 2029-12, …) is "
    "the period readings are due for; by default the latest any KPI of the plan reported. "
    "`year`: the year of the `implementation` figures (null: every year of the plan), as "
    "`Plan.implementation(year:)` and `Plan.budget(year:)` take it."
)


def _node_summary(
    root: strawberry.Parent[Any],
    info: strawberry.Info[Context, None],
    expected_period: str | None = None,
    year: int | None = None,
) -> ProgressSummary:
    """At once when the plan query caught the summary up (`prepare`), as it does whenever the
    query reads one: a dashboard asks this of every priority and outcome, and an awaited
    field each cost graphql-core more than counting; an awaitable only where it did not."""
    context: Context = info.context
    caught_up = context.current_readings_now(root.plan.id)
    if caught_up is None:
        return progress_summary(context, root.plan, root.node.id, expected_period, year)  # type: ignore[return-value]
    return _summary(caught_up, root.plan, root.node.id, _expected(expected_period), year)


def node_progress_summary() -> Any:
    """`progressSummary` for a node type (a field object of its own per type)."""
    return strawberry.field(
        resolver=_node_summary,
        description=SUMMARY_DESCRIPTION,
        metadata=at_once(summary_at_once),
    )


LATEST_DESCRIPTION = "The current reading of the most recent period."
PROGRESS_DESCRIPTION = "Baseline, targets and the latest total readings against them."
LATEST = at_once(latest_at_once)
PROGRESS = at_once(progress_at_once)
