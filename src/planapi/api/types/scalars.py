"""The domain's enums exposed as GraphQL enums, under their domain names, and the custom
scalars with their wire formats."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import replace

import strawberry
from strawberry.schema.types import base_scalars
from strawberry.types.scalar import ScalarDefinition

from planapi.domain.activity_values import ActivityStatus, AllocationBasis, FundingSource
from planapi.domain.events import Authority, PlanStatus
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
from planapi.domain.plan_kinds import PlanKind

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
PlanStatusEnum = strawberry.enum(
    PlanStatus,
    name="PlanStatus",
    description="DRAFT until adopted (the WTDC adopts an action plan); SUPERSEDED once a "
    "successor that names it (`succeeds`) is adopted.",
)
SectionContentEnum = strawberry.enum(
    SectionContent,
    name="SectionContent",
    description="What a section lists after its own text (terms, priorities, outputs, …).",
)
PlanKindEnum = strawberry.enum(
    PlanKind,
    name="PlanKind",
    description="ACTION_PLAN: adopted by a WTDC. OPERATIONAL_PLAN: the activities that "
    "implement an action plan, a four-year rolling plan the Council approves each year.",
)
ActivityStatusEnum = strawberry.enum(
    ActivityStatus,
    name="ActivityStatus",
    description="Amendments set PLANNED, POSTPONED or CANCELLED; execution records set ONGOING "
    "and COMPLETED.",
)
FundingSourceEnum = strawberry.enum(FundingSource, name="FundingSource")
AllocationBasisEnum = strawberry.enum(
    AllocationBasis, name="AllocationBasis", description="What a budget is broken down by."
)


# ---------------------------------------------------------------------------- wire formats
# strawberry's built-in Date, DateTime and Decimal say only "isoformat"/"fixed-point"; a client
# generating types from the schema must know the exact text on the wire. Same parsing as
# strawberry's (so inputs accepted before are accepted now); Decimal output never uses exponent
# notation, so its grammar is the one stated.

RFC3339 = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"

DATE = replace(
    base_scalars.DateDefinition,
    description="A calendar date, ISO 8601 extended format `YYYY-MM-DD` (e.g. `2026-03-01`), "
    "as RFC 3339's `full-date`; no time, no offset.",
    specified_by_url=RFC3339,
)

DATE_TIME = replace(
    base_scalars.DateTimeDefinition,
    description="An instant, RFC 3339 `date-time` (ISO 8601 extended): "
    "`YYYY-MM-DDThh:mm:ss[.ffffff]±hh:mm`, e.g. `2026-03-01T12:00:00.123456+00:00`. "
    "Answers are always in UTC with the `+00:00` offset. Arguments must carry an offset "
    "(`Z` or `±hh:mm`): one without is refused.",
    specified_by_url=RFC3339,
)


def _plain_decimal(value: decimal.Decimal) -> str:
    # str() is the same text whenever it has no exponent, and several times cheaper than
    # format() (a 1,000-KPI tree sends 2,000 of them).
    text = str(value)
    return text if "E" not in text and "e" not in text else format(value, "f")


DECIMAL = replace(
    base_scalars.DecimalDefinition,
    description="An exact decimal number carried in a JSON string, so no precision is lost: "
    "in answers the text of a JSON number (RFC 8259 section 6) without exponent, "
    '`-?(0|[1-9][0-9]*)(\\.[0-9]+)?` (e.g. `"67.4"`, `"-0.05"`). '
    'Arguments take the same, or with an exponent (`"1.5e3"`); a JSON number '
    "is accepted too but goes through binary floating point in most clients: send strings. "
    "NaN and infinities are refused.",
    specified_by_url="https://www.rfc-editor.org/rfc/rfc8259#section-6",
    serialize=_plain_decimal,
)

# strawberry.Schema(scalar_overrides=…): the Python types these scalars stand for.
WIRE_FORMATS: dict[object, ScalarDefinition] = {
    dt.date: DATE,
    dt.datetime: DATE_TIME,
    decimal.Decimal: DECIMAL,
}
