"""Events to stored payloads and back, lifting older payload shapes on read (upcasting)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from planapi.adapters.node_json import (
    node_from_primitive,
    node_to_primitive,
    values_from_primitive,
    values_to_primitive,
)
from planapi.application.primitives import Json
from planapi.domain.events import (
    AmendmentInfo,
    Authority,
    LanguagesDeclared,
    NodeAdded,
    NodeEvent,
    NodeMoved,
    NodeRemoved,
    NodesLinked,
    NodesUnlinked,
    NodeUpdated,
    PlanAmended,
    PlanCreated,
    PlanEvent,
    PlanStatus,
    TextTranslated,
)
from planapi.domain.links import Link, LinkRelation
from planapi.domain.plan_kinds import PlanKind


class CodecError(Exception):
    """A stored payload this version of the code cannot read."""


# The shape each event type is written in today. Bump it when the shape changes and register an
# upcaster from the old version, so events already stored stay readable forever.
SCHEMA_VERSIONS = {"PlanCreated": 2, "PlanAmended": 1}


def _plan_created_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 stored the period as one string, "2026-2029"; v2 keeps its two years apart."""
    lifted = {k: v for k, v in data.items() if k != "period"}
    start, _, end = str(data["period"]).partition("-")
    lifted["period_start"], lifted["period_end"] = int(start), int(end or start)
    return lifted


UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {
    ("PlanCreated", 1): _plan_created_v1_to_v2,
}


def upcast(type_: str, schema_version: int, data: dict[str, Any]) -> dict[str, Any]:
    current = SCHEMA_VERSIONS.get(type_)
    if current is None:
        raise CodecError(f"unknown event type {type_!r}")
    while schema_version < current:
        step = UPCASTERS.get((type_, schema_version))
        if step is None:
            raise CodecError(f"no upcaster for {type_} v{schema_version}")
        data, schema_version = step(data), schema_version + 1
    if schema_version > current:
        raise CodecError(f"{type_} v{schema_version} is newer than this code (v{current})")
    return data


def encode_event(event: PlanEvent) -> tuple[str, int, dict[str, Json]]:
    changes = [encode_change(change) for change in event.changes]
    if isinstance(event, PlanCreated):
        data = {
            "plan_id": event.plan_id,
            "title": event.title,
            "period_start": event.period_start,
            "period_end": event.period_end,
            "description": event.description,
            "changes": changes,
            **_status_out(event.status, event.succeeds),
        }
        # Written only for an operational plan, so an action plan's payload stays as it was
        # stored before plan kinds existed; absent, it reads as an action plan.
        if event.plan_kind is not PlanKind.ACTION_PLAN:
            data["plan_kind"], data["implements"] = event.plan_kind.value, event.implements
        return "PlanCreated", SCHEMA_VERSIONS["PlanCreated"], data
    amended: dict[str, Json] = {"changes": changes, **_status_out(event.status, event.succeeds)}
    if event.superseded_by is not None:
        amended["superseded_by"] = event.superseded_by
    if event.edition is not None:
        amended["edition"] = event.edition
    return "PlanAmended", SCHEMA_VERSIONS["PlanAmended"], amended


def _status_out(status: PlanStatus | None, succeeds: str | None) -> dict[str, Json]:
    """Written only when set, so events without them keep the shape stored before plans had a
    status; read back, a missing status is a draft (PlanCreated) or unchanged (PlanAmended)."""
    out: dict[str, Json] = {}
    if status is not None:
        out["status"] = status.value
    if succeeds is not None:
        out["succeeds"] = succeeds
    return out


