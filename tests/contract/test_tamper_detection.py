"""Tampering that gets past the database's guards is caught by re-computing the hash chain."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.hashing import event_hash
from planapi.adapters.tables import events
from tests.contract.builders import append_versions, guards_lifted, raw_rows
from tests.contract.conftest import ports_and_memory

STREAM = "plan:baku-2026"


def _row(stream_id: str, version: int) -> Any:
    return (events.c.stream_id == stream_id) & (events.c.version == version)


@ports_and_memory
async def test_an_untouched_stream_verifies_with_every_version_checked(
    event_store: SqlEventStore,
) -> None:
    appended = await append_versions(event_store, STREAM, 5)

    report = await event_store.verify(STREAM)

    assert report.ok
    assert report.first_break is None
    assert report.stream_id == STREAM
    assert report.checked == 5
    assert report.head_version == 5
    assert report.head_hash == appended[-1].hash


@ports_and_memory
async def test_a_stream_with_no_events_verifies_with_nothing_checked(
    event_store: SqlEventStore,
) -> None:
    report = await event_store.verify("plan:nobody")

    assert report.ok
    assert (report.checked, report.head_version, report.head_hash) == (0, 0, None)


ALTERATIONS: dict[str, dict[str, Any]] = {
    "its changes": {"data": {"changes": []}},
    "who made it": {"meta": {"actor": "mallory", "authority": "TDAG", "rationale": "x"}},
    "when it was recorded": {"recorded_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
    "its type": {"type": "PlanCreated"},
    "its payload format": {"schema_version": 0},
}


@pytest.mark.parametrize("values", ALTERATIONS.values(), ids=ALTERATIONS.keys())
async def test_altering_a_stored_event_is_reported_at_that_version(
    engine: AsyncEngine, event_store: SqlEventStore, values: dict[str, Any]
) -> None:
    appended = await append_versions(event_store, STREAM, 5)

    async with guards_lifted(engine) as conn:
        await conn.execute(update(events).where(_row(STREAM, 3)).values(**values))
    report = await event_store.verify(STREAM)

    assert not report.ok
    assert report.first_break is not None
    assert report.first_break.what == "altered"
    assert report.first_break.version == 3
    assert report.first_break.position == appended[2].position
    assert report.checked == 2
    assert report.head_version == 2
    assert report.head_hash == appended[1].hash


@pytest.mark.parametrize("version", [1, 3])
async def test_deleting_an_event_is_reported_as_removed(
    engine: AsyncEngine, event_store: SqlEventStore, version: int
) -> None:
    await append_versions(event_store, STREAM, 5)

    async with guards_lifted(engine) as conn:
        await conn.execute(delete(events).where(_row(STREAM, version)))
    report = await event_store.verify(STREAM)

    assert report.first_break is not None
    assert report.first_break.what == "removed"
    assert report.first_break.version == version
    assert report.checked == version - 1


async def test_changing_the_previous_hash_of_an_event_is_reported(
    engine: AsyncEngine, event_store: SqlEventStore
) -> None:
    await append_versions(event_store, STREAM, 5)

    async with guards_lifted(engine) as conn:
        await conn.execute(update(events).where(_row(STREAM, 3)).values(prev_hash=b"\x01" * 32))
    report = await event_store.verify(STREAM)

    assert report.first_break is not None
    assert report.first_break.version == 3
    assert report.first_break.what == "inserted"
    assert report.checked == 2


async def test_a_forger_who_rehashes_the_altered_event_is_caught_at_the_next_version(
    engine: AsyncEngine, event_store: SqlEventStore
) -> None:
    await append_versions(event_store, STREAM, 5)
    third = (await raw_rows(engine, STREAM))[2]
    forged_meta = {**third["meta"], "actor": "mallory"}
    forged_hash = event_hash(
        third["prev_hash"],
        stream_id=STREAM,
        version=3,
        type=third["type"],
        schema_version=third["schema_version"],
        data=third["data"],
        meta=forged_meta,
        recorded_at=third["recorded_at"],
    )

    async with guards_lifted(engine) as conn:
        await conn.execute(
            update(events).where(_row(STREAM, 3)).values(meta=forged_meta, hash=forged_hash)
        )
    report = await event_store.verify(STREAM)

    assert report.first_break is not None
    assert report.first_break.version == 4
    assert report.checked == 3


async def test_tampering_with_one_stream_leaves_the_others_verifiable(
    engine: AsyncEngine, event_store: SqlEventStore
) -> None:
    await append_versions(event_store, STREAM, 3)
    await append_versions(event_store, "plan:other", 3)

    async with guards_lifted(engine) as conn:
        await conn.execute(delete(events).where(_row(STREAM, 2)))

    assert not (await event_store.verify(STREAM)).ok
    assert (await event_store.verify("plan:other")).ok


async def test_the_guards_are_back_once_the_tampering_transaction_ends(
    engine: AsyncEngine, event_store: SqlEventStore
) -> None:
    await append_versions(event_store, STREAM, 2)
    async with guards_lifted(engine) as conn:
        await conn.execute(delete(events).where(_row(STREAM, 2)))

    for statement in ("UPDATE events SET type = 'X'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    assert [row["version"] for row in await raw_rows(engine, STREAM)] == [1]
