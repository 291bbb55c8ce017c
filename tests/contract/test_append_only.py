"""The database itself refuses to change or remove a stored event, whoever asks."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.event_store import SqlEventStore
from tests.contract.builders import append_versions, raw_rows

STREAM = "plan:baku-2026"

CHANGES = {
    "rewriting the payload": "UPDATE events SET data = '{\"changes\": []}' WHERE version = 2",
    "backdating": "UPDATE events SET recorded_at = '2000-01-01 00:00:00' WHERE version = 2",
    "renumbering": "UPDATE events SET version = version + 10",
    "deleting one event": "DELETE FROM events WHERE version = 2",
    "deleting everything": "DELETE FROM events",
}


@pytest.mark.parametrize("statement", CHANGES.values(), ids=CHANGES.keys())
async def test_the_database_refuses_to_change_a_stored_event(
    engine: AsyncEngine, event_store: SqlEventStore, statement: str
) -> None:
    await append_versions(event_store, STREAM, 3)
    before = await raw_rows(engine, STREAM)

    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text(statement))

    assert await raw_rows(engine, STREAM) == before
    assert (await event_store.verify(STREAM)).ok


async def test_the_database_refuses_to_truncate_the_log(
    backend: str, engine: AsyncEngine, event_store: SqlEventStore
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite has no TRUNCATE; its DELETE FROM is refused above")
    await append_versions(event_store, STREAM, 2)
    before = await raw_rows(engine, STREAM)

    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE events"))

    assert await raw_rows(engine, STREAM) == before


async def test_a_refused_change_leaves_the_log_open_for_appends(
    engine: AsyncEngine, event_store: SqlEventStore
) -> None:
    await append_versions(event_store, STREAM, 2)

    with pytest.raises(DBAPIError):
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM events WHERE version = 2"))
    await append_versions(event_store, "plan:other", 2)

    assert await event_store.latest_version(STREAM) == 2
    assert await event_store.latest_version("plan:other") == 2
