"""A served GraphQL request leaves nothing for the collector: its context, loaders and executor
are freed when it ends, by reference counting alone.

The server collects rarely (high thresholds, its start-up heap frozen: entrypoints/asgi.py), so
anything a request leaves in a reference cycle lives on for minutes, and what a young collection
promotes waits for a full one: the soak's resident memory grew with it (docs/performance.md,
"The soak"). Each kind of request here runs with the collector off; then a collection that
keeps what it finds (`DEBUG_SAVEALL`) must find none of a request's own objects.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from planapi.api.runtime.execution import FastExecutionContext
from planapi.api.types.context import Context
from tests.e2e.conftest import GraphQL

REQUESTS = 10


@contextmanager
def garbage_kept() -> Iterator[list[object]]:
    """What the collector would have freed from the requests run inside (the collector off
    meanwhile), handed over for inspection."""
    gc.collect()
    found: list[object] = []
    gc.disable()
    try:
        yield found
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found += gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def _requests_own(garbage: list[object]) -> dict[str, int]:
    """The request's own objects among `garbage`, counted by type."""
    owned = (Context, FastExecutionContext)
    counts: dict[str, int] = {}
    for item in garbage:
        if isinstance(item, owned) or type(item).__module__.startswith("strawberry.dataloader"):
            counts[type(item).__name__] = counts.get(type(item).__name__, 0) + 1
    return counts


async def _each(action: Callable[[], Awaitable[Any]]) -> dict[str, int]:
    await action()  # documents parsed, plans compiled: what later requests share
    with garbage_kept() as garbage:
        for _ in range(REQUESTS):
            await action()
    return _requests_own(garbage)


async def test_queries_and_mutations_leave_no_cycles_behind(
    graphql: GraphQL, baku: str, amend: Callable[..., Awaitable[dict[str, Any]]]
) -> None:
    version = 1

    async def amendment() -> None:
        nonlocal version
        changed = {"updateNode": {"id": "priority-affordable-connectivity", "title": f"T{version}"}}
        found = await amend(baku, version, changed)
        assert found["__typename"] == "AmendmentApplied", found
        version = found["plan"]["version"]

    async def latest_tree() -> None:  # executed: each amendment moved the latest version
        await amendment()
        body = await graphql(
            "query Tree($id: ID!) { plan(id: $id) { version priorities { title "
            "outcomes { kpis { code title latest { value } progress { onTrack } } } } } }",
            id=baku,
        )
        assert body["data"]["plan"]["version"] == version, body

    assert await _each(amendment) == {}
    assert await _each(latest_tree) == {}
