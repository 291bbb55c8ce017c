"""The door's answers (`entrypoints.security`): JSON refusals — on `/graphql` with GraphQL's
`errors` too — for NULs, credentials that cannot be used, missing permissions, a database out
of reach, and the denial of a WebSocket upgrade."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import Message, Scope, Send

from planapi.api.runtime.failures import note
from planapi.api.runtime.nul import in_request
from planapi.api.runtime.nul import message as nul_message
from planapi.api.types.context import request_id
from planapi.application.access import Principal
from planapi.application.failures import StoreUnavailableError
from planapi.application.tokens import InvalidCredentialsError

GRAPHQL = "/graphql"


def nul_refusal(scope: Scope) -> Callable[[Send], Awaitable[None]] | None:
    """The refusal, 400 naming where, of a request whose path, query or a header holds a NUL:
    PostgreSQL cannot store one, so it is refused alike on every backend."""
    where = in_request(scope["path"], scope.get("query_string", b""), scope.get("headers", []))
    if where is None:
        return None
    message, extra = nul_message(where), {"field": where}

    async def refuse(send: Send) -> None:
        await error_answer(scope, send, 400, "bad_request", message, extra, code="BAD_USER_INPUT")

    return refuse


def denial(scope: Scope, send: Send) -> Send:
    """`send` for an HTTP answer to a WebSocket upgrade (ASGI's denial response, which uvicorn
    offers); without it, a close before accepting, which the server answers 403."""

    async def denied(message: Message) -> None:
        if "websocket.http.response" in scope.get("extensions", {}):
            await send({**message, "type": f"websocket.{message['type']}"})
        elif message["type"] == "http.response.start":
            await send({"type": "websocket.close", "code": 4400})

    return denied


async def credentials_refused(
    scope: Scope, send: Send, error: InvalidCredentialsError, browser: bool
) -> None:
    if error.reason == "temporarily_unavailable":
        await error_answer(
            scope, send, 503, "unavailable", str(error), headers=[(b"retry-after", b"30")]
        )
        return
    if error.reason == "no_role":
        await error_answer(scope, send, 403, "forbidden", str(error))
        return
    description = str(error).replace('"', "'")
    challenge = f'Bearer error="invalid_token", error_description="{description}"'
    await error_answer(
        scope,
        send,
        401,
        "invalid_token",
        str(error),
        headers=challenges(challenge, browser),
        code="UNAUTHENTICATED",
    )


async def unavailable_answer(scope: Scope, send: Send, found: StoreUnavailableError) -> None:
    """503 with Retry-After: the database is out of reach, the request itself is fine."""
    note(found, request_id.get())
    extra: dict[str, Any] = {"retryAfter": found.retry_after}
    if found.outcome_unknown:
        extra["outcomeUnknown"] = True
    retry = [(b"retry-after", str(found.retry_after).encode())]
    await error_answer(scope, send, 503, "unavailable", found.advice, extra, headers=retry)


async def permission_refused(
    scope: Scope, send: Send, principal: Principal, message: str, browser: bool
) -> None:
    if principal.authenticated:
        await error_answer(scope, send, 403, "forbidden", message, code="FORBIDDEN")
        return
    await error_answer(
        scope,
        send,
        401,
        "unauthenticated",
        message,
        headers=challenges("Bearer", browser),
        code="UNAUTHENTICATED",
    )


async def too_large(scope: Scope, send: Send, limit: int) -> None:
    await error_answer(
        scope,
        send,
        413,
        "too_large",
        f"the body may be at most {limit:,} bytes",
        {"maxBytes": limit},
        headers=[(b"connection", b"close")],
    )


def challenges(bearer: str, browser: bool) -> list[tuple[bytes, bytes]]:
    found = [(b"www-authenticate", bearer.encode("latin-1", "replace"))]
    if browser:
        # Lets a person open the audit page: the browser asks for the token (as the password).
        found.append((b"www-authenticate", b'Basic realm="planapi", charset="UTF-8"'))
    return found


async def error_answer(
    scope: Scope,
    send: Send,
    status: int,
    error: str,
    message: str,
    extra: dict[str, Any] | None = None,
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
    code: str | None = None,
) -> None:
    """A JSON refusal; on /graphql it also carries GraphQL's `errors` with `extensions.code`."""
    body: dict[str, Any] = {"error": error, "message": message, **(extra or {})}
    if scope["path"] == GRAPHQL:
        body["errors"] = [
            {"message": message, "extensions": {"code": code or error.upper(), **(extra or {})}}
        ]
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"cache-control", b"no-store"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
