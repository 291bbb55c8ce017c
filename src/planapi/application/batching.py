"""Batching concurrent look-ups into one: what a DataLoader does, without a framework.

Resolvers of sibling fields (the history of every node of a tree, say) run concurrently and
each asks for its own key; `Batcher.load` collects the keys asked for within one turn of the
event loop, per group (a plan and a version), and answers them all with one `load_many` call.
Nothing is cached: each load is answered by a batch that started after it was asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

G = TypeVar("G", bound=Hashable)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Batcher(Generic[G, K, V]):
    def __init__(self, load_many: Callable[[G, list[K]], Awaitable[dict[K, V]]]) -> None:
        self.load_many = load_many
        self.batches = 0
        self._pending: dict[G, dict[K, asyncio.Future[V]]] = {}
        self._running: set[asyncio.Task[None]] = set()

    async def load(self, group: G, key: K) -> V:
        waiting = self._pending.get(group)
        if waiting is None:
            waiting = self._pending[group] = {}
            asyncio.get_running_loop().call_soon(self._dispatch, group)
        future = waiting.get(key)
        if future is None:
            future = waiting[key] = asyncio.get_running_loop().create_future()
        return await asyncio.shield(future)

    def _dispatch(self, group: G) -> None:
        waiting = self._pending.pop(group, None)
        if waiting:
            task = asyncio.ensure_future(self._run(group, waiting))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, group: G, waiting: dict[K, asyncio.Future[V]]) -> None:
        self.batches += 1
        try:
            found = await self.load_many(group, list(waiting))
        except Exception as error:
            for future in waiting.values():
                if not future.done():
                    future.set_exception(error)
            return
        for key, future in waiting.items():
            if future.done():
                continue
            if key in found:
                future.set_result(found[key])
            else:
                future.set_exception(KeyError(key))
