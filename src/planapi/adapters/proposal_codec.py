"""Proposal events (and the change operations they carry) to stored payloads and back.

Kept beside `codec.py` rather than in it: the plan's events and a proposal's share the log and
its hash chain, not their shapes. `encode_any`/`decode_any` serve readers of the whole log (the
relay, the feed's followers), which meet both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from planapi.adapters.codec import CodecError, decode_event, encode_event
from planapi.adapters.node_json import values_from_primitive, values_to_primitive
from planapi.application.primitives import Json
from planapi.domain.changes import (
    AddNode,
    Change,
    LinkNodes,
    MoveNode,
    RemoveNode,
    UnlinkNodes,
    UpdateNode,
)
from planapi.domain.events import PlanEvent
from planapi.domain.links import LinkRelation
from planapi.domain.nodes import NodeKind
from planapi.domain.proposals import (
    PROPOSAL_EVENTS,
    ProposalAdopted,
    ProposalEvent,
    ProposalOpened,
    ProposalRejected,
    ProposalReviewed,
    ProposalRevised,
    ProposalWithdrawn,
    Verdict,
)

# The shape each proposal event is written in today; bump and add an upcaster as codec.py does.
PROPOSAL_SCHEMA_VERSIONS = {type_.__name__: 1 for type_ in PROPOSAL_EVENTS}


def is_proposal_type(type_: str) -> bool:
    return type_ in PROPOSAL_SCHEMA_VERSIONS


def encode_any(event: PlanEvent | ProposalEvent) -> tuple[str, int, dict[str, Json]]:
    if isinstance(event, PROPOSAL_EVENTS):
        return encode_proposal_event(event)
    return encode_event(event)  # type: ignore[arg-type]


def decode_any(type_: str, schema_version: int, data: dict[str, Any]) -> PlanEvent | ProposalEvent:
    if is_proposal_type(type_):
        return decode_proposal_event(type_, schema_version, data)
    return decode_event(type_, schema_version, data)


def encode_proposal_event(event: ProposalEvent) -> tuple[str, int, dict[str, Json]]:
    type_ = type(event).__name__
    data: dict[str, Json]
    match event:
        case ProposalOpened():
            data = {
                "plan_id": event.plan_id,
                "base_version": event.base_version,
                "title": event.title,
                "changes": [encode_change_request(c) for c in event.changes],
            }
        case ProposalRevised():
            data = {
                "base_version": event.base_version,
                "changes": [encode_change_request(c) for c in event.changes],
                "note": event.note,
            }
        case ProposalReviewed():
            data = {
                "verdict": event.verdict.value,
                "text": event.text,
                "revision": event.revision,
                "node_id": event.node_id,
            }
        case ProposalWithdrawn() | ProposalRejected():
            data = {"reason": event.reason}
        case ProposalAdopted():
            data = {"revision": event.revision, "plan_version": event.plan_version}
    return type_, PROPOSAL_SCHEMA_VERSIONS[type_], data


def decode_proposal_event(type_: str, schema_version: int, data: dict[str, Any]) -> ProposalEvent:
    current = PROPOSAL_SCHEMA_VERSIONS.get(type_)
    if current is None:
        raise CodecError(f"unknown event type {type_!r}")
    if schema_version != current:
        raise CodecError(f"{type_} v{schema_version}: this code reads v{current}")
    try:
        return _DECODERS[type_](data)
    except (KeyError, TypeError, ValueError) as error:
        raise CodecError(f"{type_} v{schema_version}: malformed payload ({error!r})") from error


def _changes_in(raw: list[Any]) -> tuple[Change, ...]:
    return tuple(decode_change_request(c) for c in raw)


_DECODERS: dict[str, Callable[[dict[str, Any]], ProposalEvent]] = {
    "ProposalOpened": lambda d: ProposalOpened(
        d["plan_id"], d["base_version"], d["title"], _changes_in(d["changes"])
    ),
    "ProposalRevised": lambda d: ProposalRevised(
        d["base_version"], _changes_in(d["changes"]), d.get("note")
    ),
    "ProposalReviewed": lambda d: ProposalReviewed(
        Verdict(d["verdict"]), d["text"], d["revision"], d.get("node_id")
    ),
    "ProposalWithdrawn": lambda d: ProposalWithdrawn(d.get("reason")),
    "ProposalRejected": lambda d: ProposalRejected(d.get("reason")),
    "ProposalAdopted": lambda d: ProposalAdopted(d["revision"], d["plan_version"]),
}


def encode_change_request(change: Change) -> dict[str, Json]:
    """A change operation as asked for (before it is decided against a version)."""
    match change:
        case AddNode():
            return {
                "op": "addNode",
                "kind": change.kind.value,
                "title": change.title,
                "id": change.id,
                "parent_id": change.parent_id,
                "position": change.position,
                "values": values_to_primitive(change.values),
            }
        case UpdateNode():
            return {
                "op": "updateNode",
                "id": change.id,
                "values": values_to_primitive(change.values),
            }
        case RemoveNode():
            return {"op": "removeNode", "id": change.id, "cascade": change.cascade}
        case MoveNode():
            return {
                "op": "moveNode",
                "id": change.id,
                "parent_id": change.parent_id,
                "position": change.position,
            }
        case LinkNodes() | UnlinkNodes():
            op = "link" if isinstance(change, LinkNodes) else "unlink"
            return {
                "op": op,
                "from_id": change.from_id,
                "to_id": change.to_id,
                "relation": change.relation.value,
            }
    raise CodecError(f"cannot encode {change!r}")


def decode_change_request(raw: dict[str, Any]) -> Change:
    match raw["op"]:
        case "addNode":
            return AddNode(
                NodeKind(raw["kind"]),
                raw["title"],
                raw.get("id"),
                raw.get("parent_id"),
                raw.get("position"),
                values_from_primitive(raw.get("values", {})),
            )
        case "updateNode":
            return UpdateNode(raw["id"], values_from_primitive(raw["values"]))
        case "removeNode":
            return RemoveNode(raw["id"], raw.get("cascade", False))
        case "moveNode":
            return MoveNode(raw["id"], raw.get("parent_id"), raw.get("position"))
        case "link":
            return LinkNodes(raw["from_id"], raw["to_id"], LinkRelation(raw["relation"]))
        case "unlink":
            return UnlinkNodes(raw["from_id"], raw["to_id"], LinkRelation(raw["relation"]))
    raise CodecError(f"unknown change operation {raw['op']!r}")
