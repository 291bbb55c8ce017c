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

from planapi.api.runtime.compression import encoded, takes_gzip
from planapi.api.runtime.dependencies import dependency_key
from planapi.api.runtime.graphql_request import (
    ANONYMOUS,
    Headers,
    audience_key,
    audience_of,
    streaming,
)
from planapi.api.runtime.http_caching import IMMUTABLE, etag_of, key_digest
from planapi.api.runtime.preparing import DEFAULT_MEMO_BYTES, Prepared, Preparer
from planapi.api.runtime.shape import DEFAULT_MAX_FIELD_PAIRS, DEFAULT_MAX_SELECTIONS
from planapi.api.runtime.stored_answers import (
    IDENTITY,
    NOT_MODIFIED,
    Answer,
    Cache,
    CachedResponse,
    HeaderList,
    answer_form,
    framed_headers,
    gzip_variant,
    kept_answer,
    storable,
    stored_answer,
)
from planapi.api.runtime.trusted import DocumentStore
from planapi.application.heads_tracker import HeadsTracker

# An answer's key (`key_digest`), its ETag and Cache-Control, the heads' generation the key was
# taken at, and its slot's hash (None: pinned, no slot).
Keyed = tuple[bytes, tuple[str, str], int, int | None]


@dataclass
class ResponseCaching:
    """What the view needs: the cache (None: off), the documents, the heads."""

    cache: Cache | None
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
) -> tuple[bytes, int, int | None] | None:
    """The answer's cache key (`key_digest` of its body, role and, unless pinned, what it read),
    the heads' generation it was taken at (a late answer at older heads does not push out its
    slot's newer one: `ByteLru.put`'s rank; 0 for a pinned key, whose answer has no slot, where
    ranks are compared), and its slot's hash (None: pinned); None when the heads are not known
    to be fresh (uncached)."""
    role = audience_key(scope, media)
    made = prepared.keyed  # every hit asks: the key made once per role and heads' generation
    if prepared.pinned:
        if made and made[0][1] is role:
            return made[0][2], 0, None
        key = key_digest(prepared.base_key + b"|pinned|" + role)
        made[:] = [(0, role, key, None)]
        return key, 0, None
    heads = caching.heads()
    if not heads.fresh:
        return None
    generation = heads.generation
    if made and made[0][0] == generation and made[0][1] is role:
        return made[0][2], generation, made[0][3]
    taken = prepared.read  # the same heads give the same key: taken once per generation
    if taken and taken[0][0] == generation:
        read = taken[0][1]
    else:
        read = dependency_key(prepared.analysis, prepared.data.variables, heads)
        taken[:] = [(generation, read)]
    slot = prepared.base_key + b"|" + role
    # A latest answer's slot — its body and role — holds the answers that differ only in the
    # heads they read, which never go back, so each new one makes the one before unreachable.
    # Known by its hash: two slots sharing one (1 in 2**64) would only drop each other's
    # answers, never send the wrong one. What was read never holds a NUL (a heads token, or
    # plan ids and versions as JSON): the NUL ends the slot unambiguously.
    key, slot_hash = key_digest(slot + b"\x00" + read), hash(slot)
    made[:] = [(generation, role, key, slot_hash)]
    return key, generation, slot_hash


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
    if storable(cache, key, found, latest):
        return stored_answer(kept, found, b"", counters, gzip)
    return 200, *encoded(found.body, found.headers, on, gzip)


class Hit:
    """A stored answer `find` found, and the key it is kept under. A plain slotted class: one
    is made for every hit, where a frozen dataclass's __init__ costs several times more."""

    __slots__ = ("found", "key")

    def __init__(self, key: bytes, found: CachedResponse) -> None:
        self.key = key
        self.found = found


# A hit as the hit layer sends it: its status, its body, and its form (`answer_form`).
Taken = tuple[int, bytes, int]


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
        found = kept_answer(cache.peek(keyed[0]), keyed[0]) if keyed is not None else None
        return Hit(keyed[0], found) if keyed is not None and found is not None else None

    def take(self, hit: Hit, headers: Headers) -> Taken:
        """What `hit` sends, counted as the view counts a hit (and kept recently used)."""
        cache = self.caching.cache
        if cache is not None:
            cache.get(hit.key)
        gzip = self.caching.wants_gzip(headers)
        form = answer_form(hit.found, headers.if_none_match, self.counters, gzip)
        if form >= NOT_MODIFIED:
            return 304, b"", form
        if form == IDENTITY:
            return 200, hit.found.body, form
        return 200, gzip_variant(hit.found, cache, hit.key)[0], form

    def framed(
        self,
        hit: Hit,
        form: int,
        frame: Callable[[HeaderList], HeaderList],
        tail: tuple[tuple[bytes, bytes], ...],
    ) -> HeaderList:
        """The headers `take` chose for `hit` passed through `frame` (the hit layer's: what
        CORS sends ungranted), `tail` after them: see `stored_answers.framed_headers`."""
        return framed_headers((self.caching.cache, hit.key), hit.found, form, frame, tail)
