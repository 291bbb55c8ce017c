"""The event feed: `Query.events` and `GET /events` (NDJSON), the log in global order.

Both hand out events as stored — `data` and `meta` are the JSON the hash chain covers, in the
event type's `schemaVersion` (not upcast) — so a mirror can replay them and re-verify the chain.
A follower asks again `after` the last position it received; an event that commits late (after
a higher position) is never passed: it is held back until every earlier one has committed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import msgspec
import strawberry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from strawberry.scalars import JSON

from planapi.api.context import Context
from planapi.api.errors import bad_input
from planapi.api.naming import render_path
from planapi.application.feed import EventFeed, plan_id_of
from planapi.application.ports import StoredEvent
from planapi.domain.errors import PlanApiError, Problem, ValidationError

DEFAULT_STREAM = 1_000
NDJSON = "application/x-ndjson"


def _timestamp(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat(timespec="microseconds")


@strawberry.type(description="One event of the log, exactly as stored.")
class FeedEvent:
    stored: strawberry.Private[StoredEvent]

    @strawberry.field(description="Its place in the global order: ask `after` it for the next.")
    def position(self) -> int:
        return self.stored.position

    @strawberry.field
    def stream_id(self) -> str:
        return self.stored.stream_id

    @strawberry.field(description="The plan whose stream it belongs to.")
    def plan_id(self) -> strawberry.ID | None:
        found = plan_id_of(self.stored.stream_id)
        return strawberry.ID(found) if found is not None else None

    @strawberry.field(description="The version of its stream (of its plan) it made.")
    def version(self) -> int:
        return self.stored.version

    @strawberry.field(description="PlanCreated or PlanAmended.")
    def type(self) -> str:
        return self.stored.type

    @strawberry.field(description="The shape `data` was written in.")
    def schema_version(self) -> int:
        return self.stored.schema_version

    @strawberry.field
    def recorded_at(self) -> dt.datetime:
        return self.stored.recorded_at

    @strawberry.field(description="The payload as stored.")
    def data(self) -> JSON:
        return cast(JSON, msgspec.json.decode(self.stored.data))

    @strawberry.field(description="Who, on what authority, why: as stored.")
    def meta(self) -> JSON:
        return cast(JSON, msgspec.json.decode(self.stored.meta))

    @strawberry.field(description="The hash of the stream's previous version, hex.")
    def prev_hash(self) -> str:
        return self.stored.prev_hash.hex()

    @strawberry.field(description="SHA-256 chain head after this event, hex.")
    def hash(self) -> str:
        return self.stored.hash.hex()


@strawberry.type(description="Events in global order.")
class EventPage:
    items: list[FeedEvent]
    end_position: int = strawberry.field(
        description="Ask `after` this next: the last item's position (or `after` when empty)."
    )
    has_more: bool = strawberry.field(description="More events are readable right now.")


def _feed(context: Context) -> EventFeed:
    if context.feed is None:
        raise RuntimeError("the event feed is not wired into this context")
    return context.feed


async def events_page(
    info: strawberry.Info[Context, None],
    after: int = 0,
    first: int = 100,
) -> EventPage:
    """The log across every plan, in global order, `first` events after position `after`."""
    try:
        page = await _feed(info.context).page(after, first)
    except PlanApiError as error:
        raise bad_input(error) from error
    return EventPage(
        items=[FeedEvent(stored=item) for item in page.items],
        end_position=page.end_position,
        has_more=page.has_more,
    )


# -- GET /events ---------------------------------------------------------------------------
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
