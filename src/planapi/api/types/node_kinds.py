"""The kinds of plan node other than the KPI (in `kpi`), one GraphQL type each, registered
with the interface's `node_type`: the strategic framework (priorities, outcomes, outputs,
enablers), regional initiatives and projects, resolutions, study groups and questions, and the
plan's text (sections and terms)."""

from __future__ import annotations

import strawberry

from planapi.api.types import dashboard as dash
from planapi.api.types.activity_reads import output_activities, priority_activities
from planapi.api.types.kpi import Kpi
from planapi.api.types.nodes import (
    NODE_FIELDS,
    PlanNode,
    as_types,
    children,
    linked_from,
    linked_to,
    node_type,
)
from planapi.api.types.views import node_view
from planapi.domain.links import LinkRelation
from planapi.domain.nodes import NodeKind, Region, SectionContent

K = NodeKind
SERVES, SUPPORTS = LinkRelation.SERVES, LinkRelation.SUPPORTS


@node_type(NodeKind.PRIORITY)
@strawberry.type
class Priority(PlanNode):
    progress_summary: dash.ProgressSummary = dash.node_progress_summary()
    activities = strawberry.field(resolver=priority_activities)

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


@node_type(NodeKind.OUTCOME)
@strawberry.type
class Outcome(PlanNode):
    progress_summary: dash.ProgressSummary = dash.node_progress_summary()

    @strawberry.field
    def kpis(self) -> list[Kpi]:
        return self._children(NodeKind.KPI)  # type: ignore[return-value]

    @strawberry.field(description="Outputs that serve this outcome.")
    def outputs(self) -> list[Output]:
        return self._from(LinkRelation.SERVES, NodeKind.OUTPUT)  # type: ignore[return-value]


@node_type(NodeKind.OUTPUT)
@strawberry.type(description="A product or service of BDT; cross-cutting.")
class Output(PlanNode):
    activities = strawberry.field(resolver=output_activities)

    @strawberry.field
    def serves_priorities(self) -> list[Priority]:
        return self._to(LinkRelation.SERVES, NodeKind.PRIORITY)  # type: ignore[return-value]

    @strawberry.field
    def serves_outcomes(self) -> list[Outcome]:
        return self._to(LinkRelation.SERVES, NodeKind.OUTCOME)  # type: ignore[return-value]


@node_type(NodeKind.ENABLER)
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


@node_type(NodeKind.REGIONAL_INITIATIVE)
@strawberry.type
class RegionalInitiative(_Contributing):
    @strawberry.field
    def region(self) -> Region | None:
        return self.node.region

    @strawberry.field
    def projects(self) -> list[Project]:
        return self._children(NodeKind.PROJECT)  # type: ignore[return-value]


@node_type(NodeKind.PROJECT)
@strawberry.type
class Project(_Contributing):
    pass


@node_type(NodeKind.RESOLUTION)
@strawberry.type(description='A WTDC resolution: number and revision ("Rev. Baku, 2025").')
class Resolution(PlanNode):
    @strawberry.field
    def number(self) -> str | None:
        return self.node.number

    @strawberry.field
    def revision(self) -> str | None:
        return self.node.revision


@node_type(NodeKind.STUDY_GROUP)
@strawberry.type
class StudyGroup(PlanNode):
    @strawberry.field
    def questions(self) -> list[Question]:
        return self._children(NodeKind.QUESTION)  # type: ignore[return-value]


@node_type(NodeKind.QUESTION)
@strawberry.type
class Question(PlanNode):
    pass


@node_type(NodeKind.SECTION)
@strawberry.type(description="A numbered section of the plan's text; `description` is its body.")
class Section(PlanNode):
    @strawberry.field(description="What the section lists after its text, in order.")
    def contents(self) -> list[SectionContent]:
        return list(self.node.contents)

    @strawberry.field
    def sections(self) -> list[Section]:
        return self._children(NodeKind.SECTION)  # type: ignore[return-value]


@node_type(NodeKind.TERM)
@strawberry.type(description="A term of the plan's terminology; `description` defines it.")
class Term(PlanNode):
    pass


# Their plain fields read from the domain node (`api.types.views`), as the resolvers above do.
node_view(
    Priority,
    NODE_FIELDS,
    outcomes=children(K.OUTCOME),
    outputs=linked_from(SERVES, K.OUTPUT),
    enablers=linked_from(SUPPORTS, K.ENABLER),
)
node_view(Outcome, NODE_FIELDS, kpis=children(K.KPI), outputs=linked_from(SERVES, K.OUTPUT))
node_view(
    Output,
    NODE_FIELDS,
    serves_priorities=linked_to(SERVES, K.PRIORITY),
    serves_outcomes=linked_to(SERVES, K.OUTCOME),
)
node_view(
    Enabler,
    NODE_FIELDS,
    outcomes=children(K.OUTCOME),
    supports_priorities=linked_to(SUPPORTS, K.PRIORITY),
    supports_outcomes=linked_to(SUPPORTS, K.OUTCOME),
)
CONTRIBUTING = {**NODE_FIELDS, "objective": "objective", "expected_results": "expected_results"}
node_view(RegionalInitiative, CONTRIBUTING, region="region", projects=children(K.PROJECT))
node_view(Project, CONTRIBUTING)
node_view(Resolution, NODE_FIELDS, number="number", revision="revision")
node_view(StudyGroup, NODE_FIELDS, questions=children(K.QUESTION))
node_view(Question, NODE_FIELDS)
node_view(Section, NODE_FIELDS, contents="contents", sections=children(K.SECTION))
node_view(Term, NODE_FIELDS)
