"""A node's history as GraphQL types: what each amendment did to it, pages of those changes,
and which amendment last set each field."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import strawberry
from strawberry.scalars import JSON

from planapi.api.types.global_ids import Node as GlobalNode
from planapi.api.types.global_ids import global_id
from planapi.api.types.history import Amendment, FieldDiff, field_diffs
from planapi.application.plans import NodeEntry
from planapi.domain.errors import Problem, ValidationError
from planapi.domain.history import NodeChangeKind
from planapi.domain.links import LinkRelation

NodeChangeKindEnum = strawberry.enum(NodeChangeKind, name="NodeChangeKind")

MAX_HISTORY = 1_000


def history_page(
    entries: list[NodeEntry], first: int, before_version: int | None, plan_id: str, node_id: str
) -> list[NodeHistoryEntry]:
    """Newest first: `first` entries older than `before_version` (when given)."""
    if not 0 <= first <= MAX_HISTORY:
        raise ValidationError([Problem(("first",), f"must be between 0 and {MAX_HISTORY:,}")])
    numbered: Iterable[tuple[NodeEntry, int]] = zip(entries, history_indexes(entries), strict=True)
    if before_version is not None:
        numbered = ((e, n) for e, n in numbered if e.amendment.version < before_version)
    return [
        NodeHistoryEntry.of(entry, history_entry_id(plan_id, node_id, entry, index))
        for entry, index in itertools.islice(numbered, first)
    ]


def history_indexes(entries: list[NodeEntry]) -> list[int]:
    """Each entry's place among the node's changes in its amendment (one amendment can add a
    node and link it): 0 for the first change, in the order the amendment lists them. Entries
    come newest first, so an amendment's changes appear last to first."""
    seen: dict[int, int] = {}
    indexes = [0] * len(entries)
    for position in range(len(entries) - 1, -1, -1):
        version = entries[position].amendment.version
        indexes[position] = seen.get(version, 0)
        seen[version] = indexes[position] + 1
    return indexes


def history_entry_id(plan_id: str, node_id: str, entry: NodeEntry, index: int) -> strawberry.ID:
    return global_id("NodeHistoryEntry", plan_id, entry.amendment.version, node_id, index)


@strawberry.type(description="Two nodes and how they are linked.")
class LinkRef:
    from_id: strawberry.ID
    to_id: strawberry.ID
    relation: LinkRelation


@strawberry.type(description="What one amendment did to a node.")
class NodeHistoryEntry(GlobalNode):
    amendment: Amendment
    change: NodeChangeKind
    fields: list[FieldDiff]
    link: LinkRef | None
    key: strawberry.Private[strawberry.ID]

    @strawberry.field(
        description="Global id: `NodeHistoryEntry:<planId>:<version>:<nodeId>:<n>`, the n-th "
        "change (from 0) the amendment made to the node."
    )
    def id(self) -> strawberry.ID:
        return self.key

    @strawberry.field
    def version(self) -> int:
        return self.amendment.record.version

    @classmethod
    def of(cls, entry: NodeEntry, key: strawberry.ID) -> NodeHistoryEntry:
        link = entry.change.link
        return cls(
            key=key,
            amendment=Amendment(record=entry.amendment),
            change=entry.change.kind,
            fields=field_diffs(entry.change.fields),
            link=LinkRef(
                from_id=strawberry.ID(link.from_id),
                to_id=strawberry.ID(link.to_id),
                relation=link.relation,
            )
            if link
            else None,
        )


@strawberry.type(description="A field's value and the amendment that last set it.")
class FieldBlame:
    field: str
    value: JSON | None
    amendment: Amendment
