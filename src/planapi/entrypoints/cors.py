"""Cross-origin requests (the Fetch standard's CORS protocol) for pages on the origins listed in
`PLANAPI_CORS_ORIGINS`; none by default, so only pages served by planapi itself (same origin)
can read its answers in a browser.

Between the request id and the access door (entrypoints/asgi.py), so that:

- a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered here,
  before authentication and rate limits: browsers never send credentials with it;
- every other answer from a listed origin — refusals from the door included (a `401`, a `429`
  whose `Retry-After` the page must read) — carries `Access-Control-Allow-Origin` and exposes
  `ETag`, `Retry-After` and `X-Request-Id`;
- every answer says `Vary: Origin`, so a shared cache never hands one origin's answer to another.

Never `Access-Control-Allow-Credentials`: credentials travel in `Authorization`, which a page
sets itself; cookies and cached Basic credentials (the audit page's) are never honoured across
origins. WebSocket handshakes are checked against the same list by strawberry (`allowed_origins`):
without `Origin` (not a browser) or from the same origin they are allowed, from others refused.
docs/security.md, "Browsers on other origins".
"""

from __future__ import annotations

import re
from functools import lru_cache

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.http.websocket_origin import normalize_allowed_origins, normalize_origin

ALLOWED_METHODS = b"GET, POST"
EXPOSED = b"ETag, Retry-After, X-Request-Id"
MAX_AGE = b"600"  # Chromium caps a preflight's lifetime at 2 hours; 10 minutes is its default
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def allowed_origins(setting: str) -> frozenset[str]:
    """`PLANAPI_CORS_ORIGINS` (comma-separated `scheme://host[:port]`, or `*`) normalised as
    browsers send `Origin`; ValueError naming the entry that is not an origin."""
    return normalize_allowed_origins([part.strip() for part in setting.split(",") if part.strip()])


def allows(origins: frozenset[str], origin: str) -> bool:
    """May a page on `origin` (as the browser sent it) read answers?"""
    if "*" in origins:
        return True
    normalised = normalize_origin(origin)
    return normalised is not None and normalised in origins


class CorsMiddleware:
    def __init__(self, app: ASGIApp, origins: frozenset[str]) -> None:
        self.app = app
        self.origins = origins

    def allows(self, origin: str) -> bool:
        return allows(self.origins, origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", ()))
        origin = headers.get(b"origin", b"").decode("latin-1")
        if scope["method"] == "OPTIONS" and origin and b"access-control-request-method" in headers:
            await self._preflight(send, origin, headers)
            return
        granted = bool(origin) and self.allows(origin)

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = cors_headers(
                    list(message.get("headers", ())), origin if granted else None
                )
            await send(message)

        await self.app(scope, receive, with_cors)

    async def _preflight(self, send: Send, origin: str, headers: dict[bytes, bytes]) -> None:
        """204 with the grants when the origin is listed; 403 without any otherwise, so that the
        browser refuses the request it asked about (and a person reading the network tab sees
        why)."""
        if not self.allows(origin):
            body = orjson.dumps(
                {
                    "error": "cors_refused",
                    "message": f"origin {origin!r} is not in PLANAPI_CORS_ORIGINS",
                }
            )
            await _answer(send, 403, cors_headers(_json(body), None), body)
            return
        requested = headers.get(b"access-control-request-headers", b"").decode("latin-1")
        names = [name.strip() for name in requested.split(",") if name.strip()]
        grants = [
            (b"access-control-allow-methods", ALLOWED_METHODS),
            (b"access-control-max-age", MAX_AGE),
        ]
        # The headers a listed origin asks for (Authorization, Apollo's and urql's own): the
        # origin is trusted, and what the page may send is what any non-browser client may.
        if names and all(_HEADER_NAME.match(name) for name in names):
            grants.append((b"access-control-allow-headers", ", ".join(names).encode()))
        await _answer(send, 204, cors_headers(grants, origin), b"")


def cors_headers(
    headers: list[tuple[bytes, bytes]], origin: str | None
) -> list[tuple[bytes, bytes]]:
    """`headers` with `Vary: Origin` (merged into an existing `Vary`) and, for a granted
    origin, the grant and the headers a page may read."""
    # One pass, no generator: every hit the hit layer answers asks (docs/performance.md,
    # "Where a full-tree hit's time went").
    # The pairs themselves, not copies: the hit layer keeps this list per stored answer.
    found: list[tuple[bytes, bytes]] = []
    varies: tuple[bytes, ...] = ()
    for pair in headers:
        if pair[0].lower() == b"vary":
            varies += (pair[1],)
        else:
            found.append(pair)
    found.append(_vary_with_origin(varies))
    if origin is not None:
        found.append((b"access-control-allow-origin", origin.encode("latin-1")))
        found.append((b"access-control-expose-headers", EXPOSED))
    return found


@lru_cache(maxsize=64)  # a handful of Vary values, on every response
def _vary_with_origin(varies: tuple[bytes, ...]) -> tuple[bytes, bytes]:
    texts = [value.decode("latin-1") for value in varies]
    names = [part.strip() for value in texts for part in value.split(",") if part.strip()]
    if "origin" not in {name.lower() for name in names}:
        names.append("Origin")
    return b"vary", ", ".join(names).encode("latin-1")


def _json(body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
