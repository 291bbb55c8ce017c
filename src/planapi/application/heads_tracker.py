"""The heads of every plan, kept in memory: what "latest" means without asking the database.

For each plan: its newest version and its newest batch of readings; and the heads of the two
logs. Three things move them, never backwards:

* this process's own writes, noted synchronously after the commit and before the writer's
  answer goes out: a later read on this process never shows an older state than a write it
  answered (read-your-writes on the process that answered);
* catch-ups: one statement reading what was committed after the *synced* heads
  (`HeadsLog.changes_after`). Positions and batch ids become visible in order, so the synced
  heads always describe a whole prefix of the logs. A catch-up runs on every wake-up of the
  notifier (other processes' writes: LISTEN/NOTIFY; a re-opened listener wakes everyone, so
  what was announced while it was away is read too), on a safety poll, and when a request
  brings a consistency token the synced heads do not cover;
* nothing else: a notification is a hint to catch up, never trusted for what it says.

Staleness without a token is therefore bounded by the notification's delay plus one catch-up
(or, with the listener down, the poll). See docs/architecture.md, "Consistency".
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from dataclasses import dataclass

from planapi.application.freshness import Coalesced, Heads
from planapi.application.live import PLAN_EVENTS, READING_BATCHES
from planapi.application.plans import STREAM_PREFIX
from planapi.application.ports import HeadChanges, HeadsLog, Notifier, NotifierClosedError

log = logging.getLogger("planapi.heads")

_GENERATIONS = itertools.count(1)
POLL_SECONDS = 1.0
# Held heads older than this many polls (the database out of reach, a partition) are not
# trusted: "latest" is read from the store again, which then says it is unavailable.
STALE_POLLS = 3


@dataclass(frozen=True, slots=True)
class PlanHeads:
    version: int = 0  # 0: not known to exist
    batch_id: int = 0  # the plan's newest batch of readings; 0 before its first


UNKNOWN = PlanHeads()


class HeadsTracker:
    def __init__(
        self, log: HeadsLog, notifier: Notifier | None = None, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self.log = log
        self.notifier = notifier
        self.poll_seconds = poll_seconds
        self.ready = False  # a catch-up succeeded: what is held is the whole log's heads
        self._synced_at = 0.0  # time.monotonic() of the last catch-up that succeeded
        self.catch_ups = 0
        self._plans: dict[str, PlanHeads] = {}
        self._synced = Heads(0, 0)  # everything at or below was read from the database
        self._seen = Heads(0, 0)  # the highest heads known by any means (own writes too)
        # Changes (from a process-wide count) whenever a plan's heads or the seen heads move:
        # what was derived from them at one generation holds while it stays the same.
        self.generation = next(_GENERATIONS)
        self._catch_up: Coalesced[None] = Coalesced(self._read)
        self._tasks: list[asyncio.Task[None]] = []
        self._failing = False

    # -- reading -----------------------------------------------------------------------------
    def plan(self, plan_id: str) -> PlanHeads:
        return self._plans.get(plan_id, UNKNOWN)

    def heads(self) -> Heads:
        return self._seen

    def plans_with_readings(self) -> list[str]:
        """The plans known to have readings, the most recently recorded to first."""
        held = [(heads.batch_id, plan_id) for plan_id, heads in self._plans.items()]
        return [plan_id for batch_id, plan_id in sorted(held, reverse=True) if batch_id > 0]

    @property
    def synced(self) -> Heads:
        return self._synced

    @property
    def fresh(self) -> bool:
        """Trustworthy: caught up lately, and the last catch-up did not fail. Otherwise readers
        go to the store (staleness stays bounded even when only this process lost the
        database)."""
        age = time.monotonic() - self._synced_at
        return self.ready and not self._failing and age < STALE_POLLS * self.poll_seconds

    async def ensure(self, wanted: Heads) -> None:
        """Hold at least `wanted` (a client's consistency token): catch up once if the synced
        heads do not cover it. A catch-up joined here began after the call, so it sees every
        write committed before the client asked."""
        if not self._synced.covers(wanted):
            await self.catch_up()

    # -- moving ------------------------------------------------------------------------------
    def note_version(self, plan_id: str, version: int, position: int = 0) -> None:
        held = self._plans.get(plan_id, UNKNOWN)
        if version > held.version:
            self._plans[plan_id] = PlanHeads(version, held.batch_id)
            self.generation = next(_GENERATIONS)
        self._see(Heads(position, 0))

    def note_batch(self, plan_id: str, batch_id: int) -> None:
        held = self._plans.get(plan_id, UNKNOWN)
        if batch_id > held.batch_id:
            self._plans[plan_id] = PlanHeads(held.version, batch_id)
            self.generation = next(_GENERATIONS)
        self._see(Heads(0, batch_id))

    def _see(self, heads: Heads) -> None:
        seen = self._seen.join(heads)
        if seen is not self._seen:
            self._seen = seen
            self.generation = next(_GENERATIONS)

    async def catch_up(self) -> None:
        await self._catch_up()

    async def _read(self) -> None:
        self.catch_ups += 1
        since = self._synced
        try:
            changes = await self.log.changes_after(since.last_position, since.last_batch_id)
        except Exception:
            self._failing = True
            raise
        self._failing = False
        self._synced_at = time.monotonic()
        self._merge(changes)

    def _merge(self, changes: HeadChanges) -> None:
        for stream_id, version in changes.versions.items():
            if stream_id.startswith(STREAM_PREFIX):
                self.note_version(stream_id.removeprefix(STREAM_PREFIX), version)
        for plan_id, batch_id in changes.batches.items():
            self.note_batch(plan_id, batch_id)
        synced = Heads(changes.last_position, changes.last_batch_id)
        self._synced = self._synced.join(synced)
        self._see(self._synced)
        self.ready = True

    # -- following other processes -------------------------------------------------------------
    async def start(self) -> None:
        """Read the heads once, then follow: a catch-up on every wake-up and every poll."""
        await self._quietly()
        if self._tasks:
            return
        # One poll is enough: the readings' follower waits for wake-ups only.
        follow = (
            [(PLAN_EVENTS, self.poll_seconds), (READING_BATCHES, 3600.0)]
            if self.notifier is not None
            else [(None, self.poll_seconds)]
        )
        self._tasks = [
            asyncio.create_task(self._follow(topic, poll), name=f"planapi-heads-{topic}")
            for topic, poll in follow
        ]

    async def close(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _follow(self, topic: str | None, poll: float) -> None:
        if topic is None or self.notifier is None:
            while True:
                await asyncio.sleep(poll)
                await self._quietly()
        async with self.notifier.listen(topic) as wakeups:
            await self._quietly()  # what committed before listening began
            while True:
                try:
                    await wakeups.wait(poll)
                except NotifierClosedError:
                    return
                await self._quietly()

    async def _quietly(self) -> None:
        failing = self._failing
        try:
            await self.catch_up()
        except Exception as error:  # the database is away: the next wake-up or poll retries
            if not failing:  # once per outage, not once a second
                log.warning("catching up with the heads failed (%r); retrying", error)
        else:
            if failing:
                log.info("caught up with the heads again")
