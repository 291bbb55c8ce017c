"""Feeds and live updates: the logs read in global order, and the notifier of commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from planapi.domain.readings import Reading

if TYPE_CHECKING:  # the use cases' own value types; they import this module at run time
    pass


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One row of the log exactly as stored, for mirrors: `data` and `meta` are the stored JSON
    text (the bytes the hash chain covers), not upcast, so a mirror can re-verify the chain."""

    position: int
    stream_id: str
    version: int
    type: str
    schema_version: int
    recorded_at: dt.datetime
    data: str
    meta: str
    prev_hash: bytes
    hash: bytes


class EventLog(Protocol):
    """The log read across streams, for feeds and subscriptions."""

    async def read_stored(self, after_position: int, limit: int) -> list[StoredEvent]:
        """Up to `limit` rows after `after_position` in global order, with the guarantee of
        `EventStore.read_all`: never passing an event that has yet to commit."""

    async def version_at_position(self, stream_id: str, position: int) -> int:
        """The stream's latest version stored at or before `position`; 0 if none."""


@dataclass(frozen=True, slots=True)
class RecordedBatch:
    """One accepted batch of readings, with those of its readings a reader asked about."""

    batch_id: int
    plan_id: str
    actor: str
    recorded_at: dt.datetime
    stored: int
    duplicates: int
    readings: tuple[Reading, ...]


class ReadingLog(Protocol):
    """Batches of readings in the order they were recorded, for subscriptions."""

    async def last_batch_id(self) -> int:
        """0 before the first batch."""

    async def batches_after(
        self, after_batch_id: int, limit: int, kpi_ids: Sequence[str]
    ) -> list[RecordedBatch]:
        """Up to `limit` batches after `after_batch_id`, oldest first, each with its readings of
        `kpi_ids` (possibly none)."""


class NotifierClosedError(Exception):
    """The notifier shut down: live subscriptions end."""


class Wakeups(Protocol):
    async def wait(self, seconds: float) -> bool:
        """Return True once something was published on the topic since the previous wait
        (or since listening began), False after `seconds` without; raise
        NotifierClosedError when the notifier closes."""


class Notifier(Protocol):
    """Wakes subscribers, in this process and every other one, when a writer committed.

    A notification is a hint carrying only a position: subscribers read what is new from the
    tables, so a lost notification delays an update (until the next poll) but never loses it."""

    def publish(self, topic: str, position: int) -> None:
        """Announce that `position` was committed on `topic`; never blocks the writer."""

    def listen(self, topic: str) -> AbstractAsyncContextManager[Wakeups]:
        """Wake-ups for `topic` while the context is open."""

    async def start(self) -> None: ...

    async def close(self) -> None:
        """Stop listening; every open `listen` raises NotifierClosedError from `wait`."""
