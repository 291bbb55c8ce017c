"""Nodes and field values as the JSON the event and snapshot stores keep.

Built on the per-field mapping of `application/primitives.py`, which the API and the use cases
share; only storage encodes whole nodes.
"""

from __future__ import annotations

from collections.abc import Mapping

from planapi.application.primitives import (
    FROM_PRIMITIVE,
    Json,
    field_from_primitive,
    field_to_primitive,
)
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


_NAMED = frozenset({"id", "kind", "title"})


def node_from_primitive(raw: Mapping[str, Json]) -> Node:
    # Inline `field_from_primitive`: a cold read of a large plan decodes every field of every
    # node here, and a call per field was a good part of it.
    values: dict[str, object] = {}
    for name, value in raw.items():
        if name in _NAMED:
            continue
        decode = FROM_PRIMITIVE.get(name) if value is not None else None
        values[name] = decode(value) if decode is not None else value
    kind = _KINDS.get(raw["kind"]) or NodeKind(raw["kind"])
    return Node(id=raw["id"], kind=kind, title=raw["title"], **values)  # type: ignore[arg-type]


_KINDS = {kind.value: kind for kind in NodeKind}
