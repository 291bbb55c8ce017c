"""The HTTP caching side of GraphQL answers: the schema's fingerprint in every key, ETags, the
headers a stored answer carries, and the encoding of an answer's body."""

from __future__ import annotations

import hashlib
import json
from functools import cache, lru_cache
from hashlib import blake2b
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import orjson

IMMUTABLE = "max-age=31536000, immutable"
# The answer depends on the credentials, the media type asked for and (CORS) the origin.
VARY = "Accept, Authorization, Cookie, Origin"
VARY_GZIP = "Accept, Accept-Encoding, Authorization, Cookie, Origin"  # compression on


def encode(data: object, *, sort_keys: bool = False) -> bytes:
    """orjson, or the standard library for what orjson refuses (integers beyond 64 bits,
    nesting deeper than 254 levels); with `sort_keys`, objects' keys sorted (a cache key)."""
    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS if sort_keys else None)
    except TypeError:
        return json.dumps(data, sort_keys=sort_keys).encode()


def schema_fingerprint(sdl: str) -> bytes:
    try:
        release = version("planapi")
    except PackageNotFoundError:  # pragma: no cover - a bare source tree
        release = "unknown"
    return hashlib.sha256(f"{release}\n{sdl}".encode()).hexdigest()[:16].encode()


def key_digest(key: bytes) -> bytes:
    """What the response cache keeps an answer under: 16 bytes for a key of ~190 (thousands of
    version reads are kept), and the ETag's digest too (`etag_of`). BLAKE2b, so that no one can
    make a request whose key collides with another's answer."""
    return blake2b(key, digest_size=16).digest()


def etag_of(kind: str, digest: bytes) -> str:
    """The ETag of the answer kept under `digest` (`key_digest`)."""
    return etag_bytes(etag_head(kind), digest).decode()


@lru_cache(maxsize=8)  # two kinds: pinned and latest
def etag_head(kind: str) -> bytes:
    """What an ETag of `kind` spells before its digest: one object per kind, which every
    kept answer's shape holds (`stored_answers.Shape.head`)."""
    return f'"{kind}-'.encode()


def etag_bytes(head: bytes, digest: bytes) -> bytes:
    """The ETag, as its header's bytes, of the answer kept under `digest` with `head`: what
    a hit spells again from its key (cheaper than `etag_of`, on every hit)."""
    return head + digest.hex().encode() + b'"'


def etag_kind(etag: str) -> str:
    """The kind `etag_of` spelled `etag` with: what, with the digest, spells it again. Only for
    an ETag `etag_of` made (a `ValueError` for one without its `-`)."""
    return etag[1 : etag.index("-")]


def cache_headers(etag: str, cache_control: str, gzip: bool) -> list[tuple[bytes, bytes]]:
    """ETag, Cache-Control and Vary (with Accept-Encoding when answers may be gzipped)."""
    return [(b"etag", etag.encode()), *kept_headers(cache_control, gzip)]


def kept_headers(cache_control: str, gzip: bool) -> list[tuple[bytes, bytes]]:
    """Cache-Control and Vary: what a `304` repeats after the ETag."""
    return [header(b"cache-control", cache_control), _vary(gzip)]


@lru_cache(maxsize=64)  # a handful of values (four Cache-Controls, two media types)
def header(name: bytes, value: str) -> tuple[bytes, bytes]:
    """The one pair for a header every stored answer may send: each of thousands of kept
    answers holds this pair, not a copy of its own (~130 bytes less each)."""
    return name, value.encode()


# Below this a body's Content-Length pair is one per length (at most this many of them, ~100
# bytes each): small answers are the thousands a cache holds, and many share a length.
SHARED_LENGTHS = 4096


def content_length(size: int) -> tuple[bytes, bytes]:
    return _short_length(size) if size < SHARED_LENGTHS else (b"content-length", b"%d" % size)


@cache  # its argument is below SHARED_LENGTHS: a bounded table
def _short_length(size: int) -> tuple[bytes, bytes]:
    return b"content-length", b"%d" % size


def _vary(gzip: bool) -> tuple[bytes, bytes]:
    return header(b"vary", VARY_GZIP if gzip else VARY)


def found_everything(data: Any) -> bool:
    """Each root field found what it named (a version that does not exist yet is null)."""
    return isinstance(data, dict) and all(value is not None for value in data.values())
