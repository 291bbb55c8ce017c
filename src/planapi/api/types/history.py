"""Amendments (plan versions) and the node-level changes each consists of."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from planapi.api.types import cursors, log_fields, scalars  # noqa: F401  (scalars registers the domain enums)
from planapi.api.types.context import Context
from planapi.api.types.global_ids import Node as GlobalNode
from planapi.api.types.global_ids import global_id
from planapi.api.types.log_fields import InclusionProof
from planapi.api.types.naming import camel
from planapi.api.types.translations import LanguagesDeclared, TextTranslated, as_language_change
from planapi.application.feed import plan_id_of
from planapi.application.ports import Recorded
from planapi.application.primitives import field_to_primitive
from planapi.domain.diff import FieldChange
from planapi.domain.events import (
    Authority,
    NodeEvent,
    PlanStatus,
)
from planapi.domain.events import (
    NodeAdded as NodeAddedEvent,
)
from planapi.domain.events import (
    NodeMoved as NodeMovedEvent,
)
from planapi.domain.events import (
    NodeRemoved as NodeRemovedEvent,
)
from planapi.domain.events import (
    NodesLinked as NodesLinkedEvent,
)
from planapi.domain.events import (
    NodesUnlinked as NodesUnlinkedEvent,
)
from planapi.domain.events import (
    NodeUpdated as NodeUpdatedEvent,
)
from planapi.domain.links import LinkRelation
from planapi.domain.nodes import NodeKind

if TYPE_CHECKING:
    from planapi.api.types.proposals import Proposal

# Lazy: proposals.py imports this module (a proposal's `adoptedAs` is an Amendment).
ProposalRef = Annotated["Proposal", strawberry.lazy("planapi.api.types.proposals")]


@strawberry.type(description="A field's value as JSON (decimals as strings).")
class FieldValue:
    field: str
    value: JSON | None


@strawberry.type(description="A field's value before and after, as JSON.")
class FieldDiff:
    field: str
    before: JSON | None
    after: JSON | None


def field_diffs(changes: Iterable[FieldChange]) -> list[FieldDiff]:
    return [
        FieldDiff(
            field=camel(change.field),
            before=field_to_primitive(change.field, change.before),
            after=field_to_primitive(change.field, change.after),
        )
        for change in changes
    ]


@strawberry.type
class NodeAdded:
    node_id: strawberry.ID
    kind: NodeKind
    parent_id: strawberry.ID | None
    position: int
    code: str | None
    title: str


@strawberry.type(description="Only the fields this change set, with their new values.")
class NodeUpdated:
    node_id: strawberry.ID
    fields: list[FieldValue]


@strawberry.type
class NodeRemoved:
    node_id: strawberry.ID


@strawberry.type
class NodeMoved:
    node_id: strawberry.ID
    parent_id: strawberry.ID | None
    position: int


@strawberry.type
class NodesLinked:
    from_id: strawberry.ID
    to_id: strawberry.ID
    relation: LinkRelation


@strawberry.type
class NodesUnlinked:
    from_id: strawberry.ID
    to_id: strawberry.ID
    relation: LinkRelation


AmendmentChange = Annotated[
    NodeAdded
    | NodeUpdated
    | NodeRemoved
    | NodeMoved
    | NodesLinked
    | NodesUnlinked
    | LanguagesDeclared
    | TextTranslated,
    strawberry.union("AmendmentChange", description="What one change did to which node."),
]


def _id(value: str | None) -> strawberry.ID | None:
    return strawberry.ID(value) if value is not None else None


def field_values(values: dict[str, object]) -> list[FieldValue]:
    return [
        FieldValue(field=camel(name), value=field_to_primitive(name, value))
        for name, value in values.items()
    ]


def as_change(event: NodeEvent) -> AmendmentChange:
    match event:
        case NodeAddedEvent(node=node, position=position):
            return NodeAdded(
                node_id=strawberry.ID(node.id),
                kind=node.kind,
                parent_id=_id(node.parent_id),
                position=position,
                code=node.code,
                title=node.title,
            )
        case NodeUpdatedEvent(node_id=node_id, values=values):
            return NodeUpdated(node_id=strawberry.ID(node_id), fields=field_values(dict(values)))
        case NodeRemovedEvent(node_id=node_id):
            return NodeRemoved(node_id=strawberry.ID(node_id))
        case NodeMovedEvent(node_id=node_id, parent_id=parent_id, position=position):
            return NodeMoved(
                node_id=strawberry.ID(node_id), parent_id=_id(parent_id), position=position
            )
        case NodesLinkedEvent(link=link):
            return NodesLinked(
                from_id=strawberry.ID(link.from_id),
                to_id=strawberry.ID(link.to_id),
                relation=link.relation,
            )
        case NodesUnlinkedEvent(link=link):
            return NodesUnlinked(
                from_id=strawberry.ID(link.from_id),
                to_id=strawberry.ID(link.to_id),
                relation=link.relation,
            )
    found = as_language_change(event)
    if found is not None:
        return found
    raise TypeError(f"unknown change {event!r}")


@strawberry.type(description="One amendment: the change that made one version of a plan.")
class Amendment(GlobalNode):
    record: strawberry.Private[Recorded]

    @strawberry.field(description="Global id: `Amendment:<planId>:<version>`.")
    def id(self) -> strawberry.ID:
        stream_id = self.record.stream_id
        return global_id("Amendment", plan_id_of(stream_id) or stream_id, self.record.version)

    @strawberry.field(description="The version this amendment produced (1 = creation).")
    def version(self) -> int:
        return self.record.version

    @strawberry.field(description="When the server recorded it (never the client's clock).")
    def recorded_at(self) -> dt.datetime:
        return self.record.recorded_at

    @strawberry.field(
        description="Proof that this amendment is in the events log: in the tree of `treeSize` "
        "leaves, by default the latest signed checkpoint's; null until it is a leaf of it."
    )
    async def inclusion_proof(
        self, info: strawberry.Info[Context, None], tree_size: int | None = None
    ) -> InclusionProof | None:
        return await log_fields.inclusion_proof(info, self.record.position, tree_size)

    @strawberry.field(description="Who made it.")
    def actor(self) -> str:
        return self.record.info.actor

    @strawberry.field
    def authority(self) -> Authority:
        return self.record.info.authority

    @strawberry.field
    def rationale(self) -> str:
        return self.record.info.rationale

    @strawberry.field(description="The document that decided it.")
    def reference(self) -> str | None:
        return self.record.info.reference

    @strawberry.field
    def effective_from(self) -> dt.date | None:
        return self.record.info.effective_from

    @strawberry.field(
        description="The status this amendment gave the plan (creation: its first status); null "
        "when it left the status as it was."
    )
    def sets_status(self) -> PlanStatus | None:
        return self.record.event.status

    @strawberry.field(description="SHA-256 chain head after this amendment, hex.")
    def hash(self) -> str:
        return self.record.hash.hex()

    @strawberry.field
    def changes(self) -> list[AmendmentChange]:
        return [as_change(change) for change in self.record.event.changes]

    @strawberry.field(description="The proposal this amendment adopted, if it went through one.")
    async def proposal(self, info: strawberry.Info[Context, None]) -> ProposalRef | None:
        from planapi.api.types.proposals import as_proposal, proposal_service

        cited = self.record.info.proposal
        found = await proposal_service(info).proposal(cited) if cited else None
        return await as_proposal(info, found) if found else None


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class AmendmentEdge:
    cursor: str
    node: Amendment


@strawberry.type(description="Amendments, newest first.")
class AmendmentConnection:
    edges: list[AmendmentEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[Amendment]:
        return [edge.node for edge in self.edges]


def cursor_of(version: int) -> str:
    return cursors.encode("amendment", str(version))


def version_of(cursor: str) -> int:
    position = cursors.decode("amendment", cursor)
    try:
        return int(position)
    except ValueError as error:
        raise cursors.not_a_cursor() from error
