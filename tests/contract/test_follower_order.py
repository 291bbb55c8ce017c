"""A follower reading the log by position never skips an event that commits late."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import pytest

from planapi.adapters.event_store import SqlEventStore
from planapi.application.ports import Recorded
from tests.contract.builders import created, info

# How long a follower waits for committed events to become readable before giving up.
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
async def test_a_later_append_cannot_take_a_position_or_commit_before_an_earlier_one(
    event_store: SqlEventStore,
) -> None:
    """The two transactions try to commit in the opposite order of their positions: the second
    cannot even take a position until the first is visible, so no follower can pass it."""
    first, second = Writer(event_store, "plan:first"), Writer(event_store, "plan:second")
    first_task = asyncio.create_task(first.run())
    second_task: asyncio.Task[Recorded] | None = None
    try:
        await first.appended.wait()
        second.may_commit.set()  # the second would commit at once, before the first
        second_task = asyncio.create_task(second.run())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.5):
                await second.appended.wait()
        second_appended_early = second.appended.is_set()
        seen_early = await event_store.read_all(0, 100)

        first.may_commit.set()
        await first_task
        await second_task
        seen_later = await _follow(event_store, 0, 2)
    finally:
        first.may_commit.set()
        second.may_commit.set()
        await asyncio.gather(
            first_task, *([second_task] if second_task else []), return_exceptions=True
        )

    assert not second_appended_early, "the second append waited for the first to commit"
    assert seen_early == []
    assert first.recorded is not None
    assert second.recorded is not None
    assert first.recorded.position < second.recorded.position
    assert [r.stream_id for r in seen_later] == ["plan:first", "plan:second"]


@pytest.mark.usefixtures("postgres_only")
async def test_a_follower_reading_on_from_its_cursor_gets_every_event_exactly_once(
    event_store: SqlEventStore,
) -> None:
    await event_store.append("plan:before", 0, created("before"), info())
    (already,) = await _follow(event_store, 0, 1)
    cursor = already.position
    writers = [Writer(event_store, f"plan:w{i}") for i in range(4)]
    for writer in writers:
        writer.may_commit.set()
    tasks = [asyncio.create_task(writer.run()) for writer in writers]
    delivered: list[Recorded] = []
    while not all(task.done() for task in tasks):  # follow while they race to commit
        page = await event_store.read_all(cursor, 100)
        delivered += page
        cursor = page[-1].position if page else cursor
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    delivered += await _follow(event_store, cursor, len(writers) - len(delivered))

    positions = [r.position for r in delivered]
    assert positions == sorted(positions)
    assert sorted(r.stream_id for r in delivered) == sorted(w.stream_id for w in writers)
