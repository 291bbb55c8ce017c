"""The response cache's hits answered in front of the whole ASGI stack, in one layer.

A repeated read answered from the response cache cost ~33 µs in process against a trivial
starlette endpoint's ~12 µs (docs/performance.md), spread thinly over the layers it passed:
metrics, request id, CORS, the door, starlette's error and exception layers and router, the
view — each wrapping `send`. For a `POST /graphql` whose answer is stored, this layer, the
outermost (`entrypoints.asgi.PlanApp`), does in one place what those layers would have done,
with their own code, in their order:

- the door (`entrypoints.security`): a NUL anywhere or a body that is not JSON → handed on
  (the door refuses it); the `Authorization` header → the Principal (`principal_of`), which
  the cache key depends on; its token bucket, charged before the body is read as the door
  charges it (`security.RATED` carries the decision to the door for a request handed on, so
  it is charged once, and one refused is answered `429` without its body being waited for);
  the body limit of its role (declared, then counted while read). Credentials that cannot be
  used are handed on with what authenticating raised (`security.AUTHENTICATED`): the door
  answers 401, 403 or 503 without asking the database again; a request handed on carries the
  Principal found, so the door does not authenticate it twice either;
- the view (`api.runtime.cache_hits`): the body's memoised preparation, the key from the
  in-memory heads — which this process's writes move before their answers go out, so
  read-your-writes holds as on the view's own path — `If-None-Match` → `304`, the counters,
  and the answer's gzip variant for a client whose `Accept-Encoding` takes it, made once per
  stored answer (`api.runtime.compression`);
- CORS (`Vary: Origin`, the grant for a listed origin), the request id, the HTTP metrics.

Anything else is handed on to the ordinary stack as it came (a body already read is replayed):
another path or method, a query string, a header it reads sent twice, no `Content-Length` or
one beyond what is memoised, a consistency token, a streaming `Accept`, a body not prepared
before, no stored answer — or an error looking it up, logged: the stack then answers and masks
whatever fails there. `PLANAPI_RESPONSE_CACHE_HIT_LAYER=false` leaves every request to the
stack. `tests/e2e/test_hit_layer.py` compares its answers with the stack's, byte for byte.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planapi.api.runtime.cache_hits import Answer, Hits
from planapi.api.runtime.graphql_request import Headers
from planapi.api.runtime.nul import in_request
from planapi.api.runtime.preparing import MAX_MEMO_REQUEST_BYTES
from planapi.application.authn import Authenticator
from planapi.entrypoints.cors import allows, cors_headers
from planapi.entrypoints.metrics import Metrics
from planapi.entrypoints.refusals import GRAPHQL
from planapi.entrypoints.request_ids import HEADER, RequestIds
from planapi.entrypoints.security import (
    AUTHENTICATED,
    RATED,
    Limits,
    is_json,
    principal_of,
    rule_for,
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
        # The door's route permission is not repeated here: /graphql must keep having none.
        rule = rule_for(GRAPHQL)
        if rule is None or rule.permission is not None:
            raise ValueError("the hit layer stands in for a door that lets anyone at /graphql")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != GRAPHQL
            or scope["method"] != "POST"
            or scope.get("query_string")
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = _given(scope)
        answer, receive = (
            await self._answer(scope, receive, given) if given is not None else (None, receive)
        )
        if answer is None or given is None:
            await self.app(scope, receive, send)
            return
        status, body, headers = answer
        origin = given.get(b"origin", b"").decode("latin-1")
        sent = cors_headers(headers, origin if origin and allows(self.origins, origin) else None)
        sent.append((HEADER, self.ids.for_request(given.get(HEADER, b"")).encode()))
        self.answered += 1
        try:
            await send({"type": "http.response.start", "status": status, "headers": sent})
            await send({"type": "http.response.body", "body": body})
        finally:
            self.metrics.observe_http(GRAPHQL, "POST", status, time.perf_counter() - started)

    async def _answer(
        self, scope: Scope, receive: Receive, given: dict[bytes, bytes]
    ) -> tuple[Answer | None, Receive]:
        """The stored answer to send, in the door's and the view's order; None: hand on (with
        `receive` replaying what was read)."""
        kind = given.get(b"content-type", b"")
        length = given.get(b"content-length", b"")
        if (
            in_request(GRAPHQL, b"", scope["headers"]) is not None
            or not is_json(kind.decode("latin-1"))
            or b"application/json" not in kind  # what the view reads as JSON
            or not length.isdigit()
            or int(length) > MAX_MEMO_REQUEST_BYTES
        ):
            return None, receive
        authorization = given.get(b"authorization", b"").decode("latin-1")
        try:
            principal = await principal_of(
                authorization, scope, self.authenticator, self.limits, True
            )
        except Exception as error:  # the door answers it (401, 403, 503...)
            scope[AUTHENTICATED] = error
            return None, receive
        scope[AUTHENTICATED] = principal
        scope.setdefault("state", {})["principal"] = principal
        rate = self.limits.rate
        if rate is not None:  # the door's order: charged before the body is read
            scope[RATED] = rate.take(principal.rate_key)
            if not scope[RATED].allowed:  # the door answers 429 by it
                return None, receive
        limit = self.limits.graphql_bytes(principal.role)
        if int(length) > limit:  # the door answers 413
            return None, receive
        raw, read = await _body(receive, limit)
        headers = Headers(scope)
        try:
            hit = self.hits.find(scope, headers, raw) if raw is not None else None
        except Exception:  # the stack answers (and masks whatever fails there again)
            log.exception("the hit layer could not look this request up; handed on")
            hit = None
        if hit is None:
            return None, _replay(read, receive)
        del scope[AUTHENTICATED]
        scope.pop(RATED, None)
        return self.hits.take(hit, headers), receive


def _given(scope: Scope) -> dict[bytes, bytes] | None:
    """The headers of _READ the request sent; None if it sent one of them twice."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _READ:
            if name in found:
                return None
            found[name] = value
    return found


async def _body(receive: Receive, limit: int) -> tuple[bytes | None, list[Message]]:
    """The whole body (None: the client left, or it went beyond `limit`), and the messages
    read, for `_replay`."""
    read: list[Message] = []
    size = 0
    while True:
        message = await receive()
        read.append(message)
        if message["type"] != "http.request":
            return None, read
        size += len(message.get("body", b""))
        if size > limit:
            return None, read
        if not message.get("more_body", False):
            break
    return b"".join(message.get("body", b"") for message in read), read


def _replay(read: list[Message], receive: Receive) -> Receive:
    """`receive`, giving the messages already read first."""
    pending = read[::-1]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed
