"""The HTTP caching side of GraphQL answers: the schema's fingerprint in every key, ETags, the
headers a stored answer carries, and the encoding of an answer's body."""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import orjson

IMMUTABLE = "max-age=31536000, immutable"
# The answer depends on the credentials, the media type asked for and (CORS) the origin.
VARY = "Accept, Authorization, Cookie, Origin"
VARY_GZIP = "Accept, Accept-Encoding, Authorization, Cookie, Origin"  # compression on


def encode(data: object) -> bytes:
    """orjson, or the standard library for what orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data).encode()


def schema_fingerprint(sdl: str) -> bytes:
    try:
        release = version("planapi")
    except PackageNotFoundError:  # pragma: no cover - a bare source tree
        release = "unknown"
    return hashlib.sha256(f"{release}\n{sdl}".encode()).hexdigest()[:16].encode()


def etag_of(kind: str, key: bytes) -> str:
    return f'"{kind}-{hashlib.blake2b(key, digest_size=16).hexdigest()}"'


def cache_headers(etag: str, cache_control: str, gzip: bool) -> list[tuple[bytes, bytes]]:
    """ETag, Cache-Control and Vary (with Accept-Encoding when answers may be gzipped)."""
    return [
        (b"etag", etag.encode()),
        (b"cache-control", cache_control.encode()),
        (b"vary", (VARY_GZIP if gzip else VARY).encode()),
    ]


def found_everything(data: Any) -> bool:
    """Each root field found what it named (a version that does not exist yet is null)."""
    return isinstance(data, dict) and all(value is not None for value in data.values())
