"""Long checks share the event loop: work a short slice, then let every waiting request run.

A verification re-hashes hundreds of thousands of rows on the event loop thread. Handing it to a
thread would not help on a small machine (hashing and decoding hold the GIL), so it paces
itself instead: after each slice of CPU work it yields, and whatever became ready meanwhile (an
answer from the database, a new request) runs before the next slice. A request needs several
turns of the loop, though, one slice apart: so when the yield shows that others are busy (it
came back late), the check steps aside for another slice of wall time, in which they can take
as many turns as they need. Alone, it runs at full speed; beside other work, at about half.
"""

from __future__ import annotations

import asyncio
import time

# Longest stretch of work between two yields: what a verification may add to another request's
# latency per step that request waits on the loop.
SLICE_SECONDS = 0.002
# A yield that takes longer than this means other work ran meanwhile.
_BUSY_SECONDS = 0.0002


class Pacer:
    def __init__(self, slice_seconds: float = SLICE_SECONDS) -> None:
        self.slice = slice_seconds
        self._since = time.perf_counter()

    async def tick(self) -> None:
        """Call once per unit of work (a row): yields when the slice is used up."""
        if time.perf_counter() - self._since >= self.slice:
            before = time.perf_counter()
            await asyncio.sleep(0)
            if time.perf_counter() - before > _BUSY_SECONDS:
                await asyncio.sleep(self.slice)  # others are busy: let them finish a step
            self._since = time.perf_counter()
