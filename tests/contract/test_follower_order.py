"""A follower reading the log by position never skips an event that commits late."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import pytest

from planapi.adapters.event_store import SqlEventStore
from planapi.application.ports import Recorded
from tests.contract.builders import created, info

# Another client of the same server may hold a transaction open for a moment, which holds the
# follower's watermark back too; give committed events this long to become readable.
SETTLE_SECONDS = 10.0


@dataclass
class Writer:
    """One appending transaction whose commit the test releases when it chooses."""

    store: SqlEventStore
    stream_id: str
    appended: asyncio.Event = field(default_factory=asyncio.Event)
    may_commit: asyncio.Event = field(default_factory=asyncio.Event)
    recorded: Recorded | None = None

    async def run(self) -> Recorded:
        async with self.store.transaction() as conn:
            self.recorded = await self.store.append_in(
                conn, self.stream_id, 0, created(self.stream_id.removeprefix("plan:")), info()
            )
            self.appended.set()
            await self.may_commit.wait()
        return self.recorded


async def _follow(store: SqlEventStore, cursor: int, count: int) -> list[Recorded]:
    """What a follower at `cursor` is handed, page by page, until `count` events or time out."""
    delivered: list[Recorded] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SETTLE_SECONDS):
            while len(delivered) < count:
                page = await store.read_all(cursor, 100)
                delivered += page
                cursor = page[-1].position if page else cursor
                await asyncio.sleep(0 if page else 0.05)
    return delivered


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite has a single writer: positions become visible in order")


@pytest.mark.usefixtures("postgres_only")
async def test_a_follower_does_not_pass_an_earlier_position_that_is_still_uncommitted(
    event_store: SqlEventStore,
) -> None:
    first, second = Writer(event_store, "plan:first"), Writer(event_store, "plan:second")
    first_task = asyncio.create_task(first.run())
    try:
        await first.appended.wait()
        second_task = asyncio.create_task(second.run())
        await second.appended.wait()
        assert first.recorded is not None
        assert second.recorded is not None
        assert first.recorded.position < second.recorded.position

        second.may_commit.set()
        await second_task  # the later position is committed, the earlier one is not
        seen_early = await event_store.read_all(0, 100)

        first.may_commit.set()
        await first_task
        seen_later = await _follow(event_store, 0, 2)
    finally:
        first.may_commit.set()
        second.may_commit.set()
        await asyncio.gather(first_task, return_exceptions=True)

    assert second.recorded.position not in [r.position for r in seen_early]
    assert seen_early == []
    assert [r.stream_id for r in seen_later] == ["plan:first", "plan:second"]
    assert [r.position for r in seen_later] == [first.recorded.position, second.recorded.position]


@pytest.mark.usefixtures("postgres_only")
async def test_a_follower_reading_on_from_its_cursor_gets_every_event_exactly_once(
    event_store: SqlEventStore,
) -> None:
    await event_store.append("plan:before", 0, created("before"), info())
    (already,) = await _follow(event_store, 0, 1)
    cursor = already.position
    first, second = Writer(event_store, "plan:first"), Writer(event_store, "plan:second")
    first_task = asyncio.create_task(first.run())
    try:
        await first.appended.wait()
        second_task = asyncio.create_task(second.run())
        await second.appended.wait()

        second.may_commit.set()
        await second_task
        delivered = list(await event_store.read_all(cursor, 100))
        if delivered:
            cursor = delivered[-1].position
        first.may_commit.set()
        await first_task
        delivered += await _follow(event_store, cursor, 2 - len(delivered))
    finally:
        first.may_commit.set()
        second.may_commit.set()
        await asyncio.gather(first_task, return_exceptions=True)

    assert [r.stream_id for r in delivered] == ["plan:first", "plan:second"]
