"""Plan nodes as GraphQL types: one interface, one type per kind, all read from a PlanState."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry

from planapi.api.types import scalars  # noqa: F401  (registers the domain enums)
from planapi.api.types.context import Context
from planapi.api.types.errors import bad_input
from planapi.api.types.global_ids import Node as GlobalNode
from planapi.api.types.history import Amendment
from planapi.api.types.naming import camel
from planapi.api.types.node_history import FieldBlame as FieldBlame
from planapi.api.types.node_history import NodeHistoryEntry as NodeHistoryEntry
from planapi.api.types.node_history import history_entry_id as history_entry_id
from planapi.api.types.node_history import history_indexes as history_indexes
from planapi.api.types.node_history import history_page as history_page
from planapi.api.types.readings import (
    DimensionValueInput,
    KpiProgress,
    Reading,
    ReadingConnection,
    TargetProgress,
    pairs,
    reading_page,
)
from planapi.api.types.translations import Translatable, global_node_id, source_node
from planapi.application.primitives import field_to_primitive
from planapi.application.readings import latest, progress
from planapi.domain.errors import PeriodError, Problem, ValidationError
from planapi.domain.history import NodeChangeKind
from planapi.domain.links import Link, LinkRelation
from planapi.domain.nodes import (
    Dimension,
    Direction,
    Measure,
    Measurement,
    Node,
    NodeKind,
    Reference,
    ReferenceVocabulary,
    Region,
    SectionContent,
)
from planapi.domain.periods import Period, PeriodType, parse_period
from planapi.domain.plan import PlanState
from planapi.domain.readings import ReadingQuery


@strawberry.type(description="A pointer to an outside framework (after IATI's `reference`).")
class ExternalReference:
    vocabulary: ReferenceVocabulary
    code: str
    uri: str | None

    @classmethod
    def of(cls, ref: Reference) -> ExternalReference:
        return cls(vocabulary=ref.vocabulary, code=ref.code, uri=ref.uri)


@strawberry.type(description="A value for a period: a KPI baseline or target. Exact decimals.")
class PeriodValue:
    period: str
    value: Decimal

    @classmethod
    def of(cls, measurement: Measurement) -> PeriodValue:
        return cls(period=measurement.period, value=measurement.value)


@strawberry.type(description="A disaggregation dimension a KPI declares, with its values.")
class KpiDimension:
    name: str
    values: list[str]

    @classmethod
    def of(cls, dimension: Dimension) -> KpiDimension:
        return cls(name=dimension.name, values=list(dimension.values))


@strawberry.interface(description="Any node of a plan, as it stood at the version being read.")
class PlanNode(GlobalNode, Translatable):
    node: strawberry.Private[Node]
    plan: strawberry.Private[PlanState]

    @strawberry.field(
        description="Global id of this node as of the version being read "
        "(`Kpi:baku-2026:34:kpi-1-1-1`): differs between versions, so a client cache keyed by "
        "it never mixes them. `nodeId` is the stable key that arguments take."
    )
    def id(self) -> strawberry.ID:
        return global_node_id(self.node, self.plan)

    @strawberry.field(
        description="Stable id: the same in every version, never reused; what arguments and "
        "inputs (`Plan.node(nodeId:)`, `parentId`, `updateNode.id`, links) take."
    )
    def node_id(self) -> strawberry.ID:
        return strawberry.ID(self.node.id)

    @strawberry.field
    def kind(self) -> NodeKind:
        return self.node.kind

    @strawberry.field(description='Display code ("1", "1.2", "ASP1"); may change.')
    def code(self) -> str | None:
        return self.node.code

    @strawberry.field
    def title(self) -> str:
        return self.node.title

    @strawberry.field(description="Text; paragraphs are separated by a blank line.")
    def description(self) -> str | None:
        return self.node.description

    @strawberry.field
    def references(self) -> list[ExternalReference]:
        return [ExternalReference.of(ref) for ref in self.node.references]

    @strawberry.field
    def parent(self) -> PlanNode | None:
        parent_id = self.node.parent_id
        return as_type(self.plan.nodes[parent_id], self.plan) if parent_id else None

    @strawberry.field(description="Position among the parent's children, from 0.")
    def position(self) -> int:
        return self.plan.position_of(self.node.id)

    @strawberry.field
    def children(self) -> list[PlanNode]:
        return as_types(self.plan.children_of(self.node.id), self.plan)

    @strawberry.field(description="Links from and to this node.")
    def links(self) -> list[NodeLink]:
        state, node_id = self.plan, self.node.id
        found = [*state.outgoing.get(node_id, ()), *state.incoming.get(node_id, ())]
        return [NodeLink.of(link, state) for link in found]

    @strawberry.field(
        description="Every amendment up to the version being read that touched this node, "
        "newest first, with each field's value before and after; `first` (at most 1,000) at "
        "a time, `beforeVersion` pages to older ones."
    )
    async def history(
        self,
        info: strawberry.Info[Context, None],
        first: int = 100,
        before_version: int | None = None,
    ) -> list[NodeHistoryEntry]:
        found = await info.context.plans.history(self.plan.id, self.node.id, self.plan.version)
        try:
            return history_page(found, first, before_version, self.plan.id, self.node.id)
        except ValidationError as error:
            raise bad_input(error) from error

    @strawberry.field(
        description="For each field (as of the version being read), the amendment that last "
        "set it: who, when, on what authority and why."
    )
    async def blame(self, info: strawberry.Info[Context, None]) -> list[FieldBlame]:
        found = await info.context.plans.blame(self.plan.id, source_node(self), self.plan.version)
        return [
            FieldBlame(
                field=camel(source.origin.field),
                value=field_to_primitive(source.origin.field, source.origin.value),
                amendment=Amendment(record=source.amendment),
            )
            for source in found
        ]

    def _children(self, kind: NodeKind) -> list[PlanNode]:
        return as_types(self.plan.children_of(self.node.id, kind), self.plan)

    def _to(self, relation: LinkRelation, kind: NodeKind) -> list[PlanNode]:
        nodes = self.plan.linked_to(self.node.id, relation)
        return as_types([n for n in nodes if n.kind is kind], self.plan)

    def _from(self, relation: LinkRelation, kind: NodeKind) -> list[PlanNode]:
        nodes = self.plan.linked_from(self.node.id, relation)
        return as_types([n for n in nodes if n.kind is kind], self.plan)


NodeChangeKindEnum = strawberry.enum(NodeChangeKind, name="NodeChangeKind")

DEFAULT_READINGS = 100
MAX_READINGS = 10_000


@strawberry.type(description="A link between two nodes of the same version.")
class NodeLink:
    relation: LinkRelation
    link: strawberry.Private[Link]
    plan: strawberry.Private[PlanState]

    @strawberry.field(name="from")
    def source(self) -> PlanNode:
        return as_type(self.plan.nodes[self.link.from_id], self.plan)

    @strawberry.field(name="to")
    def target(self) -> PlanNode:
        return as_type(self.plan.nodes[self.link.to_id], self.plan)

    @classmethod
    def of(cls, link: Link, plan: PlanState) -> NodeLink:
        return cls(relation=link.relation, link=link, plan=plan)


@strawberry.type
class Priority(PlanNode):
    @strawberry.field
    def outcomes(self) -> list[Outcome]:
        return self._children(NodeKind.OUTCOME)  # type: ignore[return-value]

    @strawberry.field(description="Outputs that serve this priority.")
    def outputs(self) -> list[Output]:
        return self._from(LinkRelation.SERVES, NodeKind.OUTPUT)  # type: ignore[return-value]

    @strawberry.field(description="Enablers that support this priority.")
    def enablers(self) -> list[Enabler]:
        return self._from(LinkRelation.SUPPORTS, NodeKind.ENABLER)  # type: ignore[return-value]

    @strawberry.field(description="Regional initiatives and projects contributing to it.")
    def contributors(self) -> list[PlanNode]:
        return as_types(self.plan.linked_from(self.node.id, LinkRelation.CONTRIBUTES_TO), self.plan)


@strawberry.type
class Outcome(PlanNode):
    @strawberry.field
    def kpis(self) -> list[Kpi]:
        return self._children(NodeKind.KPI)  # type: ignore[return-value]

    @strawberry.field(description="Outputs that serve this outcome.")
    def outputs(self) -> list[Output]:
        return self._from(LinkRelation.SERVES, NodeKind.OUTPUT)  # type: ignore[return-value]


@strawberry.type(description="A key performance indicator and its definition.")
class Kpi(PlanNode):
    @strawberry.field
    def unit(self) -> str | None:
        return self.node.unit

    @strawberry.field
    def measure(self) -> Measure | None:
        return self.node.measure

    @strawberry.field
    def direction(self) -> Direction | None:
        return self.node.direction

    @strawberry.field
    def baseline(self) -> PeriodValue | None:
        return PeriodValue.of(self.node.baseline) if self.node.baseline else None

    @strawberry.field
    def targets(self) -> list[PeriodValue]:
        return [PeriodValue.of(target) for target in self.node.targets]

    @strawberry.field
    def dimensions(self) -> list[KpiDimension]:
        return [KpiDimension.of(dimension) for dimension in self.node.dimensions]

    @strawberry.field(description="Period types readings may use; empty: any.")
    def period_types(self) -> list[PeriodType]:
        return list(self.node.period_types)

    @strawberry.field(
        description="Readings of this KPI: the current one per series and period, or those "
        "known at `asOf` (transaction time); `includeSuperseded` adds the ones later corrected. "
        "`from`/`to` bound the periods; `disaggregation` picks one series ([] = the total). "
        f"At most `limit` (≤ {MAX_READINGS:,}) readings: when more match, the field is an error "
        "(BAD_USER_INPUT) rather than a silent cut — narrow the periods, raise `limit`, or "
        "page through `readingsPage`."
    )
    async def readings(
        self,
        info: strawberry.Info[Context, None],
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        to: str | None = None,
        disaggregation: list[DimensionValueInput] | None = None,
        as_of: dt.datetime | None = None,
        include_superseded: bool = False,
        limit: int = DEFAULT_READINGS,
    ) -> list[Reading]:
        _page_size("limit", limit)
        query = reading_query(from_, to, disaggregation, as_of, include_superseded)
        found = await info.context.reading_loader.load((self.plan.id, self.node.id, query))
        if len(found) > limit:
            message = (
                f"{len(found):,} readings match, more than limit {limit:,}: narrow from/to "
                "or raise the limit"
            )
            raise bad_input(ValidationError([Problem(("limit",), message)]))
        return [Reading(version=version) for version in found]

    @strawberry.field(
        description="The readings `readings` gives, a page at a time: `first` of them (≤ "
        f"{MAX_READINGS:,}) after the cursor `after` (a page's `endCursor`). A cursor marks a "
        "place in the series' order, so readings recorded between two pages are neither "
        "repeated nor skipped among those already passed."
    )
    async def readings_page(
        self,
        info: strawberry.Info[Context, None],
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        to: str | None = None,
        disaggregation: list[DimensionValueInput] | None = None,
        as_of: dt.datetime | None = None,
        include_superseded: bool = False,
        first: int = DEFAULT_READINGS,
        after: str | None = None,
    ) -> ReadingConnection:
        _page_size("first", first)
        query = reading_query(from_, to, disaggregation, as_of, include_superseded)
        found = await info.context.reading_loader.load((self.plan.id, self.node.id, query))
        try:
            return reading_page(found, first, after)
        except ValidationError as error:
            raise bad_input(error) from error

    @strawberry.field(description="The current reading of the most recent period.")
    async def latest(
        self,
        info: strawberry.Info[Context, None],
        disaggregation: list[DimensionValueInput] | None = None,
    ) -> Reading | None:
        query = reading_query(None, None, disaggregation or [], None, False)
        found = latest(await info.context.reading_loader.load((self.plan.id, self.node.id, query)))
        return Reading(version=found) if found else None

    @strawberry.field(description="Baseline, targets and the latest total readings against them.")
    async def progress(self, info: strawberry.Info[Context, None]) -> KpiProgress:
        query = reading_query(None, None, [], None, False)
        found = await info.context.reading_loader.load((self.plan.id, self.node.id, query))
        targets = [TargetProgress.of(item) for item in progress(self.node, found)]
        return KpiProgress(direction=self.node.direction, targets=targets)


@strawberry.type(description="A product or service of BDT; cross-cutting.")
class Output(PlanNode):
    @strawberry.field
    def serves_priorities(self) -> list[Priority]:
        return self._to(LinkRelation.SERVES, NodeKind.PRIORITY)  # type: ignore[return-value]

    @strawberry.field
    def serves_outcomes(self) -> list[Outcome]:
        return self._to(LinkRelation.SERVES, NodeKind.OUTCOME)  # type: ignore[return-value]


@strawberry.type(description="A way of working that lets ITU deliver more effectively.")
class Enabler(PlanNode):
    @strawberry.field
    def outcomes(self) -> list[Outcome]:
        return self._children(NodeKind.OUTCOME)  # type: ignore[return-value]

    @strawberry.field
    def supports_priorities(self) -> list[Priority]:
        return self._to(LinkRelation.SUPPORTS, NodeKind.PRIORITY)  # type: ignore[return-value]

    @strawberry.field
    def supports_outcomes(self) -> list[Outcome]:
        return self._to(LinkRelation.SUPPORTS, NodeKind.OUTCOME)  # type: ignore[return-value]


# Decorated so its fields reach the two types below; never in the schema under its own name.
@strawberry.type
class _Contributing(PlanNode):
    @strawberry.field
    def objective(self) -> str | None:
        return self.node.objective

    @strawberry.field
    def expected_results(self) -> list[str]:
        return list(self.node.expected_results)

    @strawberry.field(description="Priorities and outcomes it contributes to.")
    def contributes_to(self) -> list[PlanNode]:
        return as_types(self.plan.linked_to(self.node.id, LinkRelation.CONTRIBUTES_TO), self.plan)


@strawberry.type
class RegionalInitiative(_Contributing):
    @strawberry.field
    def region(self) -> Region | None:
        return self.node.region

    @strawberry.field
    def projects(self) -> list[Project]:
        return self._children(NodeKind.PROJECT)  # type: ignore[return-value]


@strawberry.type
class Project(_Contributing):
    pass


@strawberry.type(description='A WTDC resolution: number and revision ("Rev. Baku, 2025").')
class Resolution(PlanNode):
    @strawberry.field
    def number(self) -> str | None:
        return self.node.number

    @strawberry.field
    def revision(self) -> str | None:
        return self.node.revision


@strawberry.type
class StudyGroup(PlanNode):
    @strawberry.field
    def questions(self) -> list[Question]:
        return self._children(NodeKind.QUESTION)  # type: ignore[return-value]


@strawberry.type
class Question(PlanNode):
    pass


@strawberry.type(description="A numbered section of the plan's text; `description` is its body.")
class Section(PlanNode):
    @strawberry.field(description="What the section lists after its text, in order.")
    def contents(self) -> list[SectionContent]:
        return list(self.node.contents)

    @strawberry.field
    def sections(self) -> list[Section]:
        return self._children(NodeKind.SECTION)  # type: ignore[return-value]


@strawberry.type(description="A term of the plan's terminology; `description` defines it.")
class Term(PlanNode):
    pass


TYPES: dict[NodeKind, type[PlanNode]] = {
    NodeKind.PRIORITY: Priority,
    NodeKind.OUTCOME: Outcome,
    NodeKind.KPI: Kpi,
    NodeKind.OUTPUT: Output,
    NodeKind.ENABLER: Enabler,
    NodeKind.REGIONAL_INITIATIVE: RegionalInitiative,
    NodeKind.PROJECT: Project,
    NodeKind.RESOLUTION: Resolution,
    NodeKind.STUDY_GROUP: StudyGroup,
    NodeKind.QUESTION: Question,
    NodeKind.SECTION: Section,
    NodeKind.TERM: Term,
}


def as_type(node: Node, plan: PlanState) -> PlanNode:
    return TYPES[node.kind](node=node, plan=plan)


def as_types(nodes: list[Node], plan: PlanState) -> list[PlanNode]:
    return [as_type(node, plan) for node in nodes]


def _page_size(name: str, given: int) -> None:
    if not 1 <= given <= MAX_READINGS:
        problem = Problem((name,), f"must be between 1 and {MAX_READINGS:,}")
        raise bad_input(ValidationError([problem]))


def reading_query(
    from_: str | None,
    to: str | None,
    disaggregation: list[DimensionValueInput] | None,
    as_of: dt.datetime | None,
    include_superseded: bool,
) -> ReadingQuery:
    low, high = _period_argument("from", from_), _period_argument("to", to)
    if as_of is not None and as_of.tzinfo is None:
        raise bad_input(ValidationError([Problem(("asOf",), "must include a UTC offset")]))
    return ReadingQuery(
        from_period=low,
        to_period=high,
        disaggregation=None if disaggregation is None else pairs(disaggregation),
        as_of=as_of,
        include_superseded=include_superseded,
    )


def _period_argument(name: str, given: str | None) -> Period | None:
    if given is None:
        return None
    try:
        return parse_period(given)
    except PeriodError as error:
        raise bad_input(ValidationError([Problem((name,), str(error))])) from error
