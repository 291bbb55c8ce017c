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


@dataclass(frozen=True, slots=True)
class PlanAmended:
    changes: tuple[NodeEvent, ...]


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