def decode_event(type_: str, schema_version: int, data: dict[str, Any]) -> PlanEvent:
    data = upcast(type_, schema_version, data)
    try:
        changes = tuple(decode_change(change) for change in data["changes"])
        if type_ == "PlanCreated":
            return PlanCreated(
                plan_id=data["plan_id"],
                title=data["title"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                description=data.get("description"),
                changes=changes,
                status=PlanStatus(data.get("status", PlanStatus.DRAFT.value)),
                succeeds=data.get("succeeds"),
                plan_kind=PlanKind(data.get("plan_kind", PlanKind.ACTION_PLAN.value)),
                implements=data.get("implements"),
            )
        status = data.get("status")
        return PlanAmended(
            changes,
            status=PlanStatus(status) if status is not None else None,
            succeeds=data.get("succeeds"),
            superseded_by=data.get("superseded_by"),
            edition=data.get("edition"),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CodecError(f"{type_} v{schema_version}: malformed payload ({error!r})") from error


def _link_out(link: Link) -> dict[str, Json]:
    return {"from_id": link.from_id, "to_id": link.to_id, "relation": link.relation.value}


def _link_in(raw: dict[str, Any]) -> Link:
    return Link(raw["from_id"], raw["to_id"], LinkRelation(raw["relation"]))


def _translated_out(event: TextTranslated) -> dict[str, Json]:
    return {
        "node_id": event.node_id,
        "slot": event.slot,
        "lang": event.lang,
        "text": event.text,
        "source": event.source,
    }


def encode_change(change: NodeEvent) -> dict[str, Json]:
    match change:
        case NodeAdded(node=node, position=position):
            return {"type": "NodeAdded", "node": node_to_primitive(node), "position": position}
        case NodeUpdated(node_id=node_id, values=values):
            return {
                "type": "NodeUpdated",
                "node_id": node_id,
                "values": values_to_primitive(values),
            }
        case NodeRemoved(node_id=node_id):
            return {"type": "NodeRemoved", "node_id": node_id}
        case NodeMoved(node_id=node_id, parent_id=parent_id, position=position):
            return {
                "type": "NodeMoved",
                "node_id": node_id,
                "parent_id": parent_id,
                "position": position,
            }
        case NodesLinked(link=link):
            return {"type": "NodesLinked", **_link_out(link)}
        case NodesUnlinked(link=link):
            return {"type": "NodesUnlinked", **_link_out(link)}
        case LanguagesDeclared(source=source, published=published):
            return {"type": "LanguagesDeclared", "source": source, "published": list(published)}
        case TextTranslated():
            return {"type": "TextTranslated", **_translated_out(change)}
    raise CodecError(f"cannot encode {change!r}")


def decode_change(raw: dict[str, Any]) -> NodeEvent:
    match raw["type"]:
        case "NodeAdded":
            return NodeAdded(node_from_primitive(raw["node"]), raw["position"])
        case "NodeUpdated":
            return NodeUpdated(raw["node_id"], values_from_primitive(raw["values"]))
        case "NodeRemoved":
            return NodeRemoved(raw["node_id"])
        case "NodeMoved":
            return NodeMoved(raw["node_id"], raw["parent_id"], raw["position"])
        case "NodesLinked":
            return NodesLinked(_link_in(raw))
        case "NodesUnlinked":
            return NodesUnlinked(_link_in(raw))
        case "LanguagesDeclared":
            return LanguagesDeclared(raw["source"], tuple(raw["published"]))
        case "TextTranslated":
            return TextTranslated(
                raw["node_id"], raw["slot"], raw["lang"], raw["text"], raw["source"]
            )
    raise CodecError(f"unknown change type {raw['type']!r}")


def encode_info(info: AmendmentInfo) -> dict[str, Json]:
    meta: dict[str, Json] = {
        "actor": info.actor,
        "authority": info.authority.value,
        "rationale": info.rationale,
        "reference": info.reference,
        "effective_from": info.effective_from.isoformat() if info.effective_from else None,
    }
    if info.proposal is not None:  # only then: earlier metas keep their exact shape
        meta["proposal"] = info.proposal
    return meta


def decode_info(raw: dict[str, Any]) -> AmendmentInfo:
    effective = raw.get("effective_from")
    return AmendmentInfo(
        actor=raw["actor"],
        authority=Authority(raw["authority"]),
        rationale=raw["rationale"],
        reference=raw.get("reference"),
        effective_from=dt.date.fromisoformat(effective) if effective else None,
        proposal=raw.get("proposal"),
    )
