"""The response cache's hits answered in front of the whole ASGI stack, in one layer.

A repeated read answered from the response cache cost ~33 µs in process against a trivial
starlette endpoint's ~12 µs (docs/performance.md), spread thinly over the layers it passed:
metrics, request id, CORS, the door, starlette's error and exception layers and router, the
view — each wrapping `send`. For a `POST /graphql` whose answer is stored, or a `GET /graphql`
with the request in its query string (Apollo's `useGETForQueries`, CDNs), this layer, the
outermost (`entrypoints.asgi.PlanApp`), does in one place what those layers would have done,
with their own code, in their order:

- the door (`entrypoints.security`): its own `admit` — a NUL, a body that is not JSON, the
  `Authorization` header → the Principal (which the cache key depends on), its token bucket
  charged before the body is read, the body limit of its role (declared, then counted while
  the body is read, by `graphql_request.read` as the view reads it). A request refused, or one
  admitted but then not a hit, is handed on with its admission (`security.ADMITTED`): the door
  sends the refusal, or goes on with that Principal, without authenticating or charging it
  again (one refused is answered `429` without its body being waited for);
- the view (`api.runtime.cache_hits`): the memoised preparation of the body (of a GET's
  query string, kept apart as the view keeps it), the key from the in-memory heads — which
  this process's writes move before their answers go out, so read-your-writes holds as on the
  view's own path — `If-None-Match` → `304`, the counters, and the answer's gzip variant for
  a client whose `Accept-Encoding` takes it, made once per stored answer
  (`api.runtime.compression`);
- CORS (`Vary: Origin`, the grant for a listed origin), the request id, the HTTP metrics.

Anything else is handed on to the ordinary stack as it came (a body already read is replayed):
another path or method, a POST with a query string, a GET without one or with one longer
than is memoised, a header it reads sent twice, a POST without `Content-Length` or with one
beyond what is memoised, a consistency token, a streaming `Accept`, a body not prepared
before, no stored answer — or an error looking it up, logged: the stack then answers and masks
whatever fails there. Anything else failing in the layer, before its answer begins, is
answered as the door answers a failure: logged with the request id, `500` with the masked
message and the id (`tests/e2e/test_hit_layer_failures.py`). `PLANAPI_RESPONSE_CACHE_HIT_LAYER=
false` leaves every request to the stack. `tests/e2e/test_hit_layer.py` compares its answers
with the stack's, byte for byte.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planapi.api.runtime.byte_search import holds
from planapi.api.runtime.cache_hits import Hit, Hits, Taken
from planapi.api.runtime.graphql_request import Headers, read
from planapi.api.runtime.preparing import MAX_MEMO_REQUEST_BYTES
from planapi.api.types.context import request_id
from planapi.application.authn import Authenticator
from planapi.entrypoints.cors import EXPOSED, allows, cors_headers
from planapi.entrypoints.metrics import Metrics
from planapi.entrypoints.refusals import GRAPHQL, error_answer, too_large
from planapi.entrypoints.request_ids import ASSIGNED, HEADER, RequestIds
from planapi.entrypoints.security import (
    ADMITTED,
    MASKED,
    BodyTooLargeError,
    Limits,
    Refused,
    admit,
)

log = logging.getLogger("planapi.security")

# The headers this layer, or a layer it stands in for, reads: given twice, the layers would
# not all read the same one (first or last), so such a request is handed on.
_READ = frozenset(
    {
        b"accept",
        b"accept-encoding",
        b"authorization",
        b"content-length",
        b"content-type",
        b"if-none-match",
        b"origin",
        b"planapi-consistent-with",
        HEADER,
    }
)


_EXPOSED = (b"access-control-expose-headers", EXPOSED)
_ORIGINS_REMEMBERED = 64
# No origin is longer (a scheme, a host of at most 253 characters, a port): a longer Origin
# header is decided, never remembered — uvicorn sets no limit on a header's size, and anyone
# may send one, so a memo of raw values would keep whatever they sent for good.
_LONGEST_ORIGIN = 300


def _ungranted(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return cors_headers(headers, None)


def _granted_tail(
    granted: bytes, identified: tuple[bytes, bytes]
) -> tuple[tuple[bytes, bytes], ...]:
    return (b"access-control-allow-origin", granted), _EXPOSED, identified


class HitLayer:
    def __init__(
        self,
        app: ASGIApp,
        *,
        hits: Hits,
        authenticator: Callable[[], Authenticator],
        limits: Limits,
        origins: frozenset[str],
        ids: RequestIds,
        metrics: Metrics,
    ) -> None:
        self.app = app
        self.hits = hits
        self.authenticator = authenticator
        self.limits = limits
        self.origins = origins
        self.ids = ids
        self.metrics = metrics
        self.answered = 0  # hits this layer sent (the view's counters count them too)
        self._origins_seen: dict[bytes, bytes | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != GRAPHQL or not _looked_at(scope):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = _given(scope)
        if given is None:
            await self.app(scope, receive, send)
            return
        current = scope[ASSIGNED] = self.ids.for_request(given.get(HEADER, b""))
        token = request_id.set(current)  # for the log lines of this layer (and of admit)
        try:
            answer, receive = await self._answer(scope, receive, given)
            identified = (HEADER, current.encode())
            sent = self._sent(answer, given.get(b"origin"), identified) if answer else []
        except Exception:  # as the door answers one: logged, masked, with the request id
            log.exception("unexpected error (request %s)", current)
            await self._masked(scope, send, given, current, started)
            return
        finally:
            request_id.reset(token)
        if answer is None:
            await self.app(scope, receive, send)
            return
        status = answer[1][0]
        self.answered += 1
        try:
            await send({"type": "http.response.start", "status": status, "headers": sent})
            await send({"type": "http.response.body", "body": answer[1][1]})
        finally:
            self.metrics.observe_http(
                GRAPHQL, scope["method"], status, time.perf_counter() - started
            )

    def _sent(
        self, answer: tuple[Hit, Taken], origin: bytes | None, identified: tuple[bytes, bytes]
    ) -> list[tuple[bytes, bytes]]:
        """A hit's headers as CORS and the request id layers would send them: what CORS sends
        without a grant made once per stored answer's shape (`Hits.framed`), the grant and the
        id added."""
        granted = self._granted(origin) if origin else None
        tail = (identified,) if granted is None else _granted_tail(granted, identified)
        return self.hits.framed(answer[0], answer[1][2], _ungranted, tail)

    def _granted(self, origin: bytes) -> bytes | None:
        """`origin` if it may read answers (`cors.allows`), remembered for the few origins a
        deployment's pages use."""
        if origin in self._origins_seen:
            return self._origins_seen[origin]
        granted = origin if allows(self.origins, origin.decode("latin-1")) else None
        if len(origin) > _LONGEST_ORIGIN:
            return granted
        if len(self._origins_seen) >= _ORIGINS_REMEMBERED:  # any origin may be sent
            self._origins_seen.clear()
        self._origins_seen[origin] = granted
        return granted

    def _headers(
        self, headers: list[tuple[bytes, bytes]], given: dict[bytes, bytes], current: str
    ) -> list[tuple[bytes, bytes]]:
        """An answer's headers as CORS and the request id layers would send them."""
        origin = given.get(b"origin", b"").decode("latin-1")
        sent = cors_headers(headers, origin if origin and allows(self.origins, origin) else None)
        sent.append((HEADER, current.encode()))
        return sent

    async def _masked(
        self, scope: Scope, send: Send, given: dict[bytes, bytes], current: str, started: float
    ) -> None:
        """The door's `500` for an unexpected failure, as the stack's layers would carry it."""

        async def carried(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": self._headers(message["headers"], given, current)}
            await send(message)

        extra = {"requestId": current}
        try:
            await error_answer(scope, carried, 500, "internal_error", MASKED, extra)
        finally:
            self.metrics.observe_http(GRAPHQL, scope["method"], 500, time.perf_counter() - started)

    async def _answer(
        self, scope: Scope, receive: Receive, given: dict[bytes, bytes]
    ) -> tuple[tuple[Hit, Taken] | None, Receive]:
        """The stored answer to send, admitted as the door admits; None: hand on (with
        `receive` replaying what was read, and the admission in the scope for the door)."""
        length = given.get(b"content-length", b"")
        if scope["method"] == "POST" and (
            not holds(given.get(b"content-type", b""), b"application/json")  # as the view reads
            or not length.isdigit()
            or int(length) > MAX_MEMO_REQUEST_BYTES
        ):
            return None, receive
        try:
            admission = await admit(scope, receive, self.authenticator, self.limits)
        except Exception as error:  # the door answers it (503...) and logs what it must
            scope[ADMITTED] = Refused(partial(_raise, error))
            return None, receive
        if isinstance(admission, Refused):  # the door sends it
            scope[ADMITTED] = admission
            return None, receive
        headers = Headers(scope)
        try:
            raw, replayed = await read(scope, headers, admission.receive)
        except BodyTooLargeError as error:  # more than it declared: the door answers 413
            scope[ADMITTED] = Refused(partial(too_large, scope, limit=error.args[0]))
            return None, receive
        try:
            hit = self.hits.find(scope, headers, raw) if raw is not None else None
        except Exception:  # the stack answers (and masks whatever fails there again)
            log.exception("the hit layer could not look this request up; handed on")
            hit = None
        if hit is None:
            scope[ADMITTED] = admission
            return None, replayed
        return (hit, self.hits.take(hit, headers)), receive


def _looked_at(scope: Scope) -> bool:
    """A POST with its body alone, or a GET with its query string (one the view memoises)."""
    query: bytes = scope.get("query_string", b"")
    if scope.get("root_path"):
        return False
    if scope["method"] == "POST":
        return not query
    return scope["method"] == "GET" and 0 < len(query) <= MAX_MEMO_REQUEST_BYTES


def _given(scope: Scope) -> dict[bytes, bytes] | None:
    """The headers of _READ the request sent; None if it sent one of them twice."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _READ:
            if name in found:
                return None
            found[name] = value
    return found


async def _raise(error: Exception, send: Send) -> None:
    raise error
