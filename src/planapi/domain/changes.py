"""Change operations: what an amendment asks for. Validated against a state, they become events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from planapi.domain.links import LinkRelation
from planapi.domain.nodes import NodeKind


def _no_values() -> Mapping[str, object]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AddNode:
    kind: NodeKind
    title: str
    id: str | None = None
    parent_id: str | None = None
    position: int | None = None
    # Every other field given (code, description, references, kind fields).
    values: Mapping[str, object] = field(default_factory=_no_values)


@dataclass(frozen=True, slots=True)
class UpdateNode:
    id: str
    # Only the fields to change; a None value clears an optional field.
    values: Mapping[str, object] = field(default_factory=_no_values)


@dataclass(frozen=True, slots=True)
class RemoveNode:
    id: str
    cascade: bool = False


@dataclass(frozen=True, slots=True)
class MoveNode:
    id: str
    parent_id: str | None
    position: int | None = None


@dataclass(frozen=True, slots=True)
class LinkNodes:
    from_id: str
    to_id: str
    relation: LinkRelation


@dataclass(frozen=True, slots=True)
class UnlinkNodes:
    from_id: str
    to_id: str
    relation: LinkRelation


@dataclass(frozen=True, slots=True)
class DeclareLanguages:
    source: str
    languages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SetTranslation:
    node_id: str
    field: str  # a text slot: title, description, objective, expected_results[2]
    lang: str
    text: str


Change = (
    AddNode
    | UpdateNode
    | RemoveNode
    | MoveNode
    | LinkNodes
    | UnlinkNodes
    | DeclareLanguages
    | SetTranslation
)

# The name each operation has in a problem's path (`changes[2].addNode.parentId`).
OPERATION_NAMES: dict[type[Change], str] = {
    AddNode: "addNode",
    UpdateNode: "updateNode",
    RemoveNode: "removeNode",
    MoveNode: "moveNode",
    LinkNodes: "link",
    UnlinkNodes: "unlink",
    DeclareLanguages: "declareLanguages",
    SetTranslation: "setTranslation",
}
