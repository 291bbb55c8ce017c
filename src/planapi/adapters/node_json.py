"""Nodes and field values as the JSON the event and snapshot stores keep.

Built on the per-field mapping of `application/primitives.py`, which the API and the use cases
share; only storage encodes whole nodes.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

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
    for name in Node.__struct_fields__:
        value = getattr(node, name)
        if name in out or value == getattr(_EMPTY, name):
            continue
        out[name] = field_to_primitive(name, value)
    return out


_NAMED = frozenset({"id", "kind", "title"})


# Fields whose stored key is the attribute's name all the way down (a dimension's `codeList` is
# not its `code_list`), so msgspec can build the node and its values in C, which halves the
# cost of an activity of 8 budget lines. Any other key, or a value msgspec refuses (a null
# tuple, a date or a number in a form only Python parses), takes the per-field way below, so
# what folds and how stays as it was. Stored decimals are strings (the encoder writes `str`).
_DIRECT = frozenset(Node.__struct_fields__) - {"dimensions"}
# Worth it only for nodes with nested values: msgspec fills all of Node's defaults itself, which
# makes a plain node of 4 keys (a KPI of the bench's action plan) slower than field by field.
_NESTED = frozenset({"budget", "milestones", "shares", "targets", "baseline", "references"})


def node_from_primitive(raw: Mapping[str, Json]) -> Node:
    if not _NESTED.isdisjoint(raw) and _DIRECT.issuperset(raw):
        try:
            return msgspec.convert(raw, Node)
        except msgspec.ValidationError:
            pass
    return _node_by_field(raw)


def _node_by_field(raw: Mapping[str, Json]) -> Node:
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
