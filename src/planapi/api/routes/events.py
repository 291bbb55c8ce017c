"""GET /events (NDJSON): the event log in global order for followers without GraphQL.

Events go out as stored — `data` and `meta` are the JSON the hash chain covers, in the event
type's `schemaVersion` (not upcast) — so a mirror can replay them and re-verify the chain. A
follower asks again `after` the last position it received; an event that commits late (after a
higher position) is never passed: it is held back until every earlier one has committed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from planapi.api.types.naming import render_path
from planapi.application.feed import EventFeed, plan_id_of
from planapi.application.ports import StoredEvent
from planapi.domain.errors import Problem, ValidationError

DEFAULT_STREAM = 1_000
NDJSON = "application/x-ndjson"


def _timestamp(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat(timespec="microseconds")


def ndjson_line(event: StoredEvent) -> bytes:
    """One line; the stored JSON text is spliced in as it is (compact, no newlines)."""
    head = json.dumps(
        {
            "position": event.position,
            "streamId": event.stream_id,
            "planId": plan_id_of(event.stream_id),
            "version": event.version,
            "type": event.type,
            "schemaVersion": event.schema_version,
            "recordedAt": _timestamp(event.recorded_at),
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return (
        f'{head[:-1]},"data":{event.data},"meta":{event.meta},'
        f'"prevHash":"{event.prev_hash.hex()}","hash":"{event.hash.hex()}"}}\n'
    ).encode()


def _integer(request: Request, name: str, default: int) -> int:
    given = request.query_params.get(name)
    if given is None or given == "":
        return default
    try:
        return int(given)
    except ValueError:
        raise ValidationError([Problem((name,), "must be an integer")]) from None


async def _lines(events: AsyncIterator[StoredEvent]) -> AsyncIterator[bytes]:
    async for event in events:
        yield ndjson_line(event)


async def _starting_with(first: bytes | None, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first is None:
        return
    yield first
    async for line in rest:
        yield line


def events_endpoint(feed: Callable[[], EventFeed]) -> Callable[[Request], Awaitable[Response]]:
    """GET /events?after=N&limit=M: up to M events after position N, one JSON object a line.
    Fewer lines than `limit` means the follower has caught up for now."""

    async def endpoint(request: Request) -> Response:
        service = feed()
        try:
            after = _integer(request, "after", 0)
            limit = _integer(request, "limit", min(DEFAULT_STREAM, service.max_stream))
            service.check_stream(after, limit)
        except ValidationError as error:
            problems: list[dict[str, Any]] = [
                {"path": render_path(p.path), "message": p.message} for p in error.problems
            ]
            message = "; ".join(f"{p['path']}: {p['message']}" for p in problems)
            return JSONResponse(
                {"error": "bad_request", "message": message, "problems": problems},
                status_code=400,
            )
        lines = _lines(service.stream(after, limit))
        # Read before answering: a database out of reach is then a 503 to retry, not a 200
        # whose stream breaks off.
        first = await anext(lines, None)
        return StreamingResponse(
            _starting_with(first, lines),
            media_type=NDJSON,
            headers={"cache-control": "no-store"},
        )

    return endpoint
