"""An insider with database access is caught by a checkpoint witnessed earlier, on both backends:
a rewrite with recomputed chain hashes, a deleted last event or readings batch, a reordering —
each named by leaf and position; and checkpoints that must not be trusted are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from planapi.adapters.database import create_engine
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.hashing import event_hash
from planapi.adapters.merkle_log import LogRecomputation, SqlMerkleLog
from planapi.adapters.readings_store import SqlReadingStore
from planapi.adapters.tables import events, log_leaves, log_nodes, reading_batches, readings
from planapi.application.plans import PlanService
from planapi.application.readings import ReadingService, RecordReadings
from planapi.application.transparency import EVENTS, READINGS, LogSettings, Transparency
from planapi.domain.notes import Checkpoint, NoteError, SignerKey
from tests.conftest import drop_schema, make_database
from tests.contract.builders import FakeClock, append_versions
from tests.readings_fixtures import PLAN_ID, create_plan_command, reading

KEY = SignerKey.generate("planapi.test")


@pytest.fixture
def log(engine: AsyncEngine, clock: FakeClock) -> Transparency:
    settings = LogSettings("planapi.test", every=1, seconds=60, signer=KEY)
    return Transparency(SqlMerkleLog(engine), LogRecomputation(engine), clock, settings)


@asynccontextmanager
async def lifted(engine: AsyncEngine, *tables: str) -> AsyncIterator[AsyncConnection]:
    """A transaction in which the append-only triggers of `tables` do not fire, as an insider
    with owner rights could arrange."""
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in tables:
                await conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            yield conn
            for table in tables:
                await conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
            return
        names = ", ".join(f"'{t}'" for t in tables)
        found = await conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master "
                f"WHERE type = 'trigger' AND tbl_name IN ({names})"
            )
        )
        triggers = [(row.name, row.sql) for row in found]
        for name, _ in triggers:
            await conn.execute(text(f"DROP TRIGGER {name}"))
        yield conn
        for _, sql in triggers:
            await conn.execute(text(sql))


async def _three_plans(store: SqlEventStore) -> None:
    await append_versions(store, "plan:a", 3)  # positions of leaves 0, 1, 2
    await append_versions(store, "plan:b", 2)  # leaves 3, 4
    await append_versions(store, "plan:c", 4)  # leaves 5..8


async def _witnessed(log: Transparency) -> list[str]:
    """Signs a checkpoint of each log now and returns them, as a witness would keep them."""
    await log.round(force=True)
    notes = []
    for name in (EVENTS, READINGS):
        found = await log.checkpoint(name)
        if found is not None:
            notes.append(found.note)
    return notes


async def _position(engine: AsyncEngine, stream: str, version: int) -> int:
    query = select(events.c.position).where(
        events.c.stream_id == stream, events.c.version == version
    )
    async with engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def _rewrite_with_recomputed_hashes(
    engine: AsyncEngine, conn: AsyncConnection, stream: str, version: int
) -> None:
    """Alters one event's data and re-chains every later version of its plan."""
    rows = (
        await conn.execute(
            select(events).where(events.c.stream_id == stream).order_by(events.c.version)
        )
    ).all()
    prev = bytes(rows[version - 2].hash) if version > 1 else b"\x00" * 32
    for row in rows[version - 1 :]:
        data = {"changes": []} if row.version == version else row.data
        values = {
            "stream_id": stream,
            "version": row.version,
            "type": row.type,
            "schema_version": row.schema_version,
            "data": data,
            "meta": row.meta,
            "recorded_at": row.recorded_at,
        }
        digest = event_hash(prev, **values)
        await conn.execute(
            update(events)
            .where(events.c.position == row.position)
            .values(data=data, prev_hash=prev, hash=digest)
        )
        prev = digest


async def test_an_untouched_log_extends_every_checkpoint_saved_along_the_way(
    event_store: SqlEventStore, log: Transparency
) -> None:
    saved = []
    for stream in ("plan:a", "plan:b"):
        await append_versions(event_store, stream, 3)
        saved += await _witnessed(log)

    ok, lines = await log.check_saved(saved)

    assert ok, lines
    assert lines == [
        "events: ok, the log's first 3 leaves match the checkpoint",
        "events: ok, the log's first 6 leaves match the checkpoint",
    ]


