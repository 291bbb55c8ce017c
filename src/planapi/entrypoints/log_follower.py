"""The log follower inside `planapi serve`: keeps the Merkle trees caught up and signs
checkpoints when due. Every process runs one; the signer lock lets one of them work at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from planapi.adapters.failures import as_unavailable
from planapi.application.transparency import Transparency

log = logging.getLogger("planapi.log")


async def _follow(transparency: Transparency, interval: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            for checkpoint in await transparency.round():
                log.info("signed checkpoint %s/%s", checkpoint.log, checkpoint.tree_size)
        except Exception as error:  # a failed round is retried; the trees never hold a partial one
            unavailable = as_unavailable(error)
            if unavailable is None:
                log.exception("log follower round failed")
            else:  # an outage, not a fault: one line, as requests report it
                log.warning("log follower round: the database is unavailable (%s)", unavailable)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


@contextlib.asynccontextmanager
async def following(transparency: Transparency | None, interval: float) -> AsyncIterator[None]:
    if transparency is None or interval <= 0:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(_follow(transparency, interval, stop), name="log-follower")
    try:
        yield
    finally:
        # A round in flight finishes (its connection goes back closed or to the pool) rather
        # than being cancelled halfway through a transaction; one stuck is cancelled after 5 s.
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, 5)
