"""LISTEN/NOTIFY between processes (here: two notifiers, each with its own connection, as two
server processes have), surviving a dropped connection; and the in-process notifier."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from planapi.adapters.database import create_engine
from planapi.adapters.notify import InProcessNotifier, PostgresNotifier, notifier_for
from planapi.application.live import PLAN_EVENTS, READING_BATCHES
from planapi.application.ports import NotifierClosedError
from tests.conftest import POSTGRES_URL, drop_schema, make_database

TOPICS = (PLAN_EVENTS, READING_BATCHES)
WAIT = 10.0


@pytest.fixture
async def dsn(tmp_path: Path) -> AsyncIterator[str]:
    """PostgreSQL's address for asyncpg (skipped when unreachable, failed in CI)."""
    _, _, schema = await make_database("postgres", tmp_path)
    try:
        notifier = notifier_for(POSTGRES_URL, TOPICS)
        assert isinstance(notifier, PostgresNotifier)
        yield notifier.dsn
    finally:
        await drop_schema(schema)


@pytest.fixture
async def two(dsn: str) -> AsyncIterator[tuple[PostgresNotifier, PostgresNotifier]]:
    """Two processes' notifiers on one database."""
    first, second = PostgresNotifier(dsn, TOPICS), PostgresNotifier(dsn, TOPICS)
    await first.start()
    await second.start()
    try:
        assert first.connected.is_set()
        assert second.connected.is_set()
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_a_publication_in_one_process_wakes_listeners_in_another(
    two: tuple[PostgresNotifier, PostgresNotifier],
) -> None:
    here, there = two
    async with there.listen(PLAN_EVENTS) as events, there.listen(READING_BATCHES) as batches:
        assert await events.wait(0.05) is False

        here.publish(PLAN_EVENTS, 41)

        assert await events.wait(WAIT) is True
        assert await batches.wait(0.2) is False, "another topic stays asleep"


async def test_a_publication_wakes_its_own_process_at_once(
    two: tuple[PostgresNotifier, PostgresNotifier],
) -> None:
    here, _ = two
    async with here.listen(READING_BATCHES) as batches:
        here.publish(READING_BATCHES, 7)
        assert await batches.wait(0) is True


async def test_a_dropped_connection_is_reopened_and_wakes_everyone(
    dsn: str, two: tuple[PostgresNotifier, PostgresNotifier]
) -> None:
    here, there = two
    admin = create_engine(POSTGRES_URL)
    async with there.listen(PLAN_EVENTS) as events:
        pid = there.server_pid
        assert pid is not None
        try:
            async with admin.connect() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        finally:
            await admin.dispose()

        # Whatever was announced while it was away is lost: every subscriber re-reads.
        assert await events.wait(WAIT) is True
        async with asyncio.timeout(WAIT):
            await there.connected.wait()
        assert there.connections == 2
        assert there.server_pid != pid

        here.publish(PLAN_EVENTS, 42)
        assert await events.wait(WAIT) is True


async def test_closing_ends_every_wait_and_later_listen(dsn: str) -> None:
    notifier = PostgresNotifier(dsn, TOPICS)
    await notifier.start()
    async with notifier.listen(PLAN_EVENTS) as events:
        waiting = asyncio.ensure_future(events.wait(WAIT))
        await asyncio.sleep(0.05)
        await notifier.close()
        with pytest.raises(NotifierClosedError):
            await waiting
    async with notifier.listen(PLAN_EVENTS) as late:
        with pytest.raises(NotifierClosedError):
            await late.wait(WAIT)


async def test_an_unreachable_database_delays_nothing_but_the_other_processes() -> None:
    notifier = PostgresNotifier("postgresql://nobody@127.0.0.1:1/none", TOPICS, timeout=0.2)
    await notifier.start()
    try:
        assert not notifier.connected.is_set()
        async with notifier.listen(PLAN_EVENTS) as events:
            notifier.publish(PLAN_EVENTS, 1)
            assert await events.wait(0) is True, "this process's subscribers still wake"
    finally:
        async with asyncio.timeout(2):
            await notifier.close()


# -- in process ------------------------------------------------------------------------------
async def test_in_process_wakeups() -> None:
    notifier = InProcessNotifier()
    async with notifier.listen(PLAN_EVENTS) as events:
        assert await events.wait(0.01) is False
        notifier.publish(PLAN_EVENTS, 1)
        notifier.publish(PLAN_EVENTS, 2)
        assert await events.wait(0.01) is True, "two publications, one wake-up"
        assert await events.wait(0.01) is False
        notifier.publish(READING_BATCHES, 3)
        assert await events.wait(0.01) is False
        waiting = asyncio.ensure_future(events.wait(WAIT))
        await asyncio.sleep(0)
        notifier.publish(PLAN_EVENTS, 4)
        assert await waiting is True
        await notifier.close()
        with pytest.raises(NotifierClosedError):
            await events.wait(WAIT)


def test_sqlite_gets_the_in_process_notifier() -> None:
    assert isinstance(notifier_for("sqlite+aiosqlite:///x.db", TOPICS), InProcessNotifier)
    found = notifier_for("postgresql+asyncpg://u:secret@db:5433/plans", TOPICS)
    assert isinstance(found, PostgresNotifier)
    assert found.dsn == "postgresql://u:secret@db:5433/plans"