async def test_a_rewrite_with_recomputed_chain_hashes_is_named_by_leaf_and_position(
    engine: AsyncEngine, event_store: SqlEventStore, log: Transparency
) -> None:
    await _three_plans(event_store)
    saved = await _witnessed(log)
    async with lifted(engine, "events") as conn:
        await _rewrite_with_recomputed_hashes(engine, conn, "plan:a", 2)

    assert (await event_store.verify("plan:a")).ok  # the chain alone cannot tell
    ok, lines = await log.check_saved(saved)

    position = await _position(engine, "plan:a", 2)
    assert not ok
    assert lines == [
        f"events: BROKEN against the checkpoint of 9 leaves: leaf 1 (position {position}) "
        "no longer matches its leaf; the log holds 9 leaves"
    ]


async def test_a_rewrite_of_the_rows_and_the_stored_tree_is_bounded_by_the_checkpoints(
    engine: AsyncEngine, event_store: SqlEventStore, log: Transparency
) -> None:
    await append_versions(event_store, "plan:a", 3)
    saved = await _witnessed(log)
    await append_versions(event_store, "plan:b", 3)
    saved += await _witnessed(log)
    async with lifted(engine, "events", "log_leaves", "log_nodes") as conn:
        await _rewrite_with_recomputed_hashes(engine, conn, "plan:b", 2)
        await conn.execute(delete(log_leaves))
        await conn.execute(delete(log_nodes))
    await log.catch_up(EVENTS)  # the insider rebuilds the tree over the rewritten rows

    ok, lines = await log.check_saved(saved)

    assert not ok
    assert lines == [
        "events: ok, the log's first 3 leaves match the checkpoint",
        "events: BROKEN against the checkpoint of 6 leaves: the rows of leaves 3..5 were "
        "changed (the stored tree was rewritten with them; an earlier checkpoint narrows it down)",
    ]


async def test_deleting_the_last_event_is_named(
    engine: AsyncEngine, event_store: SqlEventStore, log: Transparency
) -> None:
    await _three_plans(event_store)
    saved = await _witnessed(log)
    last = await _position(engine, "plan:c", 4)
    async with lifted(engine, "events") as conn:
        await conn.execute(delete(events).where(events.c.position == last))

    assert (await event_store.verify("plan:c")).ok
    ok, lines = await log.check_saved(saved)

    assert not ok
    assert lines == [
        f"events: BROKEN against the checkpoint of 9 leaves: leaf 8 (position {last}) is gone; "
        "the log holds 8 leaves"
    ]


async def test_deleting_the_last_readings_batch_is_named(
    engine: AsyncEngine, service: PlanService, clock: FakeClock, log: Transparency
) -> None:
    await service.create_plan(create_plan_command())
    recorder = ReadingService(SqlReadingStore(engine, clock), service)
    for year in ("2026", "2027", "2028"):
        await recorder.record(RecordReadings(PLAN_ID, [reading(year, "1.5")]))
    saved = await _witnessed(log)
    async with lifted(engine, "reading_batches", "readings") as conn:
        await conn.execute(delete(readings).where(readings.c.batch_id == 3))
        await conn.execute(delete(reading_batches).where(reading_batches.c.id == 3))

    assert (await recorder.verify()).first_break is None  # the chain alone cannot tell
    ok, lines = await log.check_saved(saved)

    assert not ok
    assert lines == [
        "events: ok, the log's first 1 leaves match the checkpoint",
        "readings: BROKEN against the checkpoint of 3 leaves: leaf 2 (batch 3) is gone; "
        "the log holds 2 leaves",
    ]


async def test_reordering_events_is_named_at_the_first_moved_one(
    engine: AsyncEngine, event_store: SqlEventStore, log: Transparency
) -> None:
    await _three_plans(event_store)
    saved = await _witnessed(log)
    b1, c1 = await _position(engine, "plan:b", 1), await _position(engine, "plan:c", 1)
    async with lifted(engine, "events") as conn:  # plan:c now starts before plan:b
        await conn.execute(update(events).where(events.c.position == b1).values(position=-1))
        await conn.execute(update(events).where(events.c.position == c1).values(position=b1))
        await conn.execute(update(events).where(events.c.position == -1).values(position=c1))

    assert (await event_store.verify("plan:b")).ok
    assert (await event_store.verify("plan:c")).ok
    ok, lines = await log.check_saved(saved)

    assert not ok
    assert lines == [
        f"events: BROKEN against the checkpoint of 9 leaves: leaf 3 (position {b1}) "
        "no longer matches its leaf; the log holds 9 leaves"
    ]


