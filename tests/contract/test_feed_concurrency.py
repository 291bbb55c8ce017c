"""Many writers, one follower: the follower sees every event exactly once, in position order.

PostgreSQL only: there, concurrent appends commit in any order and a follower reading
`position > cursor` naively would pass an event that commits after a higher position.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.clock import SystemClock
from planapi.adapters.database import create_engine
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.snapshots import SqlSnapshotStore
from planapi.adapters.tables import events
from planapi.application.plans import PlanService
from planapi.domain.changes import UpdateNode
from tests.contract.builders import amend_command, create_command

WRITERS = 8
AMENDMENTS = 30
# Another client of the server (a parallel test run) may hold a transaction open, which holds
# the follower's watermark back: the follower gets this long after the last write to catch up.
SETTLE_SECONDS = 30.0


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite has a single writer: positions become visible in order")


@pytest.fixture
async def wide_engine(database: tuple[str, dict[str, object]]) -> AsyncIterator[AsyncEngine]:
    """Room for every writer and the follower on a connection of its own."""
    url, options = database
    engine = create_engine(url, pool_size=WRITERS + 4, **options)  # type: ignore[arg-type]
    try:
        yield engine
    finally:
        await engine.dispose()


async def write_concurrently(service: PlanService) -> None:
    """WRITERS plans, each created then amended AMENDMENTS times, all plans at once."""

    async def writer(number: int) -> None:
        plan_id = f"plan-{number}"
        await service.create_plan(create_command(plan_id))
        for version in range(1, AMENDMENTS + 1):
            change = UpdateNode("intro", {"title": f"Introduction, take {version}"})
            await service.amend_plan(amend_command(plan_id, version, [change]))

    await asyncio.gather(*(writer(n) for n in range(WRITERS)))


async def follow(
    read: Callable[[int], Awaitable[list[tuple[int, str, int]]]],
    writing: asyncio.Task[None],
    expected: Callable[[], Awaitable[int]],
) -> list[tuple[int, str, int]]:
    """Poll `read(cursor)` from position 0 while the writers run, then until it has caught up
    with every stored event (or SETTLE_SECONDS passed); everything it was handed, in order."""
    seen: list[tuple[int, str, int]] = []
    cursor = 0
    while not writing.done():
        page = await read(cursor)
        seen += page
        cursor = page[-1][0] if page else cursor
        await asyncio.sleep(0 if page else 0.002)
    await writing
    total = await expected()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SETTLE_SECONDS):
            while len(seen) < total:
                page = await read(cursor)
                seen += page
                cursor = page[-1][0] if page else cursor
                await asyncio.sleep(0 if page else 0.05)
    return seen


async def stored_events(engine: AsyncEngine) -> list[tuple[int, str, int]]:
    query = select(events.c.position, events.c.stream_id, events.c.version).order_by(
        events.c.position
    )
    async with engine.connect() as conn:
        return [(p, s, v) for p, s, v in await conn.execute(query)]


def assert_exactly_once_in_order(
    seen: list[tuple[int, str, int]], stored: list[tuple[int, str, int]]
) -> None:
    positions = [position for position, _, _ in seen]
    assert len(stored) == WRITERS * (AMENDMENTS + 1)
    assert len(positions) == len(set(positions)), "an event was handed over twice"
    assert positions == sorted(positions), "positions went backwards"
    missing = sorted(set(stored) - set(seen))
    assert not missing, f"the follower never saw {len(missing)} events, first {missing[:5]}"
    assert seen == stored
    for number in range(WRITERS):
        versions = [v for _, stream, v in seen if stream == f"plan:plan-{number}"]
        assert versions == list(range(1, AMENDMENTS + 2))


@pytest.mark.usefixtures("postgres_only")
async def test_a_follower_of_read_all_sees_every_event_of_many_writers_exactly_once(
    wide_engine: AsyncEngine,
) -> None:
    clock = SystemClock()
    store = SqlEventStore(wide_engine, clock)
    service = PlanService(store, SqlSnapshotStore(wide_engine, clock), default_actor="writer")

    async def read(cursor: int) -> list[tuple[int, str, int]]:
        return [(r.position, r.stream_id, r.version) for r in await store.read_all(cursor, 50)]

    async def expected() -> int:
        return len(await stored_events(wide_engine))

    writing = asyncio.create_task(write_concurrently(service))
    try:
        seen = await follow(read, writing, expected)
    finally:
        if not writing.done():
            writing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writing

    assert_exactly_once_in_order(seen, await stored_events(wide_engine))
    # From position 0 again, in one go: the same list.
    again = await store.read_all(0, 10_000)
    assert [(r.position, r.stream_id, r.version) for r in again] == seen
