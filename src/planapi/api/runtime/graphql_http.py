"""GraphQL over HTTP with a response cache, HTTP caching, persisted queries and orjson.

In front of strawberry's view, for each GET or POST:

1. The request is read (JSON body or query parameters). A persisted query's hash is replaced by
   its document (`api.runtime.trusted`); with only trusted documents allowed, any other is refused.
2. A query (never a mutation or subscription) gets a cache key: the document's hash, the
   variables, the operation name, the schema, the caller's role, and what the answer depends on
   (`api.runtime.cacheability`): nothing more when every root field names explicit versions
   and nothing volatile is read (*pinned*: cached for good, `Cache-Control: ..., immutable`),
   otherwise the versions (and readings) of the plans it reads, or the heads of the logs, all
   from memory (`api.runtime.dependencies`). `PlanAPI-Consistent-With` first catches up.
3. `If-None-Match` with the key's `ETag` → 304 without a body; a stored answer is sent as is;
   otherwise it executes once for all concurrent misses of its key (`api.runtime.flight`), and
   an answer without errors is stored (a pinned query's only when each root field found what
   it named: a version that does not exist yet may).

The role is the authentication middleware's (`scope["state"]["principal"].role`; none: anonymous).
Answers are kept per role, so none is served what another saw; all but anonymous's are `private`.
"""

from __future__ import annotations

import contextvars
import logging
from collections import Counter
from typing import Any

import orjson
from cross_web import HTTPException as _HTTPException
from starlette import status
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from planapi.api.runtime.batching import Batching, is_batch, run_batch
from planapi.api.runtime.cache_hits import (
    Hits,
    Keyed,
    ResponseCaching,
    answer_key,
    followed,
    validators_of,
)
from planapi.api.runtime.compression import encoded, gzip_etag
from planapi.api.runtime.dependencies import consistent
from planapi.api.runtime.direct import Direct
from planapi.api.runtime.flight import Flight, Flights
from planapi.api.runtime.graphql_request import (
    Headers,
    json_headers,
    read,
    role_of,
    send_raw,
    send_response,
    streaming,
    tags,
)
from planapi.api.runtime.http_caching import (
    cache_headers,
    encode,
    found_everything,
    schema_fingerprint,
)
from planapi.api.runtime.http_protocol import (
    RequestRefused,
    check_operation,
    media_type,
    method_not_allowed,
    refusal_response,
    refused_http,
    send_refusal,
)
from planapi.api.runtime.preparing import Prepared, Preparer
from planapi.api.runtime.stored_answers import (
    CachedResponse,
    answer_entry,
    entry_size,
    kept_answer,
    sharing,
    stored_answer,
)
from planapi.api.runtime.trusted import PersistedQueryError
from planapi.api.types.context import Context

log = logging.getLogger("planapi.api")

# Set around strawberry's run for one request: the request data to execute (persisted query
# resolved), and where its execution result's outcome is noted.
_prepared: contextvars.ContextVar[GraphQLRequestData | None] = contextvars.ContextVar(
    "planapi_prepared", default=None
)
_outcome: contextvars.ContextVar[list[ExecutionResult] | None] = contextvars.ContextVar(
    "planapi_outcome", default=None
)


