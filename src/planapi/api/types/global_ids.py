"""Global object ids: what normalising clients (Apollo, urql Graphcache, Relay) key objects by.

An object's `id` names it *as of what fixes its data*, so two objects with the same id always
hold the same data and a cache can never mix two versions under one key: a plan and its nodes
carry the plan version they were read at (`Kpi:baku-2026:34:kpi-1-1-1`), a reading whether it
is current or which reading superseded it. The stable, version-independent keys have fields
of their own (`planId`, `nodeId`) and are what every argument and input takes.

The text is `Type:part:part…`: readable, and split on `:` without ambiguity, since a part
holding `:` or `%` has them percent-encoded (`%3A`, `%25`). Plan and node ids cannot hold
either today; the encoding keeps ids of any other origin unambiguous all the same.
"""

from __future__ import annotations

import re

import strawberry

from planapi.domain.nodes import NodeKind

MAX_LENGTH = 4_096
_ESCAPED = re.compile(r"%(3A|25)")

# The GraphQL type name of each node kind (as the types in `api.types.nodes` are named).
KIND_TYPE_NAMES: dict[NodeKind, str] = {
    kind: "".join(word.title() for word in kind.name.split("_")) for kind in NodeKind
}
NODE_TYPE_NAMES = frozenset(KIND_TYPE_NAMES.values())
# The same by the kind's value: hashing an Enum member calls Python code, a str does not.
_BY_VALUE = {kind._value_: name for kind, name in KIND_TYPE_NAMES.items()}


class MalformedIdError(ValueError):
    """Not a global id of this API; the message says why, for the client."""


@strawberry.interface(
    name="Node",
    description="An object with a global id (Relay's Global Object Identification): its `id` "
    "names it as of what fixes its data, so equal ids always mean equal data, and "
    "`Query.node(id:)` fetches it again.",
)
class Node:
    @strawberry.field(description="Global id: a cache key; refetch with `Query.node(id:)`.")
    def id(self) -> strawberry.ID:  # every implementing type answers its own
        raise NotImplementedError


def part(text: str) -> str:
    if ":" in text or "%" in text:
        return text.replace("%", "%25").replace(":", "%3A")
    return text


def _unpart(text: str) -> str:
    if "%" not in text:
        return text
    decoded = _ESCAPED.sub(lambda found: ":" if found[1] == "3A" else "%", text)
    if part(decoded) != text:  # only the encoding `part` makes is accepted
        raise MalformedIdError(f"{text!r} holds a % that is not %3A or %25")
    return decoded


def global_id(type_name: str, *parts: str | int) -> strawberry.ID:
    return strawberry.ID(":".join((type_name, *(part(str(each)) for each in parts))))


def node_global_id(
    kind: NodeKind, plan_id: str, version: int, node_id: str, lang: str | None = None
) -> strawberry.ID:
    """The hot one (every node of a tree): one format string. Read in a language other than the
    plan's source, a node holds other texts, so its id names the language too (`…:kpi-1:fr`)."""
    if ":" in plan_id or "%" in plan_id:  # `part`, inline: a tree reads one id per node
        plan_id = part(plan_id)
    if ":" in node_id or "%" in node_id:
        node_id = part(node_id)
    text = f"{_BY_VALUE[kind._value_]}:{plan_id}:{version}:{node_id}"
    return strawberry.ID(f"{text}:{lang}" if lang else text)


def parse(text: str) -> tuple[str, list[str]]:
    """(type name, decoded parts), or MalformedIdError."""
    if not text or len(text) > MAX_LENGTH:
        raise MalformedIdError(f"a global id has 1 to {MAX_LENGTH:,} characters")
    type_name, *parts = text.split(":")
    if not parts:
        raise MalformedIdError(
            "not a global id (Type:…): give an object's `id`, not a stable key such as a "
            "`planId` or `nodeId`"
        )
    decoded = [_unpart(each) for each in parts]
    if not all(each and each.isprintable() for each in decoded):
        raise MalformedIdError("a global id has no empty parts and no control characters")
    return type_name, decoded
