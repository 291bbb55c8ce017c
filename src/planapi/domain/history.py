"""A node's history and blame, from the events that touched it (no replay of the whole plan)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from planapi.domain.diff import FieldChange
from planapi.domain.events import (
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NodesLinked,
    NodesUnlinked,
    NodeUpdated,
    PlanEvent,
    TextTranslated,
)
from planapi.domain.links import Link
from planapi.domain.nodes import Node, field_values
from planapi.domain.plan import updated

PARENT = "parent_id"


class NodeChangeKind(enum.Enum):
    ADDED = "ADDED"
    UPDATED = "UPDATED"
    MOVED = "MOVED"
    REMOVED = "REMOVED"
    LINKED = "LINKED"
    UNLINKED = "UNLINKED"
    TRANSLATED = "TRANSLATED"  # one text in one language: its field is `title@fr`


@dataclass(frozen=True, slots=True)
class NodeChange:
    version: int
    kind: NodeChangeKind
    fields: tuple[FieldChange, ...] = ()
    link: Link | None = None


@dataclass(frozen=True, slots=True)
class FieldOrigin:
    """Where a field's current value came from: the version that last set it."""

    field: str
    value: object
    version: int


def node_history(node_id: str, events: Iterable[tuple[int, PlanEvent]]) -> list[NodeChange]:
    """Every change to `node_id` in `events` (version, event), oldest first, with each field's
    value before and after."""
    current: Node | None = None
    out: list[NodeChange] = []
    for version, event in events:
        for change in event.changes:
            match change:
                case NodeAdded(node=node) if node.id == node_id:
                    current = node
                    fields = [FieldChange(PARENT, None, node.parent_id)] if node.parent_id else []
                    fields += [
                        FieldChange(name, None, value)
                        for name, value in field_values(node).items()
                        if value not in (None, ())
                    ]
                    out.append(NodeChange(version, NodeChangeKind.ADDED, tuple(fields)))
                case NodeUpdated(node_id=changed, values=values) if changed == node_id:
                    before = field_values(current) if current else {}
                    current = updated(current, values) if current else None
                    after = field_values(current) if current else dict(values)
                    fields = [
                        FieldChange(name, before.get(name), after.get(name))
                        for name in values
                        if before.get(name) != after.get(name)
                    ]
                    out.append(NodeChange(version, NodeChangeKind.UPDATED, tuple(fields)))
                case NodeMoved(node_id=moved, parent_id=parent_id) if moved == node_id:
                    old = current.parent_id if current else None
                    if current is not None:
                        current = updated(current, {PARENT: parent_id})
                    moved_from = (FieldChange(PARENT, old, parent_id),) if old != parent_id else ()
                    out.append(NodeChange(version, NodeChangeKind.MOVED, moved_from))
                case NodeRemoved(node_id=removed) if removed == node_id:
                    out.append(NodeChange(version, NodeChangeKind.REMOVED))
                case NodesLinked(link=link) if link.touches(node_id):
                    out.append(NodeChange(version, NodeChangeKind.LINKED, link=link))
                case NodesUnlinked(link=link) if link.touches(node_id):
                    out.append(NodeChange(version, NodeChangeKind.UNLINKED, link=link))
                case TextTranslated(node_id=translated) if translated == node_id:
                    out.append(
                        NodeChange(version, NodeChangeKind.TRANSLATED, (translation(change),))
                    )
    return out


def translation(event: TextTranslated) -> FieldChange:
    """A translation as a field change: `title@fr`, from the source text to its translation."""
    return FieldChange(f"{event.slot}@{event.lang}", event.source, event.text)


def blame(node: Node, history: Iterable[NodeChange]) -> list[FieldOrigin]:
    """For each field of `node` (as of the version read), the version that last set it."""
    set_at: dict[str, int] = {}
    added = 0
    for change in history:
        for field in change.fields:
            set_at[field.field] = change.version
        if change.kind is NodeChangeKind.ADDED:
            added = change.version
    values = {PARENT: node.parent_id, **field_values(node)}
    # Translations (`title@fr`): the latest of each, with the version that recorded it.
    translated = {
        field.field: FieldOrigin(field.field, field.after, change.version)
        for change in history
        if change.kind is NodeChangeKind.TRANSLATED
        for field in change.fields
    }
    return [
        *(
            FieldOrigin(name, value, set_at.get(name, added))
            for name, value in values.items()
            if name in set_at or value not in (None, ())
        ),
        *translated.values(),
    ]


def touched_nodes(event: PlanEvent) -> set[str]:
    """The nodes an event changed (fields, place, existence or links): its history entries."""
    found: set[str] = set()
    for change in event.changes:
        match change:
            case NodeAdded(node=node):
                found.add(node.id)
            case NodeUpdated(node_id=node_id) | NodeRemoved(node_id=node_id):
                found.add(node_id)
            case NodeMoved(node_id=node_id):
                found.add(node_id)
            case NodesLinked(link=link) | NodesUnlinked(link=link):
                found.update((link.from_id, link.to_id))
            case TextTranslated(node_id=node_id) if node_id:
                found.add(node_id)
    return found
