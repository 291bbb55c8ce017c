"""Live updates: what subscribers receive, and the writers' announcements that wake them.

A subscriber states the last position (plan events) or batch id (readings) it saw. It first
receives what it missed, read from the tables, then waits for a wake-up and reads again from
where it stopped. Notifications only say "something was committed": the tables are the truth,
so a dropped notification costs latency (until the next poll), never an event.

Writers announce through the `Notifier` port *after* the store returned, i.e. after the commit:
the application, not the storage adapter, does it (by wrapping the stores in bootstrap), so every
path that writes — GraphQL, /ingest, seeding — announces without the adapters knowing about
subscribers, and the hot append stays one statement with no NOTIFY inside the transaction
(PostgreSQL serialises committing transactions that NOTIFY on a global queue lock).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from planapi.application.plans import stream_of
from planapi.application.ports import (
    BatchOutcome,
    CommandKey,
    EventLog,
    EventStore,
    Notifier,
    NotifierClosedError,
    ReadingLog,
    ReadingStore,
    Recorded,
    RecordedBatch,
)
from planapi.domain.errors import PlanNotFoundError, Problem, ValidationError
from planapi.domain.events import AmendmentInfo, PlanEvent
from planapi.domain.readings import BatchCheck

# Also the PostgreSQL channel names: NOTIFY planapi_events, '<position>'.
PLAN_EVENTS = "planapi_events"
READING_BATCHES = "planapi_readings"

POLL_SECONDS = 3.0  # the safety net: read again this often even without a wake-up
PAGE = 100
MAX_KPIS = 100


class NotifyingEventStore:
    """An EventStore that announces each committed append on PLAN_EVENTS.

    Every other method is the wrapped store's own (delegated as is)."""

    def __init__(self, inner: EventStore, notifier: Notifier) -> None:
        self.inner = inner
        self.notifier = notifier

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        event: PlanEvent,
        info: AmendmentInfo,
        previous: Recorded | None = None,
        command: CommandKey | None = None,
    ) -> Recorded:
        recorded = await self.inner.append(
            stream_id, expected_version, event, info, previous, command
        )
        self.notifier.publish(PLAN_EVENTS, recorded.position)
        return recorded

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class NotifyingReadingStore:
    """A ReadingStore that announces each newly recorded batch on READING_BATCHES."""

    def __init__(self, inner: ReadingStore, notifier: Notifier) -> None:
        self.inner = inner
        self.notifier = notifier

    async def record(
        self,
        plan_id: str,
        actor: str,
        idempotency_key: str | None,
        readings: BatchCheck,
    ) -> BatchOutcome:
        outcome = await self.inner.record(plan_id, actor, idempotency_key, readings)
        if not outcome.replayed:
            self.notifier.publish(READING_BATCHES, outcome.batch_id)
        return outcome

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class LiveUpdates:
    def __init__(
        self,
        events: EventStore,
        log: EventLog,
        readings: ReadingLog,
        notifier: Notifier,
        *,
        poll_seconds: float = POLL_SECONDS,
        page: int = PAGE,
    ) -> None:
        self.events = events
        self.log = log
        self.readings = readings
        self.notifier = notifier
        self.poll_seconds = poll_seconds
        self.page = page

    async def plan_amendments(
        self, plan_id: str, after: int | None
    ) -> AsyncGenerator[Recorded, None]:
        """The plan's versions stored after position `after` (None: from now on), oldest
        first, then each new one as it commits. Ends when the notifier closes."""
        _check_after(after, "after")
        stream = stream_of(plan_id)
        # Listen before the first read: a commit between the read and the wait still wakes us.
        async with self.notifier.listen(PLAN_EVENTS) as wakeups:
            latest = await self.events.latest_version(stream)
            if latest == 0:
                raise PlanNotFoundError(plan_id)
            # Within one stream positions grow with versions: version N+1 is only written once
            # N has committed. So the stream can be followed by version, through its index.
            if after is None:
                version = latest
            else:
                version = await self.log.version_at_position(stream, after)
            while True:
                found = await self.events.read(stream, version, version + self.page)
                for recorded in found:
                    yield recorded
                    version = recorded.version
                if len(found) == self.page:
                    continue
                try:
                    await wakeups.wait(self.poll_seconds)
                except NotifierClosedError:
                    return

    async def reading_batches(
        self, kpi_ids: Sequence[str], after: int | None, plan_id: str | None = None
    ) -> AsyncGenerator[RecordedBatch, None]:
        """Batches recorded after batch `after` (None: from now on) that hold readings of
        `kpi_ids` (of `plan_id` only, when given), each with just those readings."""
        _check_after(after, "after")
        wanted = list(dict.fromkeys(kpi_ids))
        if not 1 <= len(wanted) <= MAX_KPIS:
            raise ValidationError([Problem(("kpiIds",), f"give 1 to {MAX_KPIS} KPI ids")])
        async with self.notifier.listen(READING_BATCHES) as wakeups:
            cursor = await self.readings.last_batch_id() if after is None else after
            while True:
                found = await self.readings.batches_after(cursor, self.page, wanted)
                for batch in found:
                    cursor = batch.batch_id
                    if batch.readings and plan_id in (None, batch.plan_id):
                        yield batch
                if len(found) == self.page:
                    continue
                try:
                    await wakeups.wait(self.poll_seconds)
                except NotifierClosedError:
                    return


def _check_after(after: int | None, name: str) -> None:
    if after is not None and after < 0:
        raise ValidationError([Problem((name,), "give 0 or more")])
