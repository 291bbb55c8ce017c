"""Reading a GraphQL request over HTTP before strawberry sees it: the headers the view needs,
who asks (whom the answer may be shared with), the raw body or query string, its GraphQL
fields; and sending a stored answer as is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from planapi.api.runtime.byte_search import holds
from planapi.api.runtime.compression import encoded
from planapi.api.runtime.http_caching import content_length, header
from planapi.api.runtime.http_protocol import RequestRefused, check_parameters, media_type

ANONYMOUS = "anonymous"


def role_of(scope: Scope) -> str:
    """The caller's role as the authentication middleware left it; none is anonymous."""
    return _role(_principal(scope))


def audience_of(scope: Scope) -> str:
    """Who may share cached answers: the role, and the plans and KPIs a restricted principal
    (an integrator's token) is confined to, should reads ever depend on them."""
    principal = _principal(scope)
    role = _role(principal)
    confined = getattr(principal, "scope", None)
    if confined is not None and getattr(confined, "unrestricted", True) is False:
        describe = getattr(confined, "describe", None)
        detail = describe() if callable(describe) else repr(confined)
        return f"{role}|{detail}"
    return role


def audience_key(scope: Scope, media: str) -> bytes:
    """`audience_of(scope)` and the answer's media type, as a response cache key holds them:
    remembered for the principals that ask again (an anonymous caller's, a token's, both kept
    by the door), not for one made afresh every request (`Principal.per_request`: a JWT's)."""
    principal = _principal(scope)
    known = _AUDIENCES.get((id(principal), media))
    if known is not None and known[0] is principal:  # the same object, not one at its address
        return known[1]
    made = (audience_of(scope) + "|" + media).encode()
    if getattr(principal, "per_request", False):  # would only push the others out
        return made
    if len(_AUDIENCES) >= _AUDIENCES_KEPT:
        _AUDIENCES.clear()
    _AUDIENCES[(id(principal), media)] = (principal, made)
    return made


# Principals are immutable (`application.access.Principal`): each one's key never changes.
_AUDIENCES: dict[tuple[int, str], tuple[object, bytes]] = {}
_AUDIENCES_KEPT = 1_024


def _principal(scope: Scope) -> object:
    state = scope.get("state")
    if type(state) is dict:  # every request asks: the Mapping check is an ABC's, 5x slower
        return state.get("principal")
    return state.get("principal") if isinstance(state, Mapping) else None


def _role(principal: object) -> str:
    role = getattr(principal, "role", None)
    if role is None:
        return ANONYMOUS
    return str(getattr(role, "value", role))


class Headers:
    """The request headers this view reads, in one pass over the scope's list."""

    __slots__ = (
        "accept",
        "accept_encoding",
        "consistent_with",
        "content_type",
        "if_none_match",
        "media",
    )

    def __init__(self, scope: Scope) -> None:
        self.accept = self.content_type = self.if_none_match = self.consistent_with = b""
        self.accept_encoding = b""
        for name, value in scope.get("headers", ()):
            if name == b"content-type":
                self.content_type = value
            elif name == b"accept":
                self.accept = value
            elif name == b"if-none-match":
                self.if_none_match = value
            elif name == b"accept-encoding":
                self.accept_encoding = value
            elif name == b"planapi-consistent-with":  # api.runtime.dependencies
                self.consistent_with = (
                    self.consistent_with + b"," + value if self.consistent_with else value
                )
        self.media = media_type(self.accept)


def streaming(accept: bytes) -> bool:
    """Does `Accept` ask for a streamed answer (incremental delivery, server-sent events)?"""
    return holds(accept, b"multipart/mixed") or holds(accept, b"text/event-stream")


def tags(header: bytes) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.decode("latin-1").split(",")}


# What `str.strip` strips from a Latin-1 header, as bytes.
_SPACE = bytes(code for code in range(256) if chr(code).isspace())


def tag_bytes(header: bytes) -> set[bytes]:
    """`tags` as bytes (the same tags): a stored answer's ETag is compared as the bytes its
    header holds, whose hash is kept, rather than as a str made for each request."""
    return {tag.strip(_SPACE).removeprefix(b"W/") for tag in header.split(b",")}


async def read(scope: Scope, headers: Headers, receive: Receive) -> tuple[bytes | None, Receive]:
    """The raw request: a GET's query string, or a JSON POST's body (then handed on to whoever
    reads the body next by a `receive` that replays it). None: not for this view to read."""
    if scope["method"] == "GET":
        return scope.get("query_string", b""), receive
    if not holds(headers.content_type, b"application/json"):
        return None, receive
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client left: strawberry sees it so
            return None, _replay(receive, message)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body, _replay(receive, {"type": "http.request", "body": body, "more_body": False})


def _replay(receive: Receive, first: Message) -> Receive:
    pending = [first]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed


def json_headers(body: bytes, media: str) -> list[tuple[bytes, bytes]]:
    return [header(b"content-type", media), content_length(len(body))]


Fields = tuple[str | None, dict[str, Any] | None, str | None, dict[str, Any] | None, Any]


def _checked(data: Mapping[str, Any]) -> Fields:
    check_parameters(data)
    return (
        data.get("query"),
        data.get("variables"),
        data.get("operationName"),
        data.get("extensions"),
        data.get("documentId"),
    )


def body_fields(raw: bytes) -> Fields | None:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return _checked(data) if isinstance(data, dict) else None


def query_fields(request: Request, raw: bytes) -> Fields | None:
    params = dict(request.query_params)
    data: dict[str, Any] = {
        "query": params.get("query"),
        "operationName": params.get("operationName") or None,
        "documentId": params.get("documentId"),
    }
    try:
        for name in ("variables", "extensions"):
            given = params.get(name)
            data[name] = orjson.loads(given) if given else None
    except orjson.JSONDecodeError as error:
        raise RequestRefused(400, f"`variables` and `extensions` must be JSON ({error})") from error
    if data["query"] is None and data["extensions"] is None and data["documentId"] is None:
        return None
    return _checked(data)


async def send_raw(
    send: Send, status_code: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    # A copy: whoever wraps `send` (the request id) may add to the list.
    await send({"type": "http.response.start", "status": status_code, "headers": [*headers]})
    await send({"type": "http.response.body", "body": body})


async def send_response(
    response: Response, scope: Scope, receive: Receive, send: Send, gzip: tuple[bool, bool]
) -> None:
    """strawberry's response, through `compression.encoded` (compression on, the client takes
    gzip) when it is whole bytes: never a stream, nor one with a background task."""
    body = getattr(response, "body", None)
    if (
        not isinstance(body, bytes)
        or response.background is not None
        or "content-encoding" in response.headers
    ):
        await response(scope, receive, send)
        return
    await send_raw(send, response.status_code, *encoded(body, response.raw_headers, *gzip))
