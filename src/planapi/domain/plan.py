"""The plan's state at one version, and the fold that builds it from events."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import msgspec

from planapi.domain.events import (
    LanguagesDeclared,
    NodeAdded,
    NodeEvent,
    NodeMoved,
    NodeRemoved,
    NodesLinked,
    NodesUnlinked,
    NodeUpdated,
    PlanCreated,
    PlanEvent,
    PlanStatus,
    TextTranslated,
)
from planapi.domain.links import Link, LinkRelation
from planapi.domain.nodes import LIST_FIELDS, Node, NodeKind
from planapi.domain.plan_kinds import PlanKind
from planapi.domain.translations import (
    DEFAULT_LANGUAGES,
    NO_TRANSLATIONS,
    Languages,
    Localized,
    Translation,
    TranslationKey,
)


@dataclass(frozen=True, slots=True)
class PlanState:
    """A plan as it stood after one version. Never mutated: past versions are facts."""

    id: str
    title: str
    description: str | None
    period_start: int
    period_end: int
    version: int
    nodes: Mapping[str, Node]
    children: Mapping[str | None, tuple[str, ...]]
    links: frozenset[Link]
    retired_ids: frozenset[str]
    outgoing: Mapping[str, tuple[Link, ...]]
    incoming: Mapping[str, tuple[Link, ...]]
    status: PlanStatus = PlanStatus.DRAFT
    succeeds: str | None = None
    superseded_by: str | None = None
    plan_kind: PlanKind = PlanKind.ACTION_PLAN
    implements: str | None = None
    edition: int | None = None
    languages: Languages = DEFAULT_LANGUAGES
    translations: Mapping[TranslationKey, Translation] = field(
        default_factory=lambda: NO_TRANSLATIONS
    )
    # Set on a copy read in a language other than the source (`application.translations`).
    localized: Localized | None = None

    @property
    def lang(self) -> str | None:
        """The language of this copy's texts when it is not the source language."""
        return self.localized.lang if self.localized else None

    def node(self, node_id: str) -> Node | None:
        return self.nodes.get(node_id)

    def children_of(self, parent_id: str | None, kind: NodeKind | None = None) -> list[Node]:
        nodes = (self.nodes[child] for child in self.children.get(parent_id, ()))
        return [node for node in nodes if kind is None or node.kind is kind]

    def of_kind(self, kind: NodeKind) -> list[Node]:
        """Every node of `kind`, in document order (depth first)."""
        return [node for node in self.walk() if node.kind is kind]

    def walk(self, parent_id: str | None = None) -> Iterable[Node]:
        # Depth first with a stack of iterators, not recursion: a nested generator passes each
        # node up through every level, which made whole-plan walks (diffs, previews) slow.
        nodes, children = self.nodes, self.children
        stack = [iter(children.get(parent_id, ()))]
        while stack:
            for child_id in stack[-1]:
                yield nodes[child_id]
                below = children.get(child_id)
                if below:
                    stack.append(iter(below))
                    break
            else:
                stack.pop()

    def position_of(self, node_id: str) -> int:
        node = self.nodes[node_id]
        return self.children.get(node.parent_id, ()).index(node_id)

    def linked_to(self, node_id: str, relation: LinkRelation) -> list[Node]:
        """Nodes `node_id` points at through `relation` (an output → the priorities it serves)."""
        return [
            self.nodes[link.to_id]
            for link in self.outgoing.get(node_id, ())
            if link.relation is relation
        ]

    def linked_from(self, node_id: str, relation: LinkRelation) -> list[Node]:
        """Nodes pointing at `node_id` through `relation` (a priority ← the outputs serving it)."""
        return [
            self.nodes[link.from_id]
            for link in self.incoming.get(node_id, ())
            if link.relation is relation
        ]


