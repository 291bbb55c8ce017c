"""What a query's answer depends on when it does not name explicit past versions: the heads.

Every change a query can observe is a new row in one of two append-only logs: a plan version in
`events` (its position) or a batch of readings in `reading_batches` (its id). Both are assigned in
commit order (appends take a lock before their position, batches are written one after another),
so the pair of the highest committed position and batch id names the data a reader sees: equal
heads, equal answers. `application.heads_tracker` keeps them in memory, per plan too.

The same pair is the *consistency token* a writer's answer hands the client
(`<position>.<batchId>`): a server given it never answers from an older state.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from planapi.application.ports import HeadsSource

T = TypeVar("T")
_TOKEN = re.compile(r"(\d{1,18})\.(\d{1,18})")


@dataclass(frozen=True, slots=True)
class Heads:
    last_position: int  # of the event log; 0 when empty
    last_batch_id: int  # of the readings; 0 before the first batch

    @property
    def token(self) -> str:
        return f"{self.last_position}.{self.last_batch_id}"

    def covers(self, other: Heads) -> bool:
        return (
            self.last_position >= other.last_position and self.last_batch_id >= other.last_batch_id
        )

    def join(self, other: Heads) -> Heads:
        """The higher of each head."""
        if self.covers(other):
            return self
        return Heads(
            max(self.last_position, other.last_position),
            max(self.last_batch_id, other.last_batch_id),
        )


def version_token(position: int) -> str:
    """The consistency token of a plan version written at `position`."""
    return Heads(position, 0).token


def batch_token(batch_id: int) -> str:
    """The consistency token of a batch of readings."""
    return Heads(0, batch_id).token


class BadTokenError(ValueError):
    """A consistency token that is not `<position>.<batchId>`."""


def parse_tokens(given: Iterable[str]) -> Heads:
    """Consistency tokens (`<position>.<batchId>`, any number, comma-separated or not) as the
    heads a reader must have seen: the higher of each part."""
    found = Heads(0, 0)
    for part in (piece.strip() for text in given for piece in text.split(",")):
        if not part:
            continue
        matched = _TOKEN.fullmatch(part)
        if matched is None:
            raise BadTokenError(part)
        found = found.join(Heads(int(matched[1]), int(matched[2])))
    return found


class Coalesced(Generic[T]):
    """Shares one run of `fetch` between the callers that asked before it started.

    A caller never joins a run already under way: one begun before the caller arrived could
    miss a write the client saw committed just before it asked (read-your-writes). Callers that
    arrive while a run is under way wait for the next one, which starts when the running one
    ends."""

    def __init__(self, fetch: Callable[[], Awaitable[T]]) -> None:
        self.fetch = fetch
        self.lookups = 0
        self._pending: asyncio.Future[T] | None = None
        self._running = False

    async def __call__(self) -> T:
        if self._pending is None:
            self._pending = asyncio.get_running_loop().create_future()
            if not self._running:
                asyncio.get_running_loop().call_soon(self._start)
        return await asyncio.shield(self._pending)

    def _start(self) -> None:
        future, self._pending = self._pending, None
        if future is None:
            return
        self._running = True
        task = asyncio.ensure_future(self._lookup(future))
        task.add_done_callback(lambda _: self._finished())

    async def _lookup(self, future: asyncio.Future[T]) -> None:
        self.lookups += 1
        try:
            found = await self.fetch()
        except BaseException as error:
            if not future.done():
                if isinstance(error, asyncio.CancelledError):
                    future.cancel()  # waiters see a cancellation; none left: nothing to report
                else:
                    future.set_exception(error)
            if not isinstance(error, Exception):
                raise
        else:
            if not future.done():
                future.set_result(found)

    def _finished(self) -> None:
        self._running = False
        if self._pending is not None:
            self._start()


class CoalescedHeads(Coalesced[Heads]):
    """The heads from the database, one lookup shared by the requests that asked before it."""

    def __init__(self, source: HeadsSource) -> None:
        super().__init__(source.heads)
        self.source = source

    async def heads(self) -> Heads:
        return await self()
