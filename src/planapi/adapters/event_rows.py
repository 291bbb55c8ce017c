"""An event as a stored row and back: the row chained to its predecessor's hash, an
idempotency key's row, and the checks verification makes of a stored row."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from planapi.adapters.codec import decode_event, decode_info, encode_info
from planapi.adapters.hashing import GENESIS, event_hash, event_hash_of_text
from planapi.adapters.proposal_codec import decode_proposal_event, encode_any, is_proposal_type
from planapi.application.ports import ChainBreak, CommandKey, Recorded
from planapi.application.proposal_ports import RecordedFact
from planapi.domain.events import AmendmentInfo, PlanEvent
from planapi.domain.proposals import ProposalEvent


def event_row(
    stream_id: str,
    version: int,
    event: PlanEvent | ProposalEvent,
    info: AmendmentInfo,
    recorded_at: dt.datetime,
    head: Any,
) -> dict[str, Any]:
    """The event's row, chained to the hash of `head` (None: the stream's first)."""
    type_, schema_version, data = encode_any(event)
    values: dict[str, Any] = {
        "stream_id": stream_id,
        "version": version,
        "type": type_,
        "schema_version": schema_version,
        "data": data,
        "meta": encode_info(info),
        "recorded_at": recorded_at,
    }
    values["prev_hash"] = bytes(head.hash) if head else GENESIS
    values["hash"] = event_hash(values["prev_hash"], **hashed(values))
    return values


def key_row(values: Mapping[str, Any], command: CommandKey) -> dict[str, Any]:
    return {
        "stream_id": values["stream_id"],
        "actor": command.actor,
        "idempotency_key": command.key,
        "request_hash": command.request_hash,
        "version": values["version"],
        "recorded_at": values["recorded_at"],
    }


def hashed(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: values[key]
        for key in ("stream_id", "version", "type", "schema_version", "data", "meta", "recorded_at")
    }


def rehash(row: Sequence[Any], stream_id: str, prev_hash: bytes) -> bytes:
    """The hash a stored row should carry, chained to `prev_hash`."""
    _, version, type_, schema_version, data, meta, recorded_at, _, _ = row
    return event_hash_of_text(
        prev_hash,
        stream_id=stream_id,
        version=version,
        type=type_,
        schema_version=schema_version,
        data=data,
        meta=meta,
        recorded_at=recorded_at,
    )


def chain_break(
    row: Sequence[Any], stream_id: str, prev_hash: bytes, expected: int
) -> ChainBreak | None:
    position, version, prev, digest = row[0], row[1], row[7], row[8]
    if version > expected:
        return ChainBreak(
            expected, position, "removed", f"versions {expected}..{version - 1} are missing"
        )
    if version < expected:
        return ChainBreak(version, position, "inserted", f"version {version} appears twice")
    if not hmac.compare_digest(bytes(prev), prev_hash):
        return ChainBreak(
            version,
            position,
            "inserted",
            "its previous-hash does not match the hash of the version before it",
        )
    if not hmac.compare_digest(rehash(row, stream_id, prev_hash), bytes(digest)):
        return ChainBreak(version, position, "altered", "its content no longer matches its hash")
    return None


def recorded_from(row: Any) -> Recorded:
    return Recorded(
        stream_id=row.stream_id,
        version=row.version,
        position=row.position,
        event=decode_event(row.type, row.schema_version, row.data),
        info=decode_info(row.meta),
        recorded_at=row.recorded_at,
        hash=bytes(row.hash),
    )


def deferred_from(row: Any) -> Recorded:
    """`recorded_from` of a row whose `data` is the stored JSON text, decoded when first read."""
    return deferred(
        row.stream_id,
        row.version,
        row.position,
        (row.type, row.schema_version, row.data),
        row.meta,
        row.recorded_at,
        bytes(row.hash),
    )


def deferred(
    stream_id: str,
    version: int,
    position: int,
    stored: tuple[str, int, str],
    meta: Any,
    recorded_at: Any,
    hash: bytes,
) -> Recorded:
    """A record from its stored columns; `stored`: the event's type, schema version and JSON
    text, decoded when first read."""
    type_, schema_version, text = stored

    def decode() -> PlanEvent:
        return decode_event(type_, schema_version, msgspec.json.decode(text))

    return Recorded.deferred(
        stream_id, version, position, decode, decode_info(meta), recorded_at, hash
    )


def fact_from(row: Any) -> RecordedFact:
    return RecordedFact(
        stream_id=row.stream_id,
        version=row.version,
        position=row.position,
        event=decode_proposal_event(row.type, row.schema_version, row.data),
        info=decode_info(row.meta),
        recorded_at=row.recorded_at,
        hash=bytes(row.hash),
    )


def any_recorded_from(row: Any) -> Recorded | RecordedFact:
    """A row of any stream: a plan version or a proposal's fact."""
    return fact_from(row) if is_proposal_type(row.type) else recorded_from(row)
