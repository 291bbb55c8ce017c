"""The request id every answer carries (`X-Request-Id`) and its log lines and masked errors
mention: the client's, or 32 hex digits of a random per-process prefix and a counter — unique
like a uuid4 without reading the system's random source on every request.

One `RequestIds` per app, shared by the middleware and the response cache's hit layer
(`entrypoints.hit_layer`), so ids stay unique whichever of them answers. The hit layer gives
every request it looks at its id first (its own log lines carry it); one it hands on keeps
that id (`ASSIGNED`), so the stack's log lines and answer carry the same."""

from __future__ import annotations

import itertools
import secrets
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planapi.api.types.context import request_id

HEADER = b"x-request-id"
ASSIGNED = "planapi.request_id"  # the id the hit layer gave a request it then handed on


class RequestIds:
    def __init__(self) -> None:
        self._prefix = uuid.uuid4().hex[:16]
        self._count = itertools.count(secrets.randbits(32))

    def for_request(self, given: bytes) -> str:
        """The client's id (printable, at most 64 characters kept), else a new one."""
        if given:
            text = given.decode("latin-1")
            if text.isprintable():
                return text[:64]
        # The counter's 16 hex digits as `:016x` writes them, at half its cost (every request).
        return self._prefix + (next(self._count) & 0xFFFFFFFFFFFFFFFF).to_bytes(8).hex()


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, ids: RequestIds) -> None:
        self.app = app
        self.ids = ids

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        current = scope.get(ASSIGNED) or self.ids.for_request(
            dict(scope.get("headers", [])).get(HEADER, b"")
        )
        token = request_id.set(current)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER, current.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
