"""Plan nodes as GraphQL types: the one interface every kind implements, the links between
nodes, and the registry of each kind's type, all read from a PlanState. The kinds themselves
are declared in `node_kinds` (and `kpi`), each registering itself with `node_type`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import strawberry

from planapi.api.types import scalars  # noqa: F401  (registers the domain enums)
from planapi.api.types.context import Context
from planapi.api.types.errors import bad_input
from planapi.api.types.global_ids import Node as GlobalNode
from planapi.api.types.history import Amendment
from planapi.api.types.naming import camel
from planapi.api.types.node_history import FieldBlame, NodeHistoryEntry, history_page
from planapi.api.types.node_values import ExternalReference
from planapi.api.types.translations import (
    Translatable,
    fallback_fields,
    global_node_id,
    source_node,
    stale_fields,
    text_language,
)
from planapi.api.types.views import Reader
from planapi.application.primitives import field_to_primitive
from planapi.domain.errors import ValidationError
from planapi.domain.links import Link, LinkRelation
from planapi.domain.nodes import Node, NodeKind
from planapi.domain.plan import PlanState


@strawberry.interface(description="Any node of a plan, as it stood at the version being read.")
class PlanNode(GlobalNode, Translatable):
    node: strawberry.Private[Node]
    plan: strawberry.Private[PlanState]

    @strawberry.field(
        description="Global id of this node as of the version being read "
        "(`Kpi:baku-2026:34:kpi-1-1-1`): differs between versions, so a client cache keyed by "
        "it never mixes them. `nodeId` is the stable key that arguments take."
    )
    def id(self) -> strawberry.ID:
        return global_node_id(self.node, self.plan)

    @strawberry.field(
        description="Stable id: the same in every version, never reused; what arguments and "
        "inputs (`Plan.node(nodeId:)`, `parentId`, `updateNode.id`, links) take."
    )
    def node_id(self) -> strawberry.ID:
        return strawberry.ID(self.node.id)

    @strawberry.field
    def kind(self) -> NodeKind:
        return self.node.kind

    @strawberry.field(description='Display code ("1", "1.2", "ASP1"); may change.')
    def code(self) -> str | None:
        return self.node.code

    @strawberry.field
    def title(self) -> str:
        return self.node.title

    @strawberry.field(description="Text; paragraphs are separated by a blank line.")
    def description(self) -> str | None:
        return self.node.description

    @strawberry.field
    def references(self) -> list[ExternalReference]:
        return [ExternalReference.of(ref) for ref in self.node.references]

    @strawberry.field
    def parent(self) -> PlanNode | None:
        parent_id = self.node.parent_id
        return as_type(self.plan.nodes[parent_id], self.plan) if parent_id else None

    @strawberry.field(description="Position among the parent's children, from 0.")
    def position(self) -> int:
        return self.plan.position_of(self.node.id)

    @strawberry.field
    def children(self) -> list[PlanNode]:
        return as_types(self.plan.children_of(self.node.id), self.plan)

    @strawberry.field(description="Links from and to this node.")
    def links(self) -> list[NodeLink]:
        state, node_id = self.plan, self.node.id
        found = [*state.outgoing.get(node_id, ()), *state.incoming.get(node_id, ())]
        return [NodeLink.of(link, state) for link in found]

    @strawberry.field(
        description="Every amendment up to the version being read that touched this node, "
        "newest first, with each field's value before and after; `first` (at most 1,000) at "
        "a time, `beforeVersion` pages to older ones."
    )
    async def history(
        self,
        info: strawberry.Info[Context, None],
        first: int = 100,
        before_version: int | None = None,
    ) -> list[NodeHistoryEntry]:
        found = await info.context.plans.history(self.plan.id, self.node.id, self.plan.version)
        try:
            return history_page(found, first, before_version, self.plan.id, self.node.id)
        except ValidationError as error:
            raise bad_input(error) from error

    @strawberry.field(
        description="For each field (as of the version being read), the amendment that last "
        "set it: who, when, on what authority and why."
    )
    async def blame(self, info: strawberry.Info[Context, None]) -> list[FieldBlame]:
        found = await info.context.plans.blame(self.plan.id, source_node(self), self.plan.version)
        return [
            FieldBlame(
                field=camel(source.origin.field),
                value=field_to_primitive(source.origin.field, source.origin.value),
                amendment=Amendment(record=source.amendment),
            )
            for source in found
        ]

    def _children(self, kind: NodeKind) -> list[PlanNode]:
        return as_types(children(kind)(self.node, self.plan), self.plan)

    def _to(self, relation: LinkRelation, kind: NodeKind) -> list[PlanNode]:
        return as_types(linked_to(relation, kind)(self.node, self.plan), self.plan)

    def _from(self, relation: LinkRelation, kind: NodeKind) -> list[PlanNode]:
        return as_types(linked_from(relation, kind)(self.node, self.plan), self.plan)


# -- the same, read from the domain node (`api.types.views`) ----------------------------------
def children(kind: NodeKind) -> Callable[[Node, PlanState], list[Node]]:
    """`plan.children_of(node.id, kind)`, without its generator (a tree reads it per node)."""

    def read(node: Node, plan: PlanState) -> list[Node]:
        nodes = plan.nodes
        found = [nodes[child] for child in plan.children.get(node.id, ())]
        return [each for each in found if each.kind is kind]

    return read


def linked_to(relation: LinkRelation, kind: NodeKind) -> Callable[[Node, PlanState], list[Node]]:
    return lambda node, plan: [n for n in plan.linked_to(node.id, relation) if n.kind is kind]


def linked_from(relation: LinkRelation, kind: NodeKind) -> Callable[[Node, PlanState], list[Node]]:
    return lambda node, plan: [n for n in plan.linked_from(node.id, relation) if n.kind is kind]


# Every node type's plain fields, as `PlanNode` and `Translatable` answer them.
NODE_FIELDS: dict[str, Reader] = {
    "id": global_node_id,
    "node_id": "id",
    "kind": "kind",
    "code": "code",
    "title": "title",
    "description": "description",
    "position": lambda node, plan: plan.position_of(node.id),
    "lang": text_language,
    "fallback_fields": fallback_fields,
    "stale_fields": stale_fields,
}


@strawberry.type(description="A link between two nodes of the same version.")
class NodeLink:
    relation: LinkRelation
    link: strawberry.Private[Link]
    plan: strawberry.Private[PlanState]

    @strawberry.field(name="from")
    def source(self) -> PlanNode:
        return as_type(self.plan.nodes[self.link.from_id], self.plan)

    @strawberry.field(name="to")
    def target(self) -> PlanNode:
        return as_type(self.plan.nodes[self.link.to_id], self.plan)

    @classmethod
    def of(cls, link: Link, plan: PlanState) -> NodeLink:
        return cls(relation=link.relation, link=link, plan=plan)


# The GraphQL type of each node kind. Each kind's type registers itself where it is declared
# (`@node_type(NodeKind.…)`), so a new kind is one class in one place; the schema lists them in
# NodeKind's order and fails to build when a kind has none.
TYPES: dict[NodeKind, type[PlanNode]] = {}

_Type = TypeVar("_Type", bound=type[PlanNode])


def node_type(kind: NodeKind) -> Callable[[_Type], _Type]:
    def register(cls: _Type) -> _Type:
        assert kind not in TYPES, f"{kind} has two GraphQL types"
        TYPES[kind] = cls
        return cls

    return register


def as_type(node: Node, plan: PlanState) -> PlanNode:
    return TYPES[node.kind](node=node, plan=plan)


def as_types(nodes: list[Node], plan: PlanState) -> list[PlanNode]:
    return [as_type(node, plan) for node in nodes]
