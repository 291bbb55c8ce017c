"""The response cache's hits: the key an answer is kept under, what a stored answer sends, and
a stored answer found for a raw `POST /graphql` body or `GET /graphql` query string before any
middleware ran.

The view (`api.runtime.graphql_http`) keys and answers its hits with `answer_key` and
`stored_answer`; the hit layer in front of the whole ASGI stack (`entrypoints.hit_layer`)
asks `Hits.find` with the same pieces — the body's preparation (memoised, or made from its
document parsed before: `Preparer.known`), the same key from the same in-memory heads — and
nothing is counted until `Hits.take` says the answer is sent. What
`find` does not find the way the view would (a body not prepared yet, a consistency token,
a streaming `Accept`, heads not known to be fresh, no stored answer) it leaves to the view.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import Scope

from planapi.api.runtime.compression import (
    STORED_LEVEL,
    compressible,
    encoded,
    gzipped,
    takes_gzip,
)
from planapi.api.runtime.dependencies import dependency_key
from planapi.api.runtime.graphql_request import (
    ANONYMOUS,
    Headers,
    audience_key,
    audience_of,
    json_headers,
    streaming,
    tag_bytes,
)
from planapi.api.runtime.http_caching import IMMUTABLE, SHARED_LENGTHS, cache_headers, etag_of
from planapi.api.runtime.preparing import DEFAULT_MEMO_BYTES, Prepared, Preparer
from planapi.api.runtime.response_cache import ByteLru, exact
from planapi.api.runtime.shape import DEFAULT_MAX_FIELD_PAIRS, DEFAULT_MAX_SELECTIONS
from planapi.api.runtime.trusted import DocumentStore
from planapi.application.heads_tracker import HeadsTracker

Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]  # status, body, headers
# An answer's key, its ETag and Cache-Control, and the heads' generation the key was taken at.
Keyed = tuple[bytes, tuple[str, str], int]
HeaderList = list[tuple[bytes, bytes]]
Variant = tuple[bytes, HeaderList]  # body, headers


class CachedResponse:
    """A stored answer, made by `answer_entry`; the same object is kept by the cache and sent
    by a flight's followers, so the gzip variant one of them makes serves them all."""

    __slots__ = ("body", "framed", "headers", "variant")

    def __init__(self, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.body = body  # the bytes every kept answer with this body holds (`ByteLru.shared`)
        # etag, cache-control and vary first (what a 304 repeats), then content type and length;
        # all but the ETag's pair are the ones every answer sending them holds (`http_caching`).
        self.headers = headers
        self.variant: Variant | None = None  # its gzip form, made on demand (`gzip_variant`)
        # Its headers and its variant's as the layers outside the view send them, made by the
        # hit layer on its first hit of each (`Hits.framed`).
        self.framed: list[HeaderList | None] | None = None

    @property
    def etag(self) -> str:
        return self.headers[0][1].decode("latin-1")


Cache = ByteLru[bytes, CachedResponse]
# What a gzip variant holds beside its body (its headers' list, the pairs it does not share
# with the identity answer — ETag, Content-Length —, the pair), measured with tracemalloc for
# a stored answer's usual headers (tests/unit/test_response_cache.py): ~464.
VARIANT_OVERHEAD = 460
# What the headers framed for a hit hold (`Hits.framed`): a list of the answer's pairs (the
# same tuples), ~120 bytes, with the two-item list holding both forms' ~190 (tracemalloc).
FRAMED_OVERHEAD = 200
# What a latest (not pinned) answer holds beside a pinned one: its slot's hash and its place in
# the cache's table of slots. Measured as ENTRY_OVERHEAD is: ~55.
SLOT_OVERHEAD = 60


def answer_entry(
    body: bytes, validators: tuple[str, str], media: str, gzip: bool, cache: Cache | None
) -> CachedResponse:
    """The answer to keep: its ETag and Cache-Control (`validators`), Vary (with
    Accept-Encoding when answers may be gzipped), its media type and length. Its body is the
    one the cache keeps for an equal answer when there is one (version reads of one plan
    differ only in the versions they name), else a copy of its own length (`exact`)."""
    if cache is None:  # nothing keeps it: no copy
        return CachedResponse(body, [*cache_headers(*validators, gzip), *json_headers(body, media)])
    held = cache.shared(body)
    kept = held if held is not None else exact(body)
    return CachedResponse(kept, [*cache_headers(*validators, gzip), *json_headers(kept, media)])


def entry_size(key: bytes, entry: CachedResponse, latest: bool) -> int:
    """What `entry` holds of its own beside ENTRY_OVERHEAD, kept under `key` (its body is
    counted as shared: `ByteLru.put`)."""
    size = len(key) + (SLOT_OVERHEAD if latest else 0)
    if len(entry.body) >= SHARED_LENGTHS:  # a Content-Length pair of its own
        size += LENGTH_PAIR
    return size


# A Content-Length pair of an entry's own: the tuple and the bytes.
LENGTH_PAIR = 100


def gzip_variant(found: CachedResponse, cache: Cache | None, key: bytes) -> Variant:
    """The stored answer gzipped, made once (no await between looking and keeping), and counted
    in the cache's bytes while the cache keeps this answer."""
    variant = found.variant
    if variant is None:
        variant = found.variant = gzipped(found.body, found.headers, STORED_LEVEL)
        if cache is not None and cache.peek(key) is found:
            cache.grow(key, len(variant[0]) + VARIANT_OVERHEAD)
    return variant


@dataclass
class ResponseCaching:
    """What the view needs: the cache (None: off), the documents, the heads."""

    cache: ByteLru[bytes, CachedResponse] | None
    documents: DocumentStore
    heads: Callable[[], HeadsTracker]
    max_tokens: int = 5_000
    max_selections: int = DEFAULT_MAX_SELECTIONS
    max_field_pairs: int = DEFAULT_MAX_FIELD_PAIRS
    memo_bytes: int = DEFAULT_MEMO_BYTES  # for request bodies kept parsed (`Preparer`)
    gzip: bool = True  # gzip answers for clients that take it (`api.runtime.compression`)

    def wants_gzip(self, headers: Headers) -> bool:
        return self.gzip and bool(headers.accept_encoding) and takes_gzip(headers.accept_encoding)


def validators_of(scope: Scope, prepared: Prepared, key: bytes) -> tuple[str, str]:
    """The ETag and Cache-Control of the answer kept under `key`."""
    shared = "public" if audience_of(scope) == ANONYMOUS else "private"
    if prepared.pinned:
        return etag_of("p", key), f"{shared}, {IMMUTABLE}"
    return etag_of("h", key), f"{shared}, no-cache"


def answer_key(
    caching: ResponseCaching, scope: Scope, media: str, prepared: Prepared
) -> tuple[bytes, int] | None:
    """The answer's cache key and the heads' generation it was taken at (a late answer at
    older heads does not push out its slot's newer one: `ByteLru.put`'s rank; 0 for a pinned
    key, whose answer has no slot, where ranks are compared); None when the heads are not
    known to be fresh (uncached)."""
    role = audience_key(scope, media)
    if prepared.pinned:
        return prepared.base_key + b"|pinned|" + role, 0
    heads = caching.heads()
    if not heads.fresh:
        return None
    generation = heads.generation
    taken = prepared.read  # the same heads give the same key: taken once per generation
    if taken and taken[0][0] == generation:
        read = taken[0][1]
    else:
        read = dependency_key(prepared.analysis, prepared.data.variables, heads)
        taken[:] = [(generation, read)]
    return prepared.base_key + b"|" + role + SLOT_END + read, generation


# Ends a non-pinned key's slot — its body and role — before what it read, which never holds a
# NUL (a heads token, or plan ids and versions as JSON): the answers of one slot differ only in
# the heads they read, which never go back, so each new one makes the one before unreachable.
SLOT_END = b"\x00"


def slot_of(key: bytes) -> bytes:
    """A non-pinned answer's slot: the answers of the same body and role at other heads."""
    return key.rpartition(SLOT_END)[0]


def stored_answer(
    kept: tuple[Cache | None, bytes],
    found: CachedResponse,
    if_none_match: bytes,
    counters: Counter[str],
    gzip: bool = False,
) -> Answer:
    """A stored answer as sent: `304` without a body (the ETag of the variant a `200` would
    send, Cache-Control and Vary) when `If-None-Match` names either variant's ETag, else `200`
    with the body and every header — gzipped when `gzip` (the client takes it) and it is large
    enough. `kept`: the cache and the key it keeps `found` under, which the gzip variant's bytes
    are counted in."""
    packed = gzip and compressible(found.body)
    if if_none_match:
        named = tag_bytes(if_none_match)
        etag = found.headers[0][1]
        if etag in named or _gzip_tag(etag) in named:
            counters["not_modified"] += 1
            if packed:
                return 304, b"", [(b"etag", _gzip_tag(etag)), *found.headers[1:3]]
            return 304, b"", found.headers[:3]
    if packed:
        return 200, *gzip_variant(found, *kept)
    return 200, found.body, found.headers


def followed(
    kept: tuple[Cache | None, bytes],
    found: CachedResponse,
    counters: Counter[str],
    gzip: bool,
    on: bool,
    latest: bool,
) -> Answer:
    """What a flight's follower sends: what a hit would for an answer the cache takes — kept
    now or not (evicted since, or refused for its slot's newer answer) —, so its gzip variant
    is the stored one its leader and later hits send too; an answer too large to keep as its
    leader sent it, compressed per request at the fast level (no slow compression on the loop
    for the largest answers). One ETag never names two byte strings. `on`: compression is on;
    `latest`: the key is a latest answer's (`entry_size`)."""
    cache, key = kept
    if found.variant is not None or storable(cache, key, found, latest):
        return stored_answer(kept, found, b"", counters, gzip)
    return 200, *encoded(found.body, found.headers, on, gzip)


def storable(cache: Cache | None, key: bytes, entry: CachedResponse, latest: bool) -> bool:
    """Whether the cache takes `entry` under `key` at all: such an answer goes out as a stored
    one (its gzip variant at the stored level), whoever sends it and whether or not it is kept."""
    return cache is not None and cache.fits(entry_size(key, entry, latest), entry.body)


def _gzip_tag(etag: bytes) -> bytes:
    """`compression.gzip_etag` of an ETag header's bytes."""
    return etag[:-1] + b'-gzip"'


@dataclass(frozen=True, slots=True)
class Hit:
    key: bytes
    found: CachedResponse


class Hits:
    """Stored answers for raw `POST /graphql` bodies and `GET /graphql` query strings (memoised
    per method, as the view prepares them), as the view would find them."""

    def __init__(self, caching: ResponseCaching, preparer: Preparer, counters: Counter[str]):
        self.caching = caching
        self.preparer = preparer
        self.counters = counters

    def find(self, scope: Scope, headers: Headers, raw: bytes) -> Hit | None:
        """The stored answer for this body, the caller's principal in the scope's state;
        nothing counted. None: the view is to answer (see the module's docstring)."""
        cache = self.caching.cache
        if cache is None or headers.consistent_with or streaming(headers.accept):
            return None
        # Only requests prepared as the view would, from documents it has parsed and analysed:
        # never a batch (the view runs each of its operations on its own), nor a new document.
        prepared = self.preparer.known(scope["method"], raw)
        if prepared is None or not prepared.analysis.cacheable:
            return None
        keyed = answer_key(self.caching, scope, headers.media, prepared)
        found = cache.peek(keyed[0]) if keyed is not None else None
        return Hit(keyed[0], found) if keyed is not None and found is not None else None

    def take(self, hit: Hit, headers: Headers) -> Answer:
        """What `hit` sends, counted as the view counts a hit (and kept recently used)."""
        cache = self.caching.cache
        if cache is not None:
            cache.get(hit.key)
        gzip = self.caching.wants_gzip(headers)
        kept = cache, hit.key
        return stored_answer(kept, hit.found, headers.if_none_match, self.counters, gzip)

    def framed(
        self, hit: Hit, headers: HeaderList, frame: Callable[[HeaderList], HeaderList]
    ) -> HeaderList:
        """`frame(headers)`, `headers` those `take` gave for `hit`: made once per stored answer
        and gzip variant — counted in the cache's bytes while it keeps the answer — and per
        request for a `304`'s, made for that request. What the first `frame` made is kept:
        every call is to pass the same function (the hit layer's, what CORS sends ungranted)."""
        found = hit.found
        if headers is found.headers:
            index = 0
        elif found.variant is not None and headers is found.variant[1]:
            index = 1
        else:
            return frame(headers)
        framed = found.framed
        if framed is None:
            framed = found.framed = [None, None]
        made = framed[index]
        if made is None:
            made = framed[index] = frame(headers)
            cache = self.caching.cache
            if cache is not None and cache.peek(hit.key) is found:
                cache.grow(hit.key, FRAMED_OVERHEAD)
        return made
