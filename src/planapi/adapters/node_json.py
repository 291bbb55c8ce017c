"""Nodes and field values as the JSON the event and snapshot stores keep.

Built on the per-field mapping of `application/primitives.py`, which the API and the use cases
share; only storage encodes whole nodes.
"""

from __future__ import annotations

from collections.abc import Mapping

from planapi.application.primitives import Json, field_from_primitive, field_to_primitive
from planapi.domain.nodes import Node, NodeKind


def values_to_primitive(values: Mapping[str, object]) -> dict[str, Json]:
    return {name: field_to_primitive(name, value) for name, value in values.items()}


def values_from_primitive(raw: Mapping[str, Json]) -> dict[str, object]:
    return {name: field_from_primitive(name, value) for name, value in raw.items()}


_EMPTY = Node(id="", kind=NodeKind.SECTION, title="")


def node_to_primitive(node: Node) -> dict[str, Json]:
    """Only fields that differ from their default, to keep stored events small."""
    out: dict[str, Json] = {"id": node.id, "kind": node.kind.value, "title": node.title}
    for name in Node.__slots__:
        value = getattr(node, name)
        if name in out or value == getattr(_EMPTY, name):
            continue
        out[name] = field_to_primitive(name, value)
    return out


def node_from_primitive(raw: Mapping[str, Json]) -> Node:
    values = {
        name: field_from_primitive(name, value)
        for name, value in raw.items()
        if name not in {"id", "kind", "title"}
    }
    return Node(id=raw["id"], kind=NodeKind(raw["kind"]), title=raw["title"], **values)  # type: ignore[arg-type]
