"""What the response cache keeps for an answer, and what a kept answer sends.

Thousands of version reads are kept (`bench/soak.py` makes ~15 versions a second), their
answers differing only in the version they name: the same bytes, the same headers but for
the ETag. So the cache keeps, under each answer's key, a `Shape` — the body, the headers
after the ETag, the gzip variant made for browsers, the headers the hit layer frames — one
for every entry whose answer is the same bytes under the same headers (`ByteLru.shared`),
counted once while any of them is kept. The ETag is not kept: `validators_of` spells it from
the key, so a found answer (`CachedResponse`, `kept_answer`) spells it again from the key and
the shape's ETag head. A version read holds ~196 bytes of its own (`bench/cache_entries.py`; ~345
when each kept its ETag in an answer object of its own, ~673 when each held its headers, its
framing and a key of ~190 bytes).

What a kept answer sends is chosen once (`answer_form`): its body, its gzip variant, or a
`304` naming either; the view sends it as `sent` makes it, the hit layer with the headers it
frames once per shape (`framed_headers`).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable

from planapi.api.runtime.compression import STORED_LEVEL, compressible, gzip_tag, gzipped
from planapi.api.runtime.graphql_request import json_headers, tag_bytes
from planapi.api.runtime.http_caching import (
    SHARED_LENGTHS,
    etag_bytes,
    etag_head,
    etag_kind,
    kept_headers,
)
from planapi.api.runtime.response_cache import ByteLru, Sharing, exact

Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]  # status, body, headers
HeaderList = list[tuple[bytes, bytes]]
Variant = tuple[bytes, HeaderList]  # the gzip body, its headers after its ETag

# What a kept answer sends (`answer_form`).
IDENTITY, GZIPPED, NOT_MODIFIED, NOT_MODIFIED_GZIP = range(4)


class Shape:
    """What kept answers with the same bytes and the same headers but their ETag share."""

    __slots__ = ("body", "framed", "head", "key", "rest", "variant")

    def __init__(
        self, body: bytes, rest: HeaderList, key: tuple[object, ...] | None, head: bytes
    ) -> None:
        self.body = body
        # What its ETags spell before the key's digest (`etag_head`: the kind, one object per
        # kind): the same for every entry holding the shape, whose Cache-Control (pinned or
        # latest) it shares.
        self.head = head
        # Cache-Control and Vary (what a 304 repeats), then Content-Type and Content-Length;
        # the pairs every answer sending them holds (`http_caching.header`).
        self.rest = rest
        self.key = key  # what the cache finds it under (`ByteLru.shared`); None: not kept
        self.variant: Variant | None = None  # made on demand (`gzip_variant`)
        # The identity and gzip headers after the ETag as the layers outside the view send
        # them, made by the hit layer on its first hit of each (`framed_headers`).
        self.framed: list[HeaderList | None] | None = None


class CachedResponse:
    """A stored answer as sent: its ETag and the shape the cache keeps (`answer_entry` on a
    miss, `kept_answer` on a hit); the leader of a flight hands its followers the same shape,
    so the gzip variant one of them makes serves them all."""

    __slots__ = ("etag", "shape")

    def __init__(self, etag: bytes, shape: Shape) -> None:
        self.etag = etag  # the ETag header's value
        self.shape = shape

    @property
    def body(self) -> bytes:
        return self.shape.body

    @property
    def headers(self) -> HeaderList:
        """ETag, Cache-Control, Vary, Content-Type, Content-Length."""
        return [(b"etag", self.etag), *self.shape.rest]

    @property
    def gzip_etag(self) -> bytes:
        return gzip_tag(self.etag)


Cache = ByteLru[bytes, Shape]
# What a gzip variant holds beside its body (its headers' list, the pairs it does not share
# with the identity answer — Content-Length —, the pair), measured with tracemalloc for
# a stored answer's usual headers: ~334 (tests/unit/test_response_cache.py).
VARIANT_OVERHEAD = 340
# What a latest (not pinned) answer holds beside a pinned one: its slot's hash and its place in
# the cache's table of slots. Measured as ENTRY_OVERHEAD is: ~55.
SLOT_OVERHEAD = 60
# A Content-Length pair of a shape's own (a body of SHARED_LENGTHS or more), measured beside
# the shapes of small answers, which share theirs: ~35.
LENGTH_PAIR = 40
GC_HEAD = 16  # what the collector's header adds to a list, beyond sys.getsizeof


def answer_entry(
    body: bytes, validators: tuple[str, str], media: str, gzip: bool, cache: Cache | None
) -> CachedResponse:
    """The answer to keep: its ETag and Cache-Control (`validators`), Vary (with
    Accept-Encoding when answers may be gzipped), its media type and length. Its shape is the
    one the cache keeps for the same bytes and headers when there is one (version reads of one
    plan differ only in the versions they name), else one of its own holding a copy of the body
    of its own length (`exact`)."""
    etag, head = validators[0].encode(), etag_head(etag_kind(validators[0]))
    rest = [*kept_headers(validators[1], gzip), *json_headers(body, media)]
    if cache is None:  # nothing keeps it: no copy
        return CachedResponse(etag, Shape(body, rest, None, head))
    held = cache.shared((body, *rest))
    # The same Cache-Control gives the same kind (`validators_of`): checked all the same, since
    # a hit spells its ETag from the shape's head.
    if isinstance(held, Shape) and held.head is head:
        return CachedResponse(etag, held)
    kept = exact(body)
    return CachedResponse(etag, Shape(kept, rest, (kept, *rest), head))


def kept_answer(shape: Shape | None, key: bytes) -> CachedResponse | None:
    """The answer whose `shape` the cache keeps under `key` (None: none), its ETag spelled
    from the key as `validators_of` spelled it when it was kept."""
    return None if shape is None else CachedResponse(etag_bytes(shape.head, key), shape)


def entry_size(key: bytes, latest: bool) -> int:
    """What an entry holds of its own beside ENTRY_OVERHEAD, kept under `key`."""
    return len(key) + (SLOT_OVERHEAD if latest else 0)


def sharing(shape: Shape) -> Sharing:
    """`shape` as the cache counts it, once for all the entries holding it (`ByteLru.put`):
    whether an entry holding it is kept at all is decided by its body alone, the same for
    every entry holding it — never by a gzip variant another one made, which would refuse an
    answer kept before under the same ETag, then send it compressed per request: one ETag, two
    byte strings; its record counts what it holds now, its variant and framing included — a
    latest answer whose bytes did not change brings back the shape its predecessor held, whose
    record went with that predecessor."""
    own = len(shape.body) + (LENGTH_PAIR if len(shape.body) >= SHARED_LENGTHS else 0)
    now = own
    if shape.variant is not None:
        now += len(shape.variant[0]) + VARIANT_OVERHEAD
    if shape.framed is not None:
        now += _list_size(shape.framed) + sum(_list_size(made) for made in shape.framed if made)
    return shape.key, shape, own, now


def _list_size(made: list[HeaderList | None] | HeaderList) -> int:
    """What a list of pairs others hold too holds of its own."""
    return sys.getsizeof(made) + GC_HEAD


def storable(cache: Cache | None, key: bytes, entry: CachedResponse, latest: bool) -> bool:
    """Whether the cache takes `entry` under `key` at all: such an answer goes out as a stored
    one (its gzip variant at the stored level), whoever sends it and whether or not it is kept."""
    return cache is not None and cache.fits(entry_size(key, latest), sharing(entry.shape))


def gzip_variant(found: CachedResponse, cache: Cache | None, key: bytes) -> Variant:
    """The stored answer gzipped, made once per shape (no await between looking and keeping),
    and counted in the cache's bytes while the cache keeps it."""
    shape = found.shape
    variant = shape.variant
    if variant is None:
        variant = shape.variant = gzipped(shape.body, shape.rest, STORED_LEVEL)
        _count(cache, key, found, len(variant[0]) + VARIANT_OVERHEAD)
    return variant


