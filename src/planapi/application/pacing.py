"""Long checks share the event loop: work a short slice, then let every waiting request run.

A verification re-hashes hundreds of thousands of rows on the event loop thread. Handing it to a
thread would not help on a small machine (hashing and decoding hold the GIL), so it paces
itself instead: after each slice of CPU work it yields, and whatever became ready meanwhile (an
answer from the database, a new request) runs before the next slice.
"""

from __future__ import annotations

import asyncio
import time

# Longest stretch of work between two yields: what a verification may add to another request's
# latency per step that request waits on the loop.
SLICE_SECONDS = 0.002


class Pacer:
    def __init__(self, slice_seconds: float = SLICE_SECONDS) -> None:
        self.slice = slice_seconds
        self._since = time.perf_counter()

    async def tick(self) -> None:
        """Call once per unit of work (a row): yields when the slice is used up."""
        if time.perf_counter() - self._since >= self.slice:
            await asyncio.sleep(0)
            self._since = time.perf_counter()
