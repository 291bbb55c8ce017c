"""The hash chain: SHA-256 over the previous hash and a canonical encoding of the row."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

GENESIS = b"\x00" * 32


def canonical(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8, no floats expected."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def timestamp(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat(timespec="microseconds")


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
    body = canonical([stream_id, version, type, schema_version, data, meta, timestamp(recorded_at)])
    return hashlib.sha256(prev_hash + body).digest()
