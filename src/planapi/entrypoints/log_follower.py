"""The log follower inside `planapi serve`: keeps the Merkle trees caught up and signs
checkpoints when due. Every process runs one; the signer lock lets one of them work at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from planapi.application.transparency import Transparency

log = logging.getLogger("planapi.log")


async def _follow(transparency: Transparency, interval: float) -> None:
    while True:
        try:
            for checkpoint in await transparency.round():
                log.info("signed checkpoint %s/%s", checkpoint.log, checkpoint.tree_size)
        except Exception:  # a failed round is retried; the trees never hold a partial one
            log.exception("log follower round failed")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def following(transparency: Transparency | None, interval: float) -> AsyncIterator[None]:
    if transparency is None or interval <= 0:
        yield
        return
    task = asyncio.create_task(_follow(transparency, interval), name="log-follower")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
