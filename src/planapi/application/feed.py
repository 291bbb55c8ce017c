"""The event feed: the whole log in global order, for integrations that mirror it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from planapi.application.plans import STREAM_PREFIX
from planapi.application.ports import EventLog, StoredEvent
from planapi.domain.errors import Problem, ValidationError

MAX_PAGE = 1_000  # GraphQL: events(first:)
MAX_STREAM = 10_000  # plain HTTP: GET /events?limit=
STREAM_CHUNK = 500  # rows per query while a long HTTP answer streams


def plan_id_of(stream_id: str) -> str | None:
    return stream_id.removeprefix(STREAM_PREFIX) if stream_id.startswith(STREAM_PREFIX) else None


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[StoredEvent]
    # The position to ask after next: the last item's, or `after` itself when there is none.
    end_position: int
    has_more: bool


class EventFeed:
    def __init__(self, log: EventLog, *, max_page: int = MAX_PAGE, max_stream: int = MAX_STREAM):
        self.log = log
        self.max_page = max_page
        self.max_stream = max_stream

    async def page(self, after: int, first: int) -> EventPage:
        """Up to `first` events after position `after`. `has_more` says more are readable
        now; an event still committing shows up in a later page, never behind the cursor."""
        _check(after, first, "first", 0, self.max_page)
        rows = await self.log.read_stored(after, first + 1)
        items = rows[:first]
        return EventPage(items, items[-1].position if items else after, len(rows) > first)

    def check_stream(self, after: int, limit: int) -> None:
        """Raise ValidationError for arguments `stream` would refuse (before a response starts)."""
        _check(after, limit, "limit", 1, self.max_stream)

    async def stream(self, after: int, limit: int) -> AsyncIterator[StoredEvent]:
        """Up to `limit` events after `after`, read a chunk at a time as they are sent. Each
        chunk continues where the previous ended, with the same guarantee as a page."""
        self.check_stream(after, limit)
        cursor, left = after, limit
        while left > 0:
            rows = await self.log.read_stored(cursor, min(left, STREAM_CHUNK))
            for row in rows:
                yield row
            if len(rows) < min(left, STREAM_CHUNK):
                return
            cursor, left = rows[-1].position, left - len(rows)


def _check(after: int, size: int, name: str, smallest: int, largest: int) -> None:
    problems = []
    if after < 0:
        problems.append(Problem(("after",), "must be 0 or more (0: from the start)"))
    if not smallest <= size <= largest:
        problems.append(Problem((name,), f"must be between {smallest} and {largest:,}"))
    if problems:
        raise ValidationError(problems)
