"""What each Merkle log's leaves are, read back from the rows they stand for.

An event's leaf is the bytes its chain link hashes; a readings batch's leaf is the bytes its
batch hash covers, which include the content hash of every reading it stored. Both are read a
bounded chunk at a time, by the follower (`merkle_log.SqlMerkleLog.integrate`) and by the
recomputation that re-hashes a log from its rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from planapi.adapters.hashing import canonical, event_bytes_of_text, timestamp
from planapi.adapters.readings_store import batch_bytes
from planapi.adapters.tables import EVENT_AS_CHAINED, events, reading_batches, readings
from planapi.application.transparency import EVENTS

# The member hashes one chunk of the readings log may hold. A chunk was bounded only by its
# number of batches (5,000 a follower round, 10,000 a recomputation), and a batch may store
# 10,000 readings (PLANAPI_MAX_READINGS_PER_BATCH): a follower catching up on a backlog held
# up to 50 million hashes at once. A chunk now ends before the batch that would take it past
# this bound; its first batch is always taken, whatever its size, so reading always moves on.
MEMBERS_PER_CHUNK = 20_000

PG_EVENT_LEAVES = (
    "SELECT position, stream_id, version, type, schema_version, data::text, meta::text,"
    " recorded_at, prev_hash FROM events ORDER BY position"
)
# The batches of one chunk, cut in the database: a running sum of the readings each stored,
# kept while it is within `members` (and the first batch whatever it holds). Reading `limit`
# headers to keep a few would cost a call as much as the largest chunk (200 of 5,000 with the
# soak's batches of 100).
_ordered = reading_batches.select().where(reading_batches.c.id > bindparam("after"))
_upto = func.sum(reading_batches.c.stored).over(order_by=reading_batches.c.id)
_nth = func.row_number().over(order_by=reading_batches.c.id)
_window = (
    _ordered.add_columns(_upto.label("upto"), _nth.label("nth"))
    .order_by(reading_batches.c.id)
    .limit(bindparam("limit"))
    .subquery()
)
_BATCHES = (
    select(*(_window.c[column.name] for column in reading_batches.c))
    .where(or_(_window.c.upto <= bindparam("members"), _window.c.nth == 1))
    .order_by(_window.c.id)
)
_BATCH_FIELDS = ("id", "plan_id", "idempotency_key", "actor", "recorded_at", "stored", "duplicates")


def event_leaf(row: Any) -> bytes:
    """An event row's leaf bytes: exactly what its chain link hashes."""
    return event_bytes_of_text(
        bytes(row.prev_hash),
        stream_id=row.stream_id,
        version=row.version,
        type=row.type,
        schema_version=row.schema_version,
        data=row.data,
        meta=row.meta,
        recorded_at=row.recorded_at,
    )


def event_leaf_hash(row: Sequence[Any]) -> bytes:
    """`leaf_hash(event_leaf(row))` for a driver row in `PG_EVENT_LEAVES` order, without
    building the leaf bytes."""
    _, stream_id, version, type_, schema_version, data, meta, recorded_at, prev_hash = row
    digest = hashlib.sha256(b"\x00")
    digest.update(prev_hash)
    digest.update(canonical([stream_id, version, type_, schema_version, timestamp(recorded_at)]))
    digest.update(b"\x00" + data.encode() + b"\x00" + meta.encode())
    return digest.digest()


async def entries_after(
    conn: AsyncConnection, log: str, after: int, limit: int, members: int = MEMBERS_PER_CHUNK
) -> list[tuple[int, bytes]]:
    """(ref, leaf bytes) of up to `limit` rows of a log after ref `after`, in commit order; for
    the readings log, no more batches than hold `members` readings together (one at least)."""
    if log == EVENTS:
        query = (
            select(*EVENT_AS_CHAINED)
            .where(events.c.position > after)
            .order_by(events.c.position)
            .limit(limit)
        )
        return [(row.position, event_leaf(row)) for row in await conn.execute(query)]
    batches = (
        await conn.execute(_BATCHES, {"after": after, "limit": limit, "members": members})
    ).all()
    if not batches:
        return []
    hashes: dict[int, list[bytes]] = {batch.id: [] for batch in batches}
    rows = select(readings.c.batch_id, readings.c.content_hash).where(
        readings.c.batch_id > after, readings.c.batch_id <= batches[-1].id
    )
    for batch_id, digest in await conn.execute(rows.order_by(readings.c.batch_id, readings.c.id)):
        hashes[batch_id].append(bytes(digest))
    return [
        (
            batch.id,
            batch_bytes(
                bytes(batch.prev_hash),
                {name: getattr(batch, name) for name in _BATCH_FIELDS},
                hashes[batch.id],
            ),
        )
        for batch in batches
    ]
