"""The hash chain: SHA-256 over the previous hash and a canonical encoding of the row.

JSON columns are written in the canonical encoding itself (the engines' JSON serializer), and the
hash covers those exact bytes, so verification re-hashes the stored text without parsing it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import msgspec

GENESIS = b"\x00" * 32
_ZERO = dt.timedelta(0)
# JSON text never holds a raw NUL (control characters are escaped), so it separates parts.
_SEPARATOR = b"\x00"
_ENCODER = msgspec.json.Encoder(order="sorted")


def canonical(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8. Floats are not expected."""
    return _ENCODER.encode(value)


def canonical_text(value: Any) -> str:
    return _ENCODER.encode(value).decode()


def timestamp(instant: dt.datetime) -> str:
    if instant.utcoffset() != _ZERO:
        instant = instant.astimezone(dt.UTC)
    return instant.isoformat(timespec="microseconds")


def event_hash_of_text(
    prev_hash: bytes,
    *,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    data: str,
    meta: str,
    recorded_at: dt.datetime,
) -> bytes:
    """The chain link over a row as stored (`data` and `meta` as their JSON text)."""
    return hashlib.sha256(
        event_bytes_of_text(
            prev_hash,
            stream_id=stream_id,
            version=version,
            type=type,
            schema_version=schema_version,
            data=data,
            meta=meta,
            recorded_at=recorded_at,
        )
    ).digest()


def event_bytes_of_text(
    prev_hash: bytes,
    *,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    data: str,
    meta: str,
    recorded_at: dt.datetime,
) -> bytes:
    """The bytes `event_hash_of_text` hashes: the event's leaf in the Merkle log."""
    header = canonical([stream_id, version, type, schema_version, timestamp(recorded_at)])
    return b"".join((prev_hash, header, _SEPARATOR, data.encode(), _SEPARATOR, meta.encode()))


def event_hash(
    prev_hash: bytes,
    *,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    data: Any,
    meta: Any,
    recorded_at: dt.datetime,
) -> bytes:
    """The chain link over a row about to be stored, `data` and `meta` as values."""
    return event_hash_of_text(
        prev_hash,
        stream_id=stream_id,
        version=version,
        type=type,
        schema_version=schema_version,
        data=canonical_text(data),
        meta=canonical_text(meta),
        recorded_at=recorded_at,
    )
