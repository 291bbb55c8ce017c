"""The event feed in GraphQL: `Query.events`, the log in global order (`GET /events` is
`api.routes.events`).

Both hand out events as stored — `data` and `meta` are the JSON the hash chain covers, in the
event type's `schemaVersion` (not upcast) — so a mirror can replay them and re-verify the chain.
A follower asks again `after` the last position it received; an event that commits late (after
a higher position) is never passed: it is held back until every earlier one has committed.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

import msgspec
import strawberry
from strawberry.scalars import JSON

from planapi.api.types.context import Context
from planapi.api.types.errors import bad_input
from planapi.application.feed import EventFeed, plan_id_of
from planapi.application.ports import StoredEvent
from planapi.domain.errors import PlanApiError


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