def _count(cache: Cache | None, key: bytes, found: CachedResponse, size: int) -> None:
    """Count `size` bytes made for `found`'s shape: once, where kept entries share it; on the
    entry kept under `key` where it is that entry's own; nowhere when nothing keeps it."""
    if cache is None:
        return
    shape = found.shape
    if shape.key is not None and cache.grow_shared(shape.key, shape, size):
        return
    if cache.peek(key) is shape:
        cache.grow(key, size)


def answer_form(
    found: CachedResponse, if_none_match: bytes, counters: Counter[str], gzip: bool
) -> int:
    """What `found` sends: `304` when `If-None-Match` names either variant's ETag (the form a
    `200` would send), else its body — gzipped when `gzip` (the client takes it) and it is
    large enough."""
    packed = gzip and compressible(found.shape.body)
    if if_none_match:
        named = tag_bytes(if_none_match)
        if found.etag in named or found.gzip_etag in named:
            counters["not_modified"] += 1
            return NOT_MODIFIED_GZIP if packed else NOT_MODIFIED
    return GZIPPED if packed else IDENTITY


def sent(kept: tuple[Cache | None, bytes], found: CachedResponse, form: int) -> Answer:
    """The answer of `form`: a `304` carries the ETag it names, Cache-Control and Vary.
    `kept`: the cache and the key it keeps `found` under, where its gzip variant is counted."""
    if form == IDENTITY:
        return 200, found.shape.body, found.headers
    if form == GZIPPED:
        packed, rest = gzip_variant(found, *kept)
        return 200, packed, [(b"etag", found.gzip_etag), *rest]
    etag = found.gzip_etag if form == NOT_MODIFIED_GZIP else found.etag
    return 304, b"", [(b"etag", etag), *found.shape.rest[:2]]


def stored_answer(
    kept: tuple[Cache | None, bytes],
    found: CachedResponse,
    if_none_match: bytes,
    counters: Counter[str],
    gzip: bool = False,
) -> Answer:
    """A stored answer as sent (`answer_form`, `sent`)."""
    return sent(kept, found, answer_form(found, if_none_match, counters, gzip))


def framed_headers(
    kept: tuple[Cache | None, bytes],
    found: CachedResponse,
    form: int,
    frame: Callable[[HeaderList], HeaderList],
    tail: tuple[tuple[bytes, bytes], ...],
) -> HeaderList:
    """The headers of `form` passed through `frame` — which keeps every pair but Vary as it
    finds it, in order (CORS) — and `tail` after them. What `frame` makes of a `200`'s headers
    after the ETag is made once per shape and kept, counted in the cache's bytes while the cache
    keeps it (every call is to pass the same function); a `304`'s, per request."""
    if form >= NOT_MODIFIED:
        return [*frame(sent(kept, found, form)[2]), *tail]
    shape = found.shape
    framed = shape.framed
    made = None if framed is None else framed[form]
    if made is None:
        size = 0
        if framed is None:
            framed = shape.framed = [None, None]
            size += _list_size(framed)
        rest = shape.rest if form == IDENTITY else gzip_variant(found, *kept)[1]
        made = framed[form] = frame(rest)
        _count(kept[0], kept[1], found, size + _list_size(made))
    etag = found.etag if form == IDENTITY else found.gzip_etag
    return [(b"etag", etag), *made, *tail]
