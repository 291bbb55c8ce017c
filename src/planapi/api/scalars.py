"""The domain's enums exposed as GraphQL enums, under their domain names."""

from __future__ import annotations

import strawberry

from planapi.domain.events import Authority
from planapi.domain.links import LinkRelation
from planapi.domain.nodes import (
    Direction,
    Measure,
    NodeKind,
    ReferenceVocabulary,
    Region,
    SectionContent,
)
from planapi.domain.periods import PeriodType

NodeKindEnum = strawberry.enum(NodeKind, name="NodeKind")
MeasureEnum = strawberry.enum(Measure, name="Measure", description="How a KPI is measured.")
DirectionEnum = strawberry.enum(
    Direction, name="Direction", description="Which way a KPI should move to be on track."
)
RegionEnum = strawberry.enum(Region, name="Region", description="ITU regions.")
ReferenceVocabularyEnum = strawberry.enum(
    ReferenceVocabulary,
    name="ReferenceVocabulary",
    description="Outside frameworks a node can refer to (SDG targets, WSIS action lines, …).",
)
LinkRelationEnum = strawberry.enum(
    LinkRelation,
    name="LinkRelation",
    description="SERVES: output → priority/outcome. SUPPORTS: enabler → priority/outcome. "
    "CONTRIBUTES_TO: regional initiative/project → priority/outcome. RELATES_TO: resolution, "
    "study group or question → what it concerns.",
)
AuthorityEnum = strawberry.enum(
    Authority, name="Authority", description="The body on whose authority a plan changes."
)
PeriodTypeEnum = strawberry.enum(
    PeriodType,
    name="PeriodType",
    description="YEAR 2027, SEMESTER 2027-S1, QUARTER 2027-Q2, MONTH 2027-03, WEEK 2027-W14.",
)
SectionContentEnum = strawberry.enum(
    SectionContent,
    name="SectionContent",
    description="What a section lists after its own text (terms, priorities, outputs, …).",
)
