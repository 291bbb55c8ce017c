"""What the plan use cases answer: a version, a page of amendments, a node's history entries,
the amendment behind a field, the diff between two versions."""

from __future__ import annotations

from dataclasses import dataclass

from planapi.application.ports import Recorded
from planapi.domain.diff import PlanDiff
from planapi.domain.history import FieldOrigin, NodeChange
from planapi.domain.plan import PlanState


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """A plan as of one version, with the amendment that produced that version."""

    state: PlanState
    amendment: Recorded


@dataclass(frozen=True, slots=True)
class AmendmentPage:
    items: list[Recorded]
    has_more: bool
    total: int


@dataclass(frozen=True, slots=True)
class NodeEntry:
    amendment: Recorded
    change: NodeChange


@dataclass(frozen=True, slots=True)
class FieldSource:
    origin: FieldOrigin
    amendment: Recorded


@dataclass(frozen=True, slots=True)
class VersionDiff:
    before: PlanVersion
    after: PlanVersion
    diff: PlanDiff