class PlanBuilder:
    """A mutable working copy used to fold events and to validate an amendment's changes."""

    def __init__(self, state: PlanState, implemented: PlanState | None = None) -> None:
        self.id = state.id
        self.title = state.title
        self.description = state.description
        self.period_start = state.period_start
        self.period_end = state.period_end
        self.version = state.version
        self.status, self.succeeds = state.status, state.succeeds
        self.superseded_by = state.superseded_by
        self.nodes: dict[str, Node] = dict(state.nodes)
        self.children: dict[str | None, list[str]] = {
            parent: list(kids) for parent, kids in state.children.items()
        }
        self.links: set[Link] = set(state.links)
        self.retired: set[str] = set(state.retired_ids)
        self.plan_kind, self.implements = state.plan_kind, state.implements
        self.edition = state.edition
        # The action plan an operational plan's activities link into, when checking changes.
        self.implemented = implemented
        self.languages = state.languages
        self.translations: dict[TranslationKey, Translation] = dict(state.translations)

    # -- reading, for validation -------------------------------------------------------------
    def siblings(self, parent_id: str | None) -> list[str]:
        return self.children.get(parent_id, [])

    def descendants(self, node_id: str) -> list[str]:
        """All nodes under `node_id`, deepest first, so removing them in order never orphans."""
        out: list[str] = []
        for child in self.children.get(node_id, []):
            out.extend(self.descendants(child))
            out.append(child)
        return out

    # -- applying facts ----------------------------------------------------------------------
    def apply_plan_event(self, event: PlanEvent) -> None:
        if isinstance(event, PlanCreated):
            self.id, self.title, self.description = event.plan_id, event.title, event.description
            self.period_start, self.period_end = event.period_start, event.period_end
            self.status, self.succeeds = event.status, event.succeeds
            self.plan_kind, self.implements = event.plan_kind, event.implements
        else:
            self.status = event.status or self.status
            self.succeeds = event.succeeds or self.succeeds
            self.superseded_by = event.superseded_by or self.superseded_by
            if event.edition is not None:
                self.edition = event.edition
        for change in event.changes:
            self.apply(change)
        self.version += 1

    def apply(self, event: NodeEvent) -> None:
        match event:
            case NodeAdded(node=node, position=position):
                self.nodes[node.id] = node
                self.children.setdefault(node.parent_id, []).insert(position, node.id)
            case NodeUpdated(node_id=node_id, values=values):
                self.nodes[node_id] = updated(self.nodes[node_id], values)
            case NodeRemoved(node_id=node_id):
                node = self.nodes.pop(node_id)
                self.children[node.parent_id].remove(node_id)
                self.children.pop(node_id, None)
                self.retired.add(node_id)
            case NodeMoved(node_id=node_id, parent_id=parent_id, position=position):
                node = self.nodes[node_id]
                self.children[node.parent_id].remove(node_id)
                self.children.setdefault(parent_id, []).insert(position, node_id)
                self.nodes[node_id] = msgspec.structs.replace(node, parent_id=parent_id)
            case NodesLinked(link=link):
                self.links.add(link)
            case NodesUnlinked(link=link):
                self.links.discard(link)
            case LanguagesDeclared(source=source, published=published):
                self.languages = Languages(source, published)
            case TextTranslated(node_id=node_id, slot=slot, lang=lang, text=text, source=source):
                self.translations[node_id, slot, lang] = Translation(text, source, self.version + 1)

    def freeze(self) -> PlanState:
        ordered = sorted(self.links)
        outgoing: dict[str, list[Link]] = {}
        incoming: dict[str, list[Link]] = {}
        for link in ordered:
            outgoing.setdefault(link.from_id, []).append(link)
            incoming.setdefault(link.to_id, []).append(link)
        return PlanState(
            id=self.id,
            title=self.title,
            description=self.description,
            period_start=self.period_start,
            period_end=self.period_end,
            version=self.version,
            nodes=MappingProxyType(dict(self.nodes)),
            children=MappingProxyType(
                {parent: tuple(kids) for parent, kids in self.children.items() if kids}
            ),
            links=frozenset(self.links),
            retired_ids=frozenset(self.retired),
            outgoing=MappingProxyType({k: tuple(v) for k, v in outgoing.items()}),
            incoming=MappingProxyType({k: tuple(v) for k, v in incoming.items()}),
            status=self.status,
            succeeds=self.succeeds,
            superseded_by=self.superseded_by,
            plan_kind=self.plan_kind,
            implements=self.implements,
            edition=self.edition,
            languages=self.languages,
            translations=MappingProxyType(dict(self.translations)),
        )


def updated(node: Node, values: Mapping[str, object]) -> Node:
    clean = {
        name: (() if value is None and name in LIST_FIELDS else value)
        for name, value in values.items()
    }
    return msgspec.structs.replace(node, **clean)


EMPTY = PlanState(
    id="",
    title="",
    description=None,
    period_start=0,
    period_end=0,
    version=0,
    nodes=MappingProxyType({}),
    children=MappingProxyType({}),
    links=frozenset(),
    retired_ids=frozenset(),
    outgoing=MappingProxyType({}),
    incoming=MappingProxyType({}),
)


def fold(events: Iterable[PlanEvent], start: PlanState | None = None) -> PlanState:
    """The state after applying `events`, each one version, to `start` (nothing: a new plan)."""
    builder = PlanBuilder(start or EMPTY)
    for event in events:
        builder.apply_plan_event(event)
    return builder.freeze()


_ENCODE = msgspec.msgpack.Encoder().encode


def sharing(state: PlanState, other: PlanState) -> PlanState:
    """`state`, its nodes and child lists that are identical to `other`'s taken from `other`.

    A state decoded from a snapshot shares no object with the versions held beside it, where
    one folded from another shares every node the events left alone: a cache of versions
    bounded by their number then held a whole plan (about 1 MB for 1,000 KPIs) per decoded
    version. Identical means the same encoding, not `==`: Decimal("40") == Decimal("40.0"),
    and a version must read as it was written."""
    theirs = other.nodes
    nodes: dict[str, Node] = {}
    for node_id, node in state.nodes.items():
        held = theirs.get(node_id)
        if held is not None and (held is node or _ENCODE(held) == _ENCODE(node)):
            nodes[held.id] = held  # its id's string too: one per plan, not one per version
        else:
            nodes[node_id] = node
    their_children = other.children
    children = {}
    for parent, kids in state.children.items():
        held_kids = their_children.get(parent)
        children[parent] = held_kids if held_kids == kids else kids
    same_links = other.links == state.links  # outgoing and incoming are made of the links
    retired = other.retired_ids if other.retired_ids == state.retired_ids else state.retired_ids
    return dataclasses.replace(
        state,
        nodes=MappingProxyType(nodes),
        children=MappingProxyType(children),
        links=other.links if same_links else state.links,
        outgoing=other.outgoing if same_links else state.outgoing,
        incoming=other.incoming if same_links else state.incoming,
        retired_ids=retired,
    )