def _resigned(note: str, **changes: object) -> str:
    body = note.split("\n\n")[0] + "\n"
    checkpoint = Checkpoint.parse(body)
    fields = {"origin": checkpoint.origin, "size": checkpoint.size, "root": checkpoint.root}
    return KEY.sign(Checkpoint(**{**fields, **changes}).body())  # type: ignore[arg-type]


async def test_untrustworthy_checkpoints_are_refused_with_a_reason(
    event_store: SqlEventStore, log: Transparency
) -> None:
    await _three_plans(event_store)
    [note] = await _witnessed(log)
    stranger = SignerKey.generate("planapi.test")
    cases: Sequence[tuple[str, str]] = [
        (note.replace("\n9\n", "\n10\n"), "does not verify"),
        (stranger.sign(note.split("\n\n")[0] + "\n"), "signed by no known key"),
        (_resigned(note, origin="elsewhere/events"), "origin 'elsewhere/events', not"),
    ]
    for bad, reason in cases:
        ok, lines = await log.check_saved([bad])
        assert not ok
        assert len(lines) == 1
        assert lines[0].startswith("checkpoint 1: REFUSED: ")
        assert reason in lines[0]
        with pytest.raises(NoteError, match=reason):
            await log.witness([note], bad)


async def test_a_witness_keeps_only_consistent_extensions_never_a_smaller_tree(
    event_store: SqlEventStore, log: Transparency
) -> None:
    await append_versions(event_store, "plan:a", 3)
    [first] = await _witnessed(log)
    await append_versions(event_store, "plan:b", 3)
    [second] = await _witnessed(log)

    assert (await log.witness([first], second)).size == 6
    with pytest.raises(NoteError, match="tree size 3 is smaller than the 6 already witnessed"):
        await log.witness([first, second], first)
    forked = _resigned(second, root=b"\x07" * 32)  # signed by the key holder, another history
    with pytest.raises(NoteError, match="not a consistent extension of the witnessed tree of 3"):
        await log.witness([first], forked)


async def test_a_checkpoint_is_signed_every_n_leaves_or_after_t_seconds_and_never_twice(
    engine: AsyncEngine, event_store: SqlEventStore, clock: FakeClock
) -> None:
    settings = LogSettings("planapi.test", every=5, seconds=60, signer=KEY)
    log = Transparency(SqlMerkleLog(engine), LogRecomputation(engine), clock, settings)
    await append_versions(event_store, "plan:a", 3)
    assert await log.round() == []  # 3 new leaves, no time passed: not yet
    clock.advance(seconds=61)
    assert [c.tree_size for c in await log.round()] == [3]  # the time is up
    assert await log.round() == []  # nothing new: nothing signed
    await append_versions(event_store, "plan:b", 5)
    assert [c.tree_size for c in await log.round()] == [8]  # 5 new leaves
    await append_versions(event_store, "plan:c", 1)
    assert [c.tree_size for c in await log.round(force=True)] == [9]  # on demand


async def test_while_one_process_signs_another_skips_its_round(
    engine: AsyncEngine, event_store: SqlEventStore, log: Transparency
) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite: one process")
    await append_versions(event_store, "plan:a", 2)
    other = SqlMerkleLog(engine)
    async with other.leading() as leader:
        assert leader
        assert await log.round(force=True) == []
        assert await log.checkpoint(EVENTS) is None
    assert [c.tree_size for c in await log.round(force=True)] == [2]


async def test_a_deployment_in_another_schema_of_the_database_does_not_take_this_ones_turn(
    engine: AsyncEngine, event_store: SqlEventStore, log: Transparency, tmp_path: Path
) -> None:
    """Advisory locks belong to the database: unscoped, a neighbour's signer would hold ours."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite: one database per deployment")
    await append_versions(event_store, "plan:a", 2)
    url, options, schema = await make_database("postgres", tmp_path)
    neighbour = create_engine(url, **options)  # type: ignore[arg-type]
    try:
        async with SqlMerkleLog(neighbour).leading() as leader:
            assert leader
            assert [c.tree_size for c in await log.round(force=True)] == [2]
    finally:
        await neighbour.dispose()
        await drop_schema(schema)
