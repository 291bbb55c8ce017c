"""gzip for GraphQL answers, for clients whose `Accept-Encoding` takes it (every browser does).

A dashboard's latest plan is a ~176 KB JSON answer; gzipped it is a few per cent of that, and
over a real network that is most of its time. Only answers of at least `MIN_BYTES` are
compressed: below one TCP segment's payload it saves no round trip and costs CPU both ends.

- `Accept-Encoding` is read as RFC 9110 §12.5.3 says: `gzip` (or `x-gzip`, or `*` when gzip is
  not named) with a q-value above 0, and not below an explicitly listed `identity`'s;
- a stored answer (`api.runtime.stored_answers.Shape`) makes its gzip variant once, on the
  first request that wants it, and every later hit sends those bytes as they are;
- the variant's ETag is the identity one with `-gzip` inside the quotes (§8.8.3: two
  representations, two validators); `If-None-Match` with either form answers `304`, carrying
  the ETag of the variant a `200` would send (the form named when no answer is stored);
- with compression on, every cacheable answer says `Vary: Accept-Encoding`, and so does any
  other answer of at least `MIN_BYTES`;
- answers that are not stored are compressed per request at a fast level (`FAST_LEVEL`).

Never for streams (incremental delivery, server-sent events) or websockets, which the view
never stores nor compresses, nor for a `304`, which has no body.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

MIN_BYTES = 1400
STORED_LEVEL = 6  # made once per stored answer: zlib's default, the usual size/CPU balance
FAST_LEVEL = 1  # per request: most of level 6's saving on JSON at a fraction of its CPU
GZIP = b"gzip"
ENCODING = (b"content-encoding", GZIP)
VARY_NAME = "Accept-Encoding"


def gzip_bytes(body: bytes, level: int) -> bytes:
    """A gzip member (RFC 1952) without a timestamp, so the same body gives the same bytes."""
    packer = zlib.compressobj(level, zlib.DEFLATED, 31)  # 16 + 15: a gzip header and trailer
    return packer.compress(body) + packer.flush()


def gzip_tag(etag: bytes) -> bytes:
    """The gzip variant's ETag, as its header's bytes: `"h-…"` → `"h-…-gzip"` (RFC 9110
    §8.8.3: the tag itself differs, inside the quotes)."""
    return etag[:-1] + b'-gzip"'


def gzip_etag(etag: str) -> str:
    """`gzip_tag` of an ETag held as a str (a miss's validators)."""
    return gzip_tag(etag.encode("latin-1")).decode("latin-1")


def compressible(body: bytes) -> bool:
    return len(body) >= MIN_BYTES


@lru_cache(maxsize=256)  # clients send a handful of distinct values, on every request
def takes_gzip(accept_encoding: bytes) -> bool:
    """Does this `Accept-Encoding` take gzip (q-values read; `gzip;q=0` refuses it)?"""
    found: dict[bytes, float] = {}
    for part in accept_encoding.lower().split(b","):
        coding, *parameters = part.split(b";")
        name = coding.strip()
        if not name:
            continue
        weight = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition(b"=")
            if key.strip() == b"q":
                weight = _weight(value.strip())
        found[name] = min(weight, found.get(name, weight))
    weight = found.get(GZIP, found.get(b"x-gzip", found.get(b"*", 0.0)))
    return weight > 0 and weight >= found.get(b"identity", 0.0)


def _weight(value: bytes) -> float:
    """A q-value (0 to 1, at most three decimals); anything else reads as 0: refused."""
    try:
        weight = float(value)
    except ValueError:
        return 0.0
    return weight if 0.0 <= weight <= 1.0 else 0.0


def with_vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`headers` whose `Vary` names Accept-Encoding (merged into an existing one)."""
    out: list[tuple[bytes, bytes]] = []
    merged = False
    for pair in headers:
        name, value = pair
        if name == b"vary":
            merged = True
            if b"accept-encoding" not in value.lower():
                pair = (name, value + b", " + VARY_NAME.encode())
        out.append(pair)  # the same pair when unchanged: a stored variant shares it
    if not merged:
        out.append((b"vary", VARY_NAME.encode()))
    return out


def gzipped(
    body: bytes, headers: list[tuple[bytes, bytes]], level: int = FAST_LEVEL
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The gzip variant of an identity answer: its body, and its headers with the ETag's gzip
    form, `Vary: Accept-Encoding`, `Content-Encoding` and the compressed `Content-Length`
    (the headers' order kept: a stored answer's `304` repeats its first three)."""
    packed = gzip_bytes(body, level)
    out: list[tuple[bytes, bytes]] = []
    for pair in with_vary(headers):
        name, value = pair
        if name == b"etag":
            pair = (name, gzip_tag(value))
        elif name == b"content-length":
            pair = (name, str(len(packed)).encode())
        out.append(pair)
    out.append(ENCODING)
    return packed, out


def encoded(
    body: bytes, sent: list[tuple[bytes, bytes]], on: bool, gzip: bool
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """An answer that is not stored, gzipped per request (fast) when compression is `on`, the
    client takes `gzip` and it is large enough; a large identity one says `Vary:
    Accept-Encoding` all the same."""
    if not on or not compressible(body):
        return body, sent
    return gzipped(body, sent) if gzip else (body, with_vary(sent))
