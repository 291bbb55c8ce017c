"""Facts: what happened to a plan, frozen and in the past tense.

One stored event per plan version: `PlanCreated` is version 1 and every later version is one
`PlanAmended`. Each carries the node-level facts it consists of, in the order they happened.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from planapi.domain.links import Link
from planapi.domain.nodes import Node
from planapi.domain.plan_kinds import PlanKind


@dataclass(frozen=True, slots=True)
class NodeAdded:
    node: Node
    position: int


@dataclass(frozen=True, slots=True)
class NodeUpdated:
    node_id: str
    # Only the fields this change set, with their new values.
    values: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class NodeRemoved:
    node_id: str


@dataclass(frozen=True, slots=True)
class NodeMoved:
    node_id: str
    parent_id: str | None
    position: int


@dataclass(frozen=True, slots=True)
class NodesLinked:
    link: Link


@dataclass(frozen=True, slots=True)
class NodesUnlinked:
    link: Link


class PlanStatus(enum.Enum):
    """Where a plan stands: see domain/status.py for who may change it."""

    DRAFT = "DRAFT"
    ADOPTED = "ADOPTED"
    SUPERSEDED = "SUPERSEDED"


@dataclass(frozen=True, slots=True)
class LanguagesDeclared:
    """The plan's source language and every language it is published in (source included)."""

    source: str
    published: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TextTranslated:
    """One text slot of a node (`title`, `expected_results[1]`) in one language; `source` is
    the source text it translates, so a later edit of that text makes it stale."""

    node_id: str
    slot: str
    lang: str
    text: str
    source: str


NodeEvent = (
    NodeAdded
    | NodeUpdated
    | NodeRemoved
    | NodeMoved
    | NodesLinked
    | NodesUnlinked
    | LanguagesDeclared
    | TextTranslated
)


@dataclass(frozen=True, slots=True)
class PlanCreated:
    plan_id: str
    title: str
    period_start: int
    period_end: int
    description: str | None
    changes: tuple[NodeEvent, ...] = ()
    status: PlanStatus = PlanStatus.DRAFT
    # The plan this one succeeds: adopting this one supersedes it.
    succeeds: str | None = None
    # Events stored before plan kinds existed are action plans.
    plan_kind: PlanKind = PlanKind.ACTION_PLAN
    # The action plan an operational plan implements (its plan id).
    implements: str | None = None


@dataclass(frozen=True, slots=True)
class PlanAmended:
    changes: tuple[NodeEvent, ...]
    # Set only when the amendment changes them (None: unchanged).
    status: PlanStatus | None = None
    succeeds: str | None = None
    # With status SUPERSEDED: the adopted successor that superseded the plan.
    superseded_by: str | None = None
    # An operational plan's edition, set by the Council's yearly approval (2027: activities for
    # 2027, forecast for the three years after).
    edition: int | None = None


PlanEvent = PlanCreated | PlanAmended


class Authority(enum.Enum):
    """The bodies that may change an ITU-D action plan."""

    WTDC = "WTDC"
    TDAG = "TDAG"
    COUNCIL = "COUNCIL"
    PLENIPOTENTIARY = "PLENIPOTENTIARY"
    BDT = "BDT"


@dataclass(frozen=True, slots=True)
class AmendmentInfo:
    """Who changed the plan, on what authority and why: stored beside each event."""

    actor: str
    authority: Authority
    rationale: str
    reference: str | None = None
    effective_from: dt.date | None = None
    # The proposal this amendment adopted (domain/proposals.py), when it went through one.
    proposal: str | None = None
