"""GraphQL over HTTP (the GraphQL Foundation's spec): media types, request refusals, statuses.

What `api.runtime.graphql_http` asks before and after strawberry runs a request:

- which media type the answer is in: `application/graphql-response+json` when the client's
  `Accept` prefers it (Apollo Client 4 and graphql-http send it first), else
  `application/json` (also without `Accept`: the spec's legacy default);
- whether the request may run at all: a mutation over GET is `405` with `Allow: POST` (a GET
  must be safe), a subscription over plain HTTP is `400` pointing at the WebSocket endpoint,
  parameters of the wrong JSON type (`operationName: {}`) are `400`;
- every refusal's body is `{"errors": [{"message", "extensions": {"code"}}]}` — never text —
  and no `data` entry appears when execution never began.

docs/graphql-over-http.md says what the server does for each of the spec's MAYs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Send
from strawberry.types import ExecutionResult

log = logging.getLogger("planapi.api")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
WEBSOCKET_HINT = (
    "subscriptions are served over WebSocket (graphql-transport-ws) at /graphql, not over "
    "HTTP GET or POST"
)
# strawberry's refusals (cross_web.HTTPException reasons) and the code each gets.
_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


@dataclass
class RequestRefused(Exception):
    """A request refused before anything ran: its status, message and `extensions.code`."""

    status: int
    message: str
    code: str = "BAD_REQUEST"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)


def media_type(accept: bytes | str) -> str:
    """The answer's media type: `application/graphql-response+json` when `Accept` names it
    with a weight no lower than `application/json`'s (wildcards count for the latter)."""
    text = accept.decode("latin-1") if isinstance(accept, bytes) else accept
    if GRAPHQL_RESPONSE not in text:
        return JSON
    weights: dict[str, float] = {}
    for item in text.split(","):
        kind, *params = (part.strip() for part in item.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        kind = kind.lower()
        weights[kind] = max(weight, weights.get(kind, 0.0))
    wanted = weights.get(GRAPHQL_RESPONSE, 0.0)
    plain = max(weights.get(JSON, 0.0), weights.get("application/*", 0.0), weights.get("*/*", 0.0))
    return GRAPHQL_RESPONSE if wanted > 0 and wanted >= plain else JSON


def errors_body(message: str, code: str, **extensions: Any) -> bytes:
    return orjson.dumps(
        {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    )


def refused_http(status: int, reason: str) -> RequestRefused:
    """strawberry's own refusals (text) as JSON ones; a GET that would write is 405."""
    if status == 400 and "mutations are not allowed" in reason.lower():
        return mutation_over_get()
    return RequestRefused(status, reason, _CODES.get(status, "BAD_REQUEST"))


def mutation_over_get() -> RequestRefused:
    return RequestRefused(
        405,
        "mutations are only accepted over POST (a GET must not change anything)",
        "METHOD_NOT_ALLOWED",
        [(b"allow", b"POST")],
    )


def method_not_allowed() -> RequestRefused:
    return RequestRefused(
        405,
        "/graphql answers GET (queries) and POST (queries and mutations)",
        "METHOD_NOT_ALLOWED",
        [(b"allow", b"GET, POST")],
    )


def check_operation(operation: str | None, method: str, protocol: str) -> None:
    """Raise when this operation may not run over this request (nothing has run yet)."""
    if operation == "mutation" and method == "GET":
        raise mutation_over_get()
    if operation == "subscription" and protocol == "http":
        raise RequestRefused(400, WEBSOCKET_HINT, "USE_WEBSOCKET")


# The request's parameters and the JSON types the spec gives them.
_PARAMETERS = (
    ("query", str, "a string"),
    ("operationName", str, "a string"),
    ("variables", dict, "an object"),
    ("extensions", dict, "an object"),
)


def check_parameters(data: Mapping[str, Any]) -> None:
    """The request's parameters have the JSON types the spec gives them (400 otherwise)."""
    for name, kind, said in _PARAMETERS:
        value = data.get(name)
        if value is not None and not isinstance(value, kind):
            raise RequestRefused(
                400, f"the `{name}` parameter must be {said} (or null)", "BAD_REQUEST"
            )


def refusal_response(refusal: RequestRefused) -> Response:
    """The refusal as a starlette answer (`application/json`; the view then sets the media type
    the client accepts)."""
    log.info("graphql request refused (%s): %s", refusal.status, refusal.message)
    response = Response(
        errors_body(refusal.message, refusal.code),
        status_code=refusal.status,
        media_type=JSON,
        headers={"cache-control": "no-store"},
    )
    response.headers.raw.extend(refusal.headers)
    return response


async def send_refusal(send: Send, refusal: RequestRefused, accept: bytes | str) -> None:
    """The refusal as a JSON answer in the media type the client accepts; logged on one line
    (a client's mistake, not the server's: no traceback)."""
    log.info("graphql request refused (%s): %s", refusal.status, refusal.message)
    body = errors_body(refusal.message, refusal.code)
    headers = [
        (b"content-type", media_type(accept).encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *refusal.headers,
    ]
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def never_began(result: ExecutionResult) -> bool:
    """Refused before execution: the document did not parse, failed validation (depth, tokens,
    aliases) or its cost budget — errors without a path, and no data. Such an answer has no
    `data` entry (GraphQL spec, "Response") and, in `application/graphql-response+json`, 400."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )
