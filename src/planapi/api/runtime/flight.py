"""Single flight for response-cache misses: one execution per cache key at a time, per process.

When an answer is dropped (an amendment moves a plan's version, a readings batch its readings
head), every client reading it misses at once; without this each would execute the same query.
The first miss for a key leads: it executes and, when its answer is one the cache keeps (no
errors), hands that entry to the requests that missed the same key meanwhile — they send it as
a hit would (same body, same ETag and headers). The key holds the role and the versions/heads
the answer read (taken after `PlanAPI-Consistent-With` caught up), so no request joins an
execution for another role or for an older state than the one it asked for.

A leader that fails, answers with errors, or is cancelled (its client went away) hands over
nothing: its followers look again (`Flights.join`), and the first of them to find no
answer and no new leader leads the rest. A follower that goes away leaves the leader
running (it waits through `asyncio.shield`). A follower waits at most FOLLOW_SECONDS, then
executes on its own too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

FOLLOW_SECONDS = 30.0


@dataclass(slots=True)
class FlightStats:
    led: int = 0  # misses executed while others could join
    coalesced: int = 0  # misses answered by another request's execution
    fell_back: int = 0  # followers that executed on their own (leader failed, gone, or slow)


class Flight(Generic[V]):
    """The leader's handle: `land(entry)` shares its answer with whoever waits."""

    __slots__ = ("_future",)

    def __init__(self, future: asyncio.Future[V | None]) -> None:
        self._future = future

    def land(self, entry: V | None) -> None:
        if not self._future.done():
            self._future.set_result(entry)


class Flights(Generic[K, V]):
    def __init__(self, follow_seconds: float = FOLLOW_SECONDS) -> None:
        self.follow_seconds = follow_seconds
        self.stats = FlightStats()
        self._running: dict[K, asyncio.Future[V | None]] = {}

    def running(self, key: K) -> asyncio.Future[V | None] | None:
        return self._running.get(key)

    @contextmanager
    def leading(self, key: K) -> Iterator[Flight[V]]:
        """Be the execution for `key` until the block ends; an answer not landed by then
        (an exception, a cancellation, errors) sends the followers off on their own."""
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        self.stats.led += 1
        try:
            yield Flight(future)
        finally:
            if self._running.get(key) is future:
                del self._running[key]
            if not future.done():
                future.set_result(None)

    async def join(self, key: K, kept: Callable[[], V | None]) -> V | None:
        """The answer of an execution of `key` under way, or None: lead one. Followers whose
        leader handed over nothing look again — in the cache (`kept`), then for a new leader —
        so the first of them to lead takes the others along instead of each executing on its
        own at once; one retry, so a key whose executions keep failing costs a request at most
        two waits. Each follower is counted once: coalesced, or fell back."""
        running = self.running(key)
        if running is None:
            return None
        for _ in range(2):
            shared = await self.follow(running)
            if shared is None:
                shared = kept()  # the follower that led again may have finished already
            if shared is not None:
                self.stats.coalesced += 1
                return shared
            again = self.running(key)
            if again is None or again is running:
                break
            running = again
        self.stats.fell_back += 1
        return None

    async def follow(self, future: asyncio.Future[V | None]) -> V | None:
        """The leader's answer, or None (it handed over nothing, or took too long)."""
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.follow_seconds)
        except TimeoutError:
            return None

    def __len__(self) -> int:
        return len(self._running)
