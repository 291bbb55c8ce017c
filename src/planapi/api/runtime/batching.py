"""Batched GraphQL over HTTP: a JSON array of requests in one POST (Apollo's BatchHttpLink,
outside the GraphQL over HTTP spec), answered with the array of their answers, in order.

Each operation runs exactly as if it had been sent alone — the response cache, persisted
queries, its own cost budget, the caller's role — except that it cannot be conditional
(`If-None-Match` is dropped) and the array is never cached. Before anything runs:

- the body must be an array of 1 to `PLANAPI_MAX_BATCH` objects (0: batches are refused);
- the caller's rate limit is charged one request per operation (the door took one for the
  HTTP request): without enough left, the whole batch is refused with `429` and nothing runs.

One status for the whole array: `200` when at least one operation ran (each element then
carries its own `errors`, as a lone request's body would); when none ran, the first
operation's status (e.g. `400` for documents refused before execution). docs/graphql-over-http.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from planapi.api.runtime.http_protocol import RequestRefused

Single = Callable[[Scope, Receive, Send], Awaitable[None]]
# Take `n` more requests from the caller's bucket: None when allowed, else seconds to wait.
Charge = Callable[[Scope, int], float | None]


@dataclass(frozen=True, slots=True)
class Batching:
    max_operations: int = 10
    charge: Charge | None = None


def is_batch(raw: bytes) -> bool:
    return raw.lstrip()[:1] == b"["


def operations(raw: bytes, batching: Batching) -> list[Mapping[str, Any]]:
    """The batch's requests, or a refusal saying what is wrong with it."""
    if batching.max_operations == 0:
        raise RequestRefused(
            400, "batched requests are turned off here (PLANAPI_MAX_BATCH=0): send one object"
        )
    try:
        found = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise RequestRefused(400, f"Unable to parse request body as JSON ({error})") from error
    if not isinstance(found, list) or not found:
        raise RequestRefused(400, "a batch is a non-empty JSON array of GraphQL requests")
    if len(found) > batching.max_operations:
        raise RequestRefused(
            400,
            f"a batch may hold at most {batching.max_operations} operations "
            f"(PLANAPI_MAX_BATCH); this one has {len(found)}: split it",
            "BATCH_TOO_LARGE",
        )
    wrong = [index for index, item in enumerate(found) if not isinstance(item, dict)]
    if wrong:
        raise RequestRefused(400, f"batch items {wrong} are not GraphQL request objects")
    return found


async def run_batch(
    single: Single, scope: Scope, raw: bytes, send: Send, batching: Batching, media: str
) -> None:
    requests = operations(raw, batching)
    if batching.charge is not None and len(requests) > 1:
        wait = batching.charge(scope, len(requests) - 1)
        if wait is not None:
            seconds = str(max(1, int(wait + 0.999)))
            raise RequestRefused(
                429,
                f"a batch of {len(requests)} counts as {len(requests)} requests against the "
                f"rate limit; retry after {seconds} s",
                "RATE_LIMITED",
                [(b"retry-after", seconds.encode())],
            )
    answers: list[tuple[int, Any]] = []
    for request in requests:
        answers.append(await _one(single, scope, orjson.dumps(request)))
    statuses = [status for status, _ in answers]
    status = 200 if 200 in statuses else statuses[0]
    body = orjson.dumps([answer for _, answer in answers])
    headers = [
        (b"content-type", media.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _one(single: Single, scope: Scope, body: bytes) -> tuple[int, Any]:
    """One operation through the view as a lone POST would go; its status and parsed body."""
    headers = [
        (name, value)
        for name, value in scope.get("headers", ())
        if name not in (b"content-length", b"if-none-match")
    ]
    headers.append((b"content-length", str(len(body)).encode()))
    sub_scope = {**scope, "headers": headers}
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return pending.pop() if pending else {"type": "http.disconnect"}

    status, chunks = 500, []

    async def capture(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await single(sub_scope, receive, capture)
    try:
        return status, orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError:
        return status, {"errors": [{"message": "this operation had no JSON answer"}]}
