"""The door every HTTP request and WebSocket passes: who is calling, may they use this route,
have they sent too much or too often — and no unexpected error leaves without being masked.

In order, for each request (docs/security.md says why each is there):

1. unexpected exceptions below are logged with the request id and answered `500` with that id
   (never a traceback);
2. `/healthz` (and `/metrics`, which the deployment fences off) pass straight through;
3. a NUL in the path, query or a header answers `400`; `POST /graphql` must be
   `application/json` (`415` otherwise);
4. the `Authorization` header becomes a `Principal`, put in `scope["state"]["principal"]` for
   everything after (the GraphQL context, the response cache, the endpoints). Credentials that
   were sent but cannot be used answer `401` — never a silent downgrade to anonymous;
5. the principal's token bucket must hold a token (`429` with `Retry-After` otherwise), taken
   before the body is read, so a refused caller holds nothing while it sends one slowly;
6. bodies larger than the principal's limit answer `413` (declared, or found out while read);
7. the route's permission (`ROUTES`): `401` without usable credentials, `403` with them.
   GraphQL decides per root field (`api.runtime.guard`).

Steps 3 to 7 are `admit`, which the response cache's hit layer (`entrypoints.hit_layer`), in
front of the whole stack, calls too: one admission, whichever layer answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planapi.adapters.failures import as_unavailable
from planapi.api.types.context import request_id
from planapi.application.access import Permission, Principal, Role, anonymous, refusal
from planapi.application.authn import Authenticator
from planapi.application.tokens import InvalidCredentialsError
from planapi.entrypoints.ratelimit import TokenBuckets
from planapi.entrypoints.refusals import (
    GRAPHQL,
    credentials_refused,
    denial,
    error_answer,
    nul_refusal,
    permission_refused,
    too_large,
    unavailable_answer,
)

log = logging.getLogger("planapi.security")

MASKED = "Unexpected error; quote the request id to support."
INGEST = "/ingest/readings"


@dataclass(frozen=True, slots=True)
class RouteRule:
    pattern: re.Pattern[str]
    permission: Permission | None  # None: anyone (GraphQL: decided per field)
    browser: bool = False  # a page people open: challenge for Basic credentials


ROUTES: tuple[RouteRule, ...] = (
    RouteRule(re.compile(r"^/healthz$"), None),
    RouteRule(re.compile(r"^/metrics$"), None),  # restricted by the deployment (security.md)
    RouteRule(re.compile(r"^/$"), None),
    RouteRule(re.compile(r"^/graphql$"), None),
    RouteRule(re.compile(r"^/graphiql/static/"), None),  # GraphiQL's own files, public anyway
    RouteRule(re.compile(r"^/ingest/readings$"), Permission.RECORD_READINGS),
    RouteRule(re.compile(r"^/events$"), Permission.AUDIT),
    RouteRule(re.compile(r"^/log/(checkpoint|key)$"), None),  # only hashes and a public key
    RouteRule(re.compile(r"^/log/(proof/(inclusion|consistency)|check)$"), Permission.AUDIT),
    # Readers can rebuild every version from GraphQL anyway; a link opened in a browser is
    # challenged for Basic credentials like the audit page.
    RouteRule(re.compile(r"^/plans/[^/]+/(document|diff)$"), Permission.READ, browser=True),
    # Translators' files: reading one is reading the plan; POST checks AMEND itself.
    RouteRule(re.compile(r"^/plans/[^/]+/translations$"), Permission.READ),
    RouteRule(re.compile(r"^/plans/[^/]+/kpis/[^/]+/readings$"), Permission.READ, browser=True),
    RouteRule(re.compile(r"^/proposals/[^/]+/document$"), Permission.READ, browser=True),
    RouteRule(re.compile(r"^/audit(/.*)?$"), Permission.AUDIT, browser=True),
    # A KPI's series as SDMX-CSV: what Kpi.readings gives a reader over GraphQL.
    RouteRule(re.compile(r"^/plans/[^/]+/kpis/[^/]+/series$"), Permission.READ),
    # The SDMX structures of a plan's dataflows: what a reader of the series needs to parse it.
    RouteRule(re.compile(r"^/plans/[^/]+/sdmx/structure$"), Permission.READ),
)
# What `admit` decided for a request the response cache's hit layer (`entrypoints.hit_layer`),
# in front of the door, then handed on: the door takes it instead of admitting the request again
# (authenticating it twice, charging its token bucket twice).
ADMITTED = "planapi.admitted"
DEFAULT_PERMISSION = Permission.READ  # a path no rule names (it will 404 for those who may read)
UNMETERED = frozenset({"/healthz", "/metrics"})


# Anonymous callers by address: a Principal is immutable, and making one cost more than the
# rest of a cached answer's door.
_anonymous = lru_cache(maxsize=4_096)(anonymous)


@lru_cache(maxsize=1_024)  # every request asks; /graphql alone would try every pattern
def rule_for(path: str) -> RouteRule | None:
    return next((rule for rule in ROUTES if rule.pattern.match(path)), None)


class BodyTooLargeError(Exception):
    pass


@dataclass
class Limits:
    max_graphql_bytes: int
    max_ingest_bytes: int
    rate: TokenBuckets | None
    anonymous_grants: Role | None = Role.READER
    graphql_bytes_by_role: Mapping[Role, int] = field(default_factory=dict)

    def graphql_bytes(self, role: Role) -> int:
        """The largest body this role may send: its own limit, never over everyone's."""
        return min(
            self.graphql_bytes_by_role.get(role, self.max_graphql_bytes), self.max_graphql_bytes
        )


class AccessMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        authenticator: Callable[[], Authenticator],
        limits: Limits,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def observed(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._http(scope, receive, observed)
        except BodyTooLargeError as error:
            if started:
                raise
            await too_large(scope, observed, error.args[0])
        except Exception as error:
            unavailable = as_unavailable(error)
            if unavailable is not None and not started:
                await unavailable_answer(scope, observed, unavailable)
                return
            log.exception("unexpected error (request %s)", request_id.get())
            if started:
                raise  # the answer has begun: all that is left is to cut the connection
            await error_answer(
                scope, observed, 500, "internal_error", MASKED, {"requestId": request_id.get()}
            )

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] in UNMETERED:
            await self.app(scope, receive, send)
            return
        admission = await admit(scope, receive, self.authenticator, self.limits)
        if isinstance(admission, Refused):
            await admission.answer(send)
            return
        await self.app(scope, admission.receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The upgrade request's `Authorization` header (clients that can set one), else
        anonymous — browsers send the token in `connection_init` (see PlanGraphQLAccess)."""
        refused = nul_refusal(scope)
        if refused is not None:
            await refused(denial(scope, send))
            return
        try:
            given = header_value(scope, b"authorization")
            principal = await principal_of(given, scope, self.authenticator, self.limits, False)
        except InvalidCredentialsError as error:
            log.info("websocket refused: %s", error)
            await send({"type": "websocket.close", "code": 4401, "reason": "invalid credentials"})
            return
        scope.setdefault("state", {})["principal"] = principal
        rate = self.limits.rate
        if rate is not None and not rate.take(principal.rate_key).allowed:
            await send({"type": "websocket.close", "code": 4429, "reason": "too many requests"})
            return
        await self.app(scope, receive, send)


# Not frozen: made for every request, and a frozen dataclass's __init__ costs several times more.
@dataclass(slots=True)
class Admitted:
    principal: Principal
    receive: Receive  # the body, counted against the principal's limit while it is read


@dataclass(slots=True)
class Refused:
    answer: Callable[[Send], Awaitable[None]]  # sends the refusal (or raises what failed)


async def admit(
    scope: Scope, receive: Receive, authenticator: Callable[[], Authenticator], limits: Limits
) -> Admitted | Refused:
    """Steps 3 to 7 of the door (the module's docstring), for the door and the response cache's
    hit layer alike; the principal is put in `scope["state"]`. Taken from `scope[ADMITTED]`
    instead when the hit layer admitted a request it then handed on (its `receive`, passed on,
    already counts the body). Failures other than unusable credentials are raised."""
    handed = scope.pop(ADMITTED, None)
    if handed is not None:
        return handed if isinstance(handed, Refused) else Admitted(handed.principal, receive)
    nul = nul_refusal(scope)
    if nul is not None:
        return Refused(nul)
    path: str = scope["path"]
    kind, given, declared = _door_headers(scope)
    if path == GRAPHQL and scope["method"] == "POST" and not is_json(kind):
        refused_as = "unsupported_media_type"
        json_only = "send the GraphQL request as application/json"
        return Refused(lambda send: error_answer(scope, send, 415, refused_as, json_only))
    rule = rule_for(path)
    try:
        # No coroutine for anonymous callers: every anonymous hit asks.
        principal = anonymous_for(given, scope, limits) or await principal_of(
            given, scope, authenticator, limits, allow_basic=True
        )
    except InvalidCredentialsError as error:
        return _unusable(scope, error, _browser(rule))
    scope.setdefault("state", {})["principal"] = principal
    rated = _over_rate(scope, limits, principal)
    if rated is not None:
        return rated
    limit = limits.graphql_bytes(principal.role)
    if path != INGEST and declared.isdigit() and int(declared) > limit:
        return Refused(lambda send: too_large(scope, send, limit))
    permission = rule.permission if rule is not None else DEFAULT_PERMISSION
    denied = refusal(principal, permission) if permission is not None else None
    if denied is not None:
        why, browser = str(denied), _browser(rule)
        return Refused(lambda send: permission_refused(scope, send, principal, why, browser))
    return Admitted(principal, bounded(scope, receive, limit))


def _unusable(scope: Scope, error: InvalidCredentialsError, browser: bool) -> Refused:
    return Refused(lambda send: credentials_refused(scope, send, error, browser))


def _over_rate(scope: Scope, limits: Limits, principal: Principal) -> Refused | None:
    """The 429 when the principal's token bucket is empty (a token taken otherwise)."""
    rate = limits.rate
    if rate is None:
        return None
    decision = rate.take(principal.rate_key)
    if decision.allowed:
        return None
    message = (
        f"too many requests: at most {rate.burst} at once and {rate.rate:g} a second "
        f"per token; retry after {decision.retry_after_header} s"
    )
    extra = {"retryAfter": int(decision.retry_after_header)}
    retry = [(b"retry-after", decision.retry_after_header.encode())]
    return Refused(
        lambda send: error_answer(scope, send, 429, "rate_limited", message, extra, headers=retry)
    )


def bounded(scope: Scope, receive: Receive, limit: int) -> Receive:
    """`receive`, counting body bytes against the route's limit: BodyTooLargeError beyond it
    (ingest counts its own while it streams, with its larger limit, and answers 413 itself)."""
    if scope["path"] == INGEST:
        return receive
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLargeError(limit)
        return message

    return counted


async def principal_of(
    given: str,
    scope: Scope,
    authenticator: Callable[[], Authenticator],
    limits: Limits,
    allow_basic: bool,
) -> Principal:
    """Who sends `given` (an `Authorization` header's value) from the scope's client."""
    nobody = anonymous_for(given, scope, limits)
    if nobody is not None:
        return nobody
    return await authenticator().authenticate(given, _client(scope), allow_basic=allow_basic)


def anonymous_for(given: str, scope: Scope, limits: Limits) -> Principal | None:
    """The anonymous caller from the scope's client when `given` (an `Authorization` header's
    value) is blank; None when it names someone, to be authenticated. No database is needed to
    know who nobody is, so this is no coroutine."""
    if given.strip():
        return None
    return _anonymous(limits.anonymous_grants, _client(scope))


def is_json(content_type: str) -> bool:
    """Is a `POST /graphql` of this `Content-Type` JSON (else 415)?"""
    return "application/json" in content_type.split(";")[0].strip().lower()


def _door_headers(scope: Scope) -> tuple[str, str, str]:
    """`Content-Type`, `Authorization` and `Content-Length` (each the first sent, as
    `header_value` reads it), in one pass: every request asks."""
    kind = authorization = length = None
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind = value if kind is None else kind
        elif name == b"authorization":
            authorization = value if authorization is None else authorization
        elif name == b"content-length":
            length = value if length is None else length
    return (
        kind.decode("latin-1") if kind else "",
        authorization.decode("latin-1") if authorization else "",
        length.decode("latin-1") if length else "",
    )


def header_value(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _browser(rule: RouteRule | None) -> bool:
    return rule is not None and rule.browser


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"
