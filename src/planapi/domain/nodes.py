"""Node kinds, the fields each kind carries, and where each kind may sit in the plan."""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from planapi.domain.activity_values import ActivityStatus, BudgetLine, Milestone, Share
from planapi.domain.periods import PeriodType


class NodeKind(enum.Enum):
    PRIORITY = "PRIORITY"
    OUTCOME = "OUTCOME"
    KPI = "KPI"
    OUTPUT = "OUTPUT"
    ENABLER = "ENABLER"
    REGIONAL_INITIATIVE = "REGIONAL_INITIATIVE"
    PROJECT = "PROJECT"
    RESOLUTION = "RESOLUTION"
    STUDY_GROUP = "STUDY_GROUP"
    QUESTION = "QUESTION"
    SECTION = "SECTION"
    TERM = "TERM"
    # an operational plan's unit of work
    ACTIVITY = "ACTIVITY"


class Measure(enum.Enum):
    UNIT = "UNIT"
    PERCENTAGE = "PERCENTAGE"
    RATIO = "RATIO"
    QUALITATIVE = "QUALITATIVE"


class Direction(enum.Enum):
    INCREASE = "INCREASE"
    DECREASE = "DECREASE"
    MAINTAIN = "MAINTAIN"


class Region(enum.Enum):
    AFRICA = "AFRICA"
    AMERICAS = "AMERICAS"
    ARAB_STATES = "ARAB_STATES"
    ASIA_PACIFIC = "ASIA_PACIFIC"
    CIS = "CIS"
    EUROPE = "EUROPE"


class SectionContent(enum.Enum):
    """What a section of the plan's text lists after its own paragraphs, so the whole document
    can be rendered in the order of the original."""

    TERMS = "TERMS"
    PRIORITIES = "PRIORITIES"
    OUTPUTS = "OUTPUTS"
    ENABLERS = "ENABLERS"
    REGIONAL_INITIATIVES = "REGIONAL_INITIATIVES"
    RESOLUTIONS = "RESOLUTIONS"
    STUDY_GROUPS = "STUDY_GROUPS"
    LINKAGES = "LINKAGES"
    ACTIVITIES = "ACTIVITIES"


class ReferenceVocabulary(enum.Enum):
    """Outside frameworks a node can point at (after IATI's `reference/@vocabulary`)."""

    SDG_TARGET = "SDG_TARGET"
    SDG_INDICATOR = "SDG_INDICATOR"
    WSIS_ACTION_LINE = "WSIS_ACTION_LINE"
    ITU_STRATEGIC_GOAL = "ITU_STRATEGIC_GOAL"
    ITU_STRATEGIC_TARGET = "ITU_STRATEGIC_TARGET"
    OTHER = "OTHER"


# `None` stands for the plan itself: these kinds hang directly under it.
PARENT_KINDS: dict[NodeKind, frozenset[NodeKind | None]] = {
    NodeKind.PRIORITY: frozenset({None}),
    NodeKind.OUTCOME: frozenset({NodeKind.PRIORITY, NodeKind.ENABLER}),
    # Output KPIs hang under the output, or under the activity that delivers it.
    NodeKind.KPI: frozenset({NodeKind.OUTCOME, NodeKind.OUTPUT, NodeKind.ACTIVITY}),
    NodeKind.OUTPUT: frozenset({None}),
    NodeKind.ENABLER: frozenset({None}),
    NodeKind.REGIONAL_INITIATIVE: frozenset({None}),
    NodeKind.PROJECT: frozenset({NodeKind.REGIONAL_INITIATIVE}),
    NodeKind.RESOLUTION: frozenset({None}),
    NodeKind.STUDY_GROUP: frozenset({None}),
    NodeKind.QUESTION: frozenset({NodeKind.STUDY_GROUP}),
    # Sections nest (3 → 3.1) so the narrative can be rebuilt in its own order.
    NodeKind.SECTION: frozenset({None, NodeKind.SECTION}),
    NodeKind.TERM: frozenset({None}),
    NodeKind.ACTIVITY: frozenset({None}),
}


@dataclass(frozen=True, slots=True)
class Reference:
    vocabulary: ReferenceVocabulary
    code: str
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class Measurement:
    """A value for a period: a KPI's baseline or one of its targets. Exact, never float."""

    period: str
    value: Decimal


@dataclass(frozen=True, slots=True)
class Dimension:
    """A disaggregation dimension a KPI declares (`sex`: `female`, `male`). Bound to a code
    list (`ISO_3166_1_ALPHA3`), its values are that list's codes (or those of `values`)."""

    name: str
    values: tuple[str, ...] = ()
    code_list: str | None = None


# A msgspec struct rather than a dataclass: a cold read of a large plan builds every node from
# its snapshot, and msgspec builds a struct from a map of its non-default fields 4-5 times
# faster than a dataclass from a map of all of them (`bench/snapshot_decode.py`). Immutable
# values only, so never part of a cycle: the collector need not track nodes (gc=False). Fields
# equal to their default are left out wherever msgspec encodes a node (the snapshots only).
class Node(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    id: str
    kind: NodeKind
    title: str
    parent_id: str | None = None
    code: str | None = None
    description: str | None = None
    references: tuple[Reference, ...] = ()
    # KPI definition
    unit: str | None = None
    measure: Measure | None = None
    direction: Direction | None = None
    baseline: Measurement | None = None
    targets: tuple[Measurement, ...] = ()
    dimensions: tuple[Dimension, ...] = ()
    # The range values must fit (domain/bounds.py); a PERCENTAGE is 0-100 unless declared.
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    # Which period types readings of this KPI may use (none given: any).
    period_types: tuple[PeriodType, ...] = ()
    # sections
    contents: tuple[SectionContent, ...] = ()
    # regional initiatives and projects
    region: Region | None = None
    objective: str | None = None
    expected_results: tuple[str, ...] = ()
    # resolutions
    number: str | None = None
    revision: str | None = None
    # activities: links into the action plan by its stable node ids
    output_ids: tuple[str, ...] = ()
    serves_ids: tuple[str, ...] = ()
    initiative_ids: tuple[str, ...] = ()
    responsible_unit: str | None = None
    regions: tuple[Region, ...] = ()
    countries: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    status: ActivityStatus | None = None
    milestones: tuple[Milestone, ...] = ()
    budget: tuple[BudgetLine, ...] = ()
    shares: tuple[Share, ...] = ()


COMMON_FIELDS: frozenset[str] = frozenset({"code", "title", "description", "references"})

KIND_FIELDS: dict[NodeKind, frozenset[str]] = {
    NodeKind.KPI: frozenset(
        {
            "unit",
            "measure",
            "direction",
            "baseline",
            "targets",
            "dimensions",
            "period_types",
            "minimum",
            "maximum",
        }
    ),
    NodeKind.REGIONAL_INITIATIVE: frozenset({"region", "objective", "expected_results"}),
    NodeKind.PROJECT: frozenset({"objective", "expected_results"}),
    NodeKind.RESOLUTION: frozenset({"number", "revision"}),
    NodeKind.SECTION: frozenset({"contents"}),
    NodeKind.ACTIVITY: frozenset(
        {
            "output_ids",
            "serves_ids",
            "initiative_ids",
            "responsible_unit",
            "regions",
            "countries",
            "start",
            "end",
            "status",
            "milestones",
            "budget",
            "shares",
        }
    ),
}

# Every field a change may set, in a stable order for diffs and history.
EDITABLE_FIELDS: tuple[str, ...] = tuple(
    name for name in Node.__struct_fields__ if name not in {"id", "kind", "parent_id"}
)

# Fields that take a list: "no value" is the empty tuple rather than None.
LIST_FIELDS: frozenset[str] = frozenset(
    {
        "references",
        "targets",
        "dimensions",
        "expected_results",
        "period_types",
        "contents",
        "output_ids",
        "serves_ids",
        "initiative_ids",
        "regions",
        "countries",
        "milestones",
        "budget",
        "shares",
    }
)


def fields_for(kind: NodeKind) -> frozenset[str]:
    return COMMON_FIELDS | KIND_FIELDS.get(kind, frozenset())


def field_values(node: Node) -> dict[str, object]:
    """The editable fields of `node` that apply to its kind."""
    allowed = fields_for(node.kind)
    return {name: getattr(node, name) for name in EDITABLE_FIELDS if name in allowed}


NODE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}\Z")  # \Z: no trailing newline
