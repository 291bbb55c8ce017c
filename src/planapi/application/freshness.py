"""What a query's answer depends on when it does not name explicit past versions: the heads.

Every change a query can observe is a new row in one of two append-only logs: a plan version in
`events` (its position) or a batch of readings in `reading_batches` (its id). Both are assigned in
commit order (appends take a lock before their position, batches are written one after another),
so the pair of the highest committed position and batch id names the data a reader sees: equal
heads, equal answers. One indexed lookup per request (`max` of two primary keys).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from planapi.application.ports import HeadsSource


@dataclass(frozen=True, slots=True)
class Heads:
    last_position: int  # of the event log; 0 when empty
    last_batch_id: int  # of the readings; 0 before the first batch

    @property
    def token(self) -> str:
        return f"{self.last_position}.{self.last_batch_id}"


class CoalescedHeads:
    """Shares one lookup between the requests that asked for the heads before it started.

    A request never joins a lookup already under way: one begun before the request arrived
    could miss a write the client saw committed just before it asked (read-your-writes).
    Requests that arrive while a lookup runs wait for the next one, which starts when the
    running one ends."""

    def __init__(self, source: HeadsSource) -> None:
        self.source = source
        self.lookups = 0
        self._pending: asyncio.Future[Heads] | None = None
        self._running = False

    async def heads(self) -> Heads:
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

    async def _lookup(self, future: asyncio.Future[Heads]) -> None:
        self.lookups += 1
        try:
            found = await self.source.heads()
        except BaseException as error:
            if not future.done():
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