class CachingGraphQL(GraphQL[Context, None]):
    def __init__(self, *, caching: ResponseCaching, **options: Any) -> None:
        super().__init__(**options)
        self.caching = caching
        self.batching = Batching()
        self.counters: Counter[str] = Counter()
        self.preparer = Preparer(
            self.schema._schema,  # type: ignore[attr-defined]
            schema_fingerprint(self.schema.as_str()),
            caching.documents,
            (caching.max_tokens, caching.max_selections, caching.max_field_pairs),
            caching.memo_bytes,
        )
        self.direct = Direct(self.schema)  # type: ignore[arg-type]
        self.flights: Flights[bytes, CachedResponse] = Flights()
        self.hits = Hits(caching, self.preparer, self.counters)  # entrypoints.hit_layer's

    # -- HTTP ------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        headers = Headers(scope)
        try:
            if scope["method"] not in ("GET", "POST"):
                raise method_not_allowed()
            raw, receive = await read(scope, headers, receive)
            if headers.consistent_with:
                await consistent(headers.consistent_with, self.caching.heads())
            if raw is not None and scope["method"] == "POST" and is_batch(raw):
                await run_batch(self, scope, raw, send, self.batching, headers.media)
                return
            request = Request(scope, receive)
            prepared = (
                self.preparer.prepare(
                    scope["method"], raw, _protocol(self, request, headers), request
                )
                if raw
                else None
            )
            if prepared is not None:
                check_operation(
                    prepared.analysis.operation, scope["method"], prepared.data.protocol
                )
        except PersistedQueryError as error:
            self.counters["refused"] += 1
            refusal = orjson.dumps(error.body())
            await send_raw(send, error.status, refusal, json_headers(refusal, headers.media))
            return
        except RequestRefused as refusal:
            self.counters["refused"] += 1
            await send_refusal(send, refusal, headers.accept)
            return
        if prepared is None or prepared.data.protocol != "http" or not prepared.analysis.cacheable:
            self.counters["uncacheable"] += 1
            await self._respond(request, headers, prepared, send, receive)
            return
        await self._cached(request, headers, prepared, send, receive)

    async def _cached(
        self,
        request: Request,
        headers: Headers,
        prepared: Prepared,
        send: Send,
        receive: Receive,
    ) -> None:
        scope = request.scope
        taken = answer_key(self.caching, scope, headers.media, prepared)
        if taken is None:  # the heads are not known yet: answer without the cache
            await self._respond(request, headers, prepared, send, receive)
            return
        key, rank, slot = taken  # rank: the heads' generation the key was taken at (`ByteLru.put`)
        cache = self.caching.cache
        found = kept_answer(cache.get(key), key) if cache is not None else None
        gzip = self.caching.wants_gzip(headers)
        if found is not None:
            answer = stored_answer((cache, key), found, headers.if_none_match, self.counters, gzip)
            await send_raw(send, *answer)
            return
        validators = validators_of(scope, prepared, key)
        named = tags(headers.if_none_match) if headers.if_none_match else set()
        for form in (validators[0], gzip_etag(validators[0])):
            if form in named:  # nothing stored: the 304 repeats the form named
                self.counters["not_modified"] += 1
                sent = cache_headers(form, validators[1], self.caching.gzip)
                await send_raw(send, 304, b"", sent)
                return
        if cache is None:
            await self._miss(request, headers, prepared, (key, validators, rank, slot), send, None)
            return
        shared = await self.flights.join(key, lambda: kept_answer(cache.peek(key), key))
        if shared is not None:
            fast, latest = self._gzip(headers)[0], not prepared.pinned
            await send_raw(send, *followed((cache, key), shared, self.counters, gzip, fast, latest))
            return
        with self.flights.leading(key) as flight:
            await self._miss(
                request, headers, prepared, (key, validators, rank, slot), send, flight
            )

    async def _miss(
        self,
        request: Request,
        headers: Headers,
        prepared: Prepared,
        keyed: Keyed,
        send: Send,
        flight: Flight[CachedResponse] | None,
    ) -> None:
        """Execute, keep an answer without errors, and share it with the flight's followers."""
        key, validators = keyed[0], keyed[1]
        cached = self.caching.cache, key  # where its gzip variant is counted
        gzip = self.caching.wants_gzip(headers)
        data = await self._direct(request, prepared)
        if data is not None:
            body = encode({"data": data})
            sent = json_headers(body, headers.media)
            # A pinned query's answer is kept only when each root field found what it named.
            if not prepared.pinned or found_everything(data):
                entry = answer_entry(
                    body, validators, headers.media, self.caching.gzip, self.caching.cache
                )
                if self._keep(keyed, entry, flight, prepared.pinned):  # gzipped once, for all
                    await send_raw(send, *stored_answer(cached, entry, b"", self.counters, gzip))
                    return
                sent = entry.headers  # too large to keep: compressed per request, fast
            await send_raw(send, 200, *encoded(body, sent, *self._gzip(headers)))
            return
        outcome: list[ExecutionResult] = []
        response = await self._execute(request, prepared, outcome)
        kept = self._store(keyed, response, outcome, prepared, headers.media, flight)
        if kept is not None and gzip and self.caching.cache is not None:
            # The stored variant, never a per-request one: one ETag, one byte string.
            await send_raw(send, *stored_answer(cached, kept, b"", self.counters, gzip))
            if response.background is not None:
                await response.background()
            return
        await send_response(response, request.scope, request.receive, send, self._gzip(headers))

    def _keep(
        self,
        keyed: Keyed,
        entry: CachedResponse,
        flight: Flight[CachedResponse] | None,
        pinned: bool,
    ) -> bool:
        """Keep `entry` and share it with the flight's followers; whether it goes out as a
        stored answer (`stored_answers.storable`: kept, or refused for its slot's newer one)."""
        key, _, rank, slot = keyed
        cache = self.caching.cache
        # A latest answer replaces its slot's older one: dead, it held the place of live ones.
        size, shape = entry_size(key, not pinned), sharing(entry.shape)
        kept = cache is not None and cache.put(key, entry.shape, size, slot, shape, rank)
        if flight is not None:
            flight.land(entry)
        return kept or (cache is not None and cache.fits(size, shape))

    def _store(
        self,
        keyed: Keyed,
        response: Response,
        outcome: list[ExecutionResult],
        prepared: Prepared,
        media: str,
        flight: Flight[CachedResponse] | None,
    ) -> CachedResponse | None:
        """Keep an answer without errors (a pinned query's only when it found everything); the
        entry if the cache took it."""
        body = getattr(response, "body", None)
        if (
            response.status_code == 200
            and isinstance(body, bytes)
            and len(outcome) == 1
            and not outcome[0].errors
            and (not prepared.pinned or found_everything(outcome[0].data))
        ):
            entry = answer_entry(body, keyed[1], media, self.caching.gzip, self.caching.cache)
            kept = self._keep(keyed, entry, flight, prepared.pinned)
            for name, value in entry.headers[:3]:  # ETag, Cache-Control, Vary
                response.headers[name.decode()] = value.decode()
            return entry if kept else None  # one too large to keep is compressed per request
        return None

    async def _respond(
        self,
        request: Request,
        headers: Headers,
        prepared: Prepared | None,
        send: Send,
        receive: Receive,
    ) -> None:
        data = await self._direct(request, prepared) if prepared is not None else None
        if data is not None:
            body = encode({"data": data})
            sent = json_headers(body, headers.media)
            if prepared is not None and prepared.analysis.uncached:
                sent.append((b"cache-control", b"no-store"))
            await send_raw(send, 200, *encoded(body, sent, *self._gzip(headers)))
            return
        response = await self._execute(request, prepared, [])
        if prepared is not None and prepared.analysis.uncached:
            response.headers["cache-control"] = "no-store"  # a verdict, a checkpoint: of its moment
        await send_response(response, request.scope, receive, send, self._gzip(headers))

    def _gzip(self, headers: Headers) -> tuple[bool, bool]:
        """Compression on; the client takes gzip."""
        return self.caching.gzip, self.caching.wants_gzip(headers)

    async def _direct(self, request: Request, prepared: Prepared) -> dict[str, Any] | None:
        """The query's data run directly (`api.runtime.direct`), when the whole path answered
        this body for this role before without an error; None: take the whole path."""
        data = prepared.data
        if (
            prepared.document is None
            or not self.direct.enabled
            or prepared.analysis.operation != "query"
            or data.protocol != "http"
            or role_of(request.scope) not in prepared.passed
        ):
            return None
        context = await self.get_context(request, await self.get_sub_response(request))
        answered = await self.direct.run(
            prepared.document,
            context,
            data.variables,
            data.operation_name,
            data.extensions,
            prepared.name,
            prepared.compiled,
        )
        if answered is None:  # the whole path answers until it answers without an error again
            prepared.passed.discard(role_of(request.scope))
        return answered

    async def _execute(
        self,
        request: Request,
        prepared: Prepared | None,
        outcome: list[ExecutionResult],
    ) -> Response:
        data_token = _prepared.set(prepared.data if prepared else None)
        outcome_token = _outcome.set(outcome)
        try:
            response = await self.run(request)
        except _HTTPException as error:
            response = refusal_response(refused_http(error.status_code, error.reason))
        finally:
            _outcome.reset(outcome_token)
            _prepared.reset(data_token)
        if response.headers.get("content-type", "").startswith("application/json"):
            response.headers["content-type"] = media_type(request.headers.get("accept", ""))
        if (
            prepared is not None
            and response.status_code == 200
            and len(outcome) == 1
            and not outcome[0].errors
            and outcome[0].data is not None
        ):
            prepared.passed.add(role_of(request.scope))  # every check passed: direct next time
        return response

    # -- strawberry's hooks ----------------------------------------------------------------
    async def parse_http_body(self, request_adapter: Any) -> Any:
        prepared = _prepared.get()
        if prepared is not None:
            return prepared
        return await super().parse_http_body(request_adapter)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        noted = _outcome.get()
        if noted is not None:
            noted.append(result)
        return await super().process_result(request, result)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = Response(
            encode(response_data), status_code=status.HTTP_200_OK, media_type="application/json"
        )
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response


# -- helpers -------------------------------------------------------------------------------
def _protocol(view: CachingGraphQL, request: Request, headers: Headers) -> Any:
    if not streaming(headers.accept):
        return "http"
    transport = view._get_stream_transport_from_headers(request.headers)
    return transport.protocol if transport else "http"
