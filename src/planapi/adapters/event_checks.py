"""Checking the stored event log: the hash chain recomputed from the bytes as stored, and the
node index (`event_nodes`) against what each event touches."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.codec import CodecError, decode_event
from planapi.adapters.database import is_sqlite
from planapi.adapters.event_rows import chain_break, rehash
from planapi.adapters.hashing import GENESIS
from planapi.adapters.tables import event_nodes, events
from planapi.application.pacing import Pacer
from planapi.application.ports import Finding, IntegrityReport, index_findings
from planapi.domain.history import touched_nodes

# The JSON columns as the text they were stored as: verification hashes it without parsing.
_RAW_COLUMNS = tuple(
    cast(column, Text).label(column.name) if column.name in ("data", "meta") else column
    for column in events.c
    if column.name != "stream_id"
)
_CHUNK = 10_000
_PG_STORED_ROWS = (
    "SELECT position, version, type, schema_version, data::text, meta::text, recorded_at,"
    " prev_hash, hash FROM events WHERE stream_id = $1 ORDER BY version"
)


async def verify_chain(engine: AsyncEngine, stream_id: str) -> IntegrityReport:
    """Recompute the chain from the stored bytes; report the first place it breaks."""
    checked, prev_hash, expected = 0, GENESIS, 1
    pacer = Pacer()
    async with aclosing(_stored_rows(engine, stream_id)) as chunks:  # closes the cursor early
        async for chunk in chunks:
            for row in chunk:
                await pacer.tick()
                version, prev, digest = row[1], row[7], row[8]
                intact = (
                    version == expected
                    and prev == prev_hash
                    and digest == rehash(row, stream_id, prev_hash)
                )
                if not intact:  # say what broke, and where
                    found = chain_break(row, stream_id, prev_hash, expected)
                    assert found is not None
                    return IntegrityReport(stream_id, checked, expected - 1, prev_hash, found)
                checked, prev_hash, expected = checked + 1, bytes(digest), version + 1
    return IntegrityReport(stream_id, checked, expected - 1, prev_hash if checked else None, None)


async def verify_index(engine: AsyncEngine, stream_id: str) -> list[Finding]:
    expected: set[tuple[int, str]] = set()
    unreadable: list[Finding] = []  # events this code cannot decode: their entries unchecked
    pacer = Pacer()
    query = (
        select(events.c.version, events.c.type, events.c.schema_version, events.c.data)
        .where(events.c.stream_id == stream_id)
        .order_by(events.c.version)
    )
    indexed_query = select(event_nodes.c.version, event_nodes.c.node_id).where(
        event_nodes.c.stream_id == stream_id
    )
    async with engine.connect() as conn:
        result = await conn.stream(query.execution_options(yield_per=_CHUNK))
        async for chunk in result.partitions():
            for row in chunk:
                await pacer.tick()
                try:
                    event = decode_event(row.type, row.schema_version, row.data)
                except CodecError as error:
                    unreadable.append(Finding("index", row.version, None, str(error)))
                    continue
                expected.update((row.version, node) for node in touched_nodes(event))
        indexed = {(row.version, row.node_id) for row in await conn.execute(indexed_query)}
    missing, extra = index_findings(expected, indexed)
    found = missing + [f for f in extra if f.version not in {u.version for u in unreadable}]
    return sorted(unreadable + found, key=lambda f: (f.version, f.node_id or ""))


async def _stored_rows(
    engine: AsyncEngine, stream_id: str
) -> AsyncGenerator[Sequence[Sequence[Any]], None]:
    """Chunks of (position, version, type, schema_version, data text, meta text,
    recorded_at, prev_hash, hash) in version order."""
    async with engine.connect() as conn:
        if is_sqlite(engine):
            query = (
                select(*_RAW_COLUMNS)
                .where(events.c.stream_id == stream_id)
                .order_by(events.c.version)
            )
            result = await conn.stream(query.execution_options(yield_per=_CHUNK))
            async for chunk in result.partitions():
                yield chunk
            return
        # The driver's own cursor: a million rows through SQLAlchemy's row machinery would
        # cost more than hashing them.
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        async with driver.transaction():
            cursor = await driver.cursor(_PG_STORED_ROWS, stream_id)
            while chunk := await cursor.fetch(_CHUNK):
                yield chunk
