"""A plan as of one version, its summary, and the diff between two versions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from planapi.api.types.activities import Activity
from planapi.api.types.budget import BudgetBreakdown, plan_budget
from planapi.api.types.context import Context
from planapi.api.types.dashboard import SUMMARY_DESCRIPTION, ProgressSummary, progress_summary
from planapi.api.types.errors import bad_input
from planapi.api.types.execution import PlanImplementation, plan_implementation
from planapi.api.types.global_ids import Node as GlobalNode
from planapi.api.types.global_ids import global_id
from planapi.api.types.history import (
    Amendment,
    AmendmentConnection,
    AmendmentEdge,
    FieldDiff,
    PageInfo,
    cursor_of,
    field_diffs,
    version_of,
)
from planapi.api.types.node_kinds import (
    Enabler,
    Output,
    Priority,
    RegionalInitiative,
    Resolution,
    Section,
    StudyGroup,
    Term,
)
from planapi.api.types.nodes import NodeLink, PlanNode, as_type, as_types
from planapi.api.types.search import PlanPages
from planapi.api.types.translations import (
    PlanLanguages,
    Translatable,
    TranslationDiff,
    translation_diffs,
)
from planapi.application.plan_views import PlanVersion, VersionDiff
from planapi.domain.activities import runs_in
from planapi.domain.errors import PlanApiError, Problem, ValidationError
from planapi.domain.events import PlanStatus
from planapi.domain.nodes import NodeKind
from planapi.domain.plan import PlanState
from planapi.domain.plan_kinds import PlanKind
from planapi.domain.translations import PLAN_TEXTS


@strawberry.type
class PlanPeriod:
    start_year: int
    end_year: int

    @strawberry.field(description='"2026-2029"')
    def label(self) -> str:
        return f"{self.start_year}-{self.end_year}"


def _period(state: PlanState) -> PlanPeriod:
    return PlanPeriod(start_year=state.period_start, end_year=state.period_end)


@strawberry.type(description="A plan's name and latest version, for listings.")
class PlanSummary(GlobalNode):
    found: strawberry.Private[PlanVersion]

    @strawberry.field(
        description="Global id of this summary as of its version: `PlanSummary:<planId>:<version>`."
    )
    def id(self) -> strawberry.ID:
        state = self.found.state
        if state.lang:  # its title in another language
            return global_id("PlanSummary", state.id, state.version, state.lang)
        return global_id("PlanSummary", state.id, state.version)

    @strawberry.field(description="Stable id of the plan: what `plan(id:)` takes.")
    def plan_id(self) -> strawberry.ID:
        return strawberry.ID(self.found.state.id)

    @strawberry.field
    def title(self) -> str:
        return self.found.state.title

    @strawberry.field
    def plan_kind(self) -> PlanKind:
        return self.found.state.plan_kind

    @strawberry.field
    def period(self) -> PlanPeriod:
        return _period(self.found.state)

    @strawberry.field(description="The latest version.")
    def version(self) -> int:
        return self.found.state.version

    @strawberry.field(description="The status as of the latest version.")
    def status(self) -> PlanStatus:
        return self.found.state.status

    @strawberry.field
    def recorded_at(self) -> dt.datetime:
        return self.found.amendment.recorded_at


@strawberry.type(description="A plan exactly as it stood at one version.")
class Plan(GlobalNode, PlanLanguages, PlanPages, Translatable):
    found: strawberry.Private[PlanVersion]

    def _text_state(self) -> PlanState:
        return self.found.state

    def _text_owner(self) -> str:
        return PLAN_TEXTS

    @property
    def _state(self) -> PlanState:
        return self.found.state

    def _roots(self, kind: NodeKind) -> list[PlanNode]:
        return as_types(self._state.children_of(None, kind), self._state)

    @strawberry.field(
        description="Global id of the plan as of this version (`Plan:baku-2026:34`): differs "
        "between versions, so a client cache keyed by it never mixes them. `planId` is the "
        "stable key that arguments take."
    )
    def id(self) -> strawberry.ID:
        state = self._state
        if state.lang:  # another language, other texts: another id (`Plan:baku-2026:34:fr`)
            return global_id("Plan", state.id, state.version, state.lang)
        return global_id("Plan", state.id, state.version)

    @strawberry.field(
        description="Stable id of the plan: the same in every version; what `plan(id:)`, "
        "`amendPlan`'s `planId` and the other arguments take."
    )
    def plan_id(self) -> strawberry.ID:
        # A proposal's preview is read as `<proposal>~r<revision>` (api/types/proposals.py).
        return strawberry.ID(self._state.id.partition(".p")[0].partition("~")[0])

    @strawberry.field(description=SUMMARY_DESCRIPTION)
    async def progress_summary(
        self,
        info: strawberry.Info[Context, None],
        expected_period: str | None = None,
        year: int | None = None,
    ) -> ProgressSummary:
        return await progress_summary(info.context, self._state, None, expected_period, year)

    @strawberry.field
    def title(self) -> str:
        return self._state.title

    @strawberry.field
    def description(self) -> str | None:
        return self._state.description

    @strawberry.field
    def period(self) -> PlanPeriod:
        return _period(self._state)

    @strawberry.field(description="An action plan, or an operational plan implementing one.")
    def plan_kind(self) -> PlanKind:
        return self._state.plan_kind

    @strawberry.field(description="OPERATIONAL_PLAN: the id of the action plan it implements.")
    def implements(self) -> strawberry.ID | None:
        found = self._state.implements
        return strawberry.ID(found) if found else None

    @strawberry.field(
        description="OPERATIONAL_PLAN: the edition the Council last approved (2027: activities "
        "for 2027, forecast 2028-2030); null before the first approval."
    )
    def edition(self) -> int | None:
        return self._state.edition

    budget: BudgetBreakdown = strawberry.field(
        resolver=plan_budget,
        description="The budget of an operational plan's activities (of an action plan: of the "
        "operational plans implementing it, latest versions), of one year or all, broken down "
        "`by` priority, output, funding source or region; shared by explicit weights (1 each "
        "by default), rounded to the centime by largest remainder, adding up to the total.",
    )

    implementation: PlanImplementation = strawberry.field(
        resolver=plan_implementation,
        description="OPERATIONAL_PLAN: activities completed against planned and budget "
        "executed against planned, overall and per activity, output and priority, of one year "
        "or all, with execution as recorded by `asOf` (now if omitted).",
    )

    @strawberry.field(description="OPERATIONAL_PLAN: its activities, of one year if given.")
    def activities(self, year: int | None = None) -> list[Activity]:
        found = [n for n in self._state.children_of(None, NodeKind.ACTIVITY) if runs_in(n, year)]
        return as_types(found, self._state)  # type: ignore[return-value]

    @strawberry.field(description="The version being read (1 = creation).")
    def version(self) -> int:
        return self._state.version

    @strawberry.field(description="The plan's status as of this version.")
    def status(self) -> PlanStatus:
        return self._state.status

    @strawberry.field(description="The plan this one succeeds (adopting this one supersedes it).")
    def succeeds(self) -> strawberry.ID | None:
        found = self._state.succeeds
        return strawberry.ID(found) if found is not None else None

    @strawberry.field(description="The adopted successor that superseded this plan, if any.")
    def superseded_by(self) -> strawberry.ID | None:
        found = self._state.superseded_by
        return strawberry.ID(found) if found is not None else None

    @strawberry.field(description="When this version was recorded.")
    def recorded_at(self) -> dt.datetime:
        return self.found.amendment.recorded_at

    @strawberry.field(
        description="Hash-chain head of this version (hex): record it to prove it unchanged later."
    )
    def hash(self) -> str:
        return self.found.amendment.hash.hex()

    @strawberry.field(description="The amendment that produced this version.")
    def amendment(self) -> Amendment:
        return Amendment(record=self.found.amendment)

    @strawberry.field
    def priorities(self) -> list[Priority]:
        return self._roots(NodeKind.PRIORITY)  # type: ignore[return-value]

    @strawberry.field
    def outputs(self) -> list[Output]:
        return self._roots(NodeKind.OUTPUT)  # type: ignore[return-value]

    @strawberry.field
    def enablers(self) -> list[Enabler]:
        return self._roots(NodeKind.ENABLER)  # type: ignore[return-value]

    @strawberry.field
    def regional_initiatives(self) -> list[RegionalInitiative]:
        return self._roots(NodeKind.REGIONAL_INITIATIVE)  # type: ignore[return-value]

    @strawberry.field
    def resolutions(self) -> list[Resolution]:
        return self._roots(NodeKind.RESOLUTION)  # type: ignore[return-value]

    @strawberry.field
    def study_groups(self) -> list[StudyGroup]:
        return self._roots(NodeKind.STUDY_GROUP)  # type: ignore[return-value]

    @strawberry.field(description="Top-level sections; each has its sub-sections.")
    def sections(self) -> list[Section]:
        return self._roots(NodeKind.SECTION)  # type: ignore[return-value]

    @strawberry.field
    def terms(self) -> list[Term]:
        return self._roots(NodeKind.TERM)  # type: ignore[return-value]

    @strawberry.field(
        description="The node with this stable id (`nodeId`) in this version; null when absent."
    )
    def node(
        self,
        node_id: strawberry.ID | None = None,
        id: Annotated[
            strawberry.ID | None,
            strawberry.argument(deprecation_reason="Use `nodeId`: `id` fields are global ids."),
        ] = None,
    ) -> PlanNode | None:
        if (node_id is None) == (id is None):
            wanted = "not both" if node_id is not None else "one of them"
            problem = Problem(("nodeId",), f"give `nodeId` or the deprecated `id`, {wanted}")
            raise bad_input(ValidationError([problem]))
        found = self._state.node(node_id if node_id is not None else id)  # type: ignore[arg-type]
        return as_type(found, self._state) if found else None

    @strawberry.field(description="Every node (of one kind, if given) in document order.")
    def nodes(self, kind: NodeKind | None = None) -> list[PlanNode]:
        walked = self._state.walk()
        return as_types([n for n in walked if kind is None or n.kind is kind], self._state)

    @strawberry.field(description="Amendments up to this version, newest first.")
    async def amendments(
        self, info: strawberry.Info[Context, None], first: int = 20, after: str | None = None
    ) -> AmendmentConnection:
        try:
            before = version_of(after) if after is not None else None
            page = await info.context.plans.amendments(
                self._state.id, self._state.version, first, before
            )
        except PlanApiError as error:
            raise bad_input(error) from error
        edges = [
            AmendmentEdge(cursor=cursor_of(item.version), node=Amendment(record=item))
            for item in page.items
        ]
        return AmendmentConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_more, end_cursor=edges[-1].cursor if edges else None
            ),
            total_count=page.total,
        )


@strawberry.type
class ChangedNode:
    node: PlanNode
    fields: list[FieldDiff]


@strawberry.type
class MovedNode:
    node: PlanNode
    from_parent: PlanNode | None
    to_parent: PlanNode | None
    from_position: int
    to_position: int


@strawberry.type(
    description="What differs between two versions (changes that cancel out do not show)."
)
class PlanDiff:
    plan_id: strawberry.ID
    from_version: int
    to_version: int
    added: list[PlanNode]
    removed: list[PlanNode]
    moved: list[MovedNode]
    changed: list[ChangedNode]
    links_added: list[NodeLink]
    links_removed: list[NodeLink]
    translated: list[TranslationDiff] = strawberry.field(
        description="Translations new or revised between the two versions."
    )


def as_plan_diff(found: VersionDiff) -> PlanDiff:
    before, after, diff = found.before.state, found.after.state, found.diff

    def parent(state: PlanState, node_id: str | None) -> PlanNode | None:
        return as_type(state.nodes[node_id], state) if node_id else None

    return PlanDiff(
        plan_id=strawberry.ID(after.id),
        from_version=diff.from_version,
        to_version=diff.to_version,
        added=[as_type(after.nodes[p.node_id], after) for p in diff.added],
        removed=[as_type(before.nodes[node_id], before) for node_id in diff.removed],
        moved=[
            MovedNode(
                node=as_type(after.nodes[m.node_id], after),
                from_parent=parent(before, m.from_parent_id),
                to_parent=parent(after, m.to_parent_id),
                from_position=m.from_position,
                to_position=m.to_position,
            )
            for m in diff.moved
        ],
        changed=[
            ChangedNode(
                node=as_type(after.nodes[c.node_id], after),
                fields=field_diffs(c.fields),
            )
            for c in diff.changed
        ],
        links_added=[NodeLink.of(link, after) for link in diff.links_added],
        links_removed=[NodeLink.of(link, before) for link in diff.links_removed],
        translated=translation_diffs(diff.translated),
    )


@strawberry.type(description="The amendment was recorded as the plan's next version.")
class AmendmentApplied:
    plan: Plan
    amendment: Amendment
    consistency_token: str = strawberry.field(
        description="Pass it in the `PlanAPI-Consistent-With` header of later requests, to any "
        "server process: none answers from a state older than this write."
    )
