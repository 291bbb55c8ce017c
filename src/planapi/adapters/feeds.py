"""Reading the logs across streams: the event feed's stored rows and batches of readings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.database import is_sqlite
from planapi.adapters.reading_rows import reading_of
from planapi.adapters.tables import EVENT_AS_CHAINED, events, reading_batches, readings
from planapi.application.ports import RecordedBatch, StoredEvent
from planapi.domain.readings import Reading

_STORED = (*EVENT_AS_CHAINED, events.c.hash)


class SqlEventLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(engine)

    async def read_stored(self, after_position: int, limit: int) -> list[StoredEvent]:
        query = (
            select(*_STORED)
            .where(events.c.position > after_position)
            .order_by(events.c.position)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            StoredEvent(
                position=row.position,
                stream_id=row.stream_id,
                version=row.version,
                type=row.type,
                schema_version=row.schema_version,
                recorded_at=row.recorded_at,
                data=row.data,
                meta=row.meta,
                prev_hash=bytes(row.prev_hash),
                hash=bytes(row.hash),
            )
            for row in rows
        ]

    async def version_at_position(self, stream_id: str, position: int) -> int:
        query = select(func.max(events.c.version)).where(
            events.c.stream_id == stream_id, events.c.position <= position
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).scalar() or 0


class SqlReadingLog:
    """Batches are appended one at a time (each chains to the one before, under a lock held to
    commit), so batch ids — and the ids of their readings — become visible in order."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def last_batch_id(self) -> int:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(func.max(reading_batches.c.id)))).scalar() or 0

    async def batches_after(
        self, after_batch_id: int, limit: int, kpi_ids: Sequence[str] | None
    ) -> list[RecordedBatch]:
        """Batches after `after_batch_id`, with their readings of `kpi_ids` (None: all)."""
        headers = (
            select(reading_batches)
            .where(reading_batches.c.id > after_batch_id)
            .order_by(reading_batches.c.id)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            batches = (await conn.execute(headers)).all()
            if not batches:
                return []
            found = await conn.execute(
                _readings_of(after_batch_id, batches[-1].id, kpi_ids).order_by(readings.c.id),
                {} if kpi_ids is None else {"kpi_ids": list(kpi_ids)},
            )
            by_batch: defaultdict[int, list[Reading]] = defaultdict(list)
            for row in found:
                by_batch[row.batch_id].append(reading_of(row))
        return [
            RecordedBatch(
                batch_id=batch.id,
                plan_id=batch.plan_id,
                actor=batch.actor,
                recorded_at=batch.recorded_at,
                stored=batch.stored,
                duplicates=batch.duplicates,
                readings=tuple(by_batch.get(batch.id, ())),
            )
            for batch in batches
        ]


# Built once, the KPIs bound per call: an `in_` of a list built per call leaves its bound
# parameters in reference cycles (merkle_log.py says more).
_OF_KPIS = readings.c.kpi_id.in_(bindparam("kpi_ids", expanding=True))


def _readings_of(after_batch_id: int, last_batch_id: int, kpi_ids: Sequence[str] | None) -> Any:
    """The readings of batches (after, last] and of these KPIs. `readings` has no index on
    batch_id; since batches are written one after another, their readings' ids grow with
    the batch id, so the search starts past the newest reading of an earlier batch (found by a
    short backward walk of the primary key) and scans forward from there."""
    floor = (
        select(readings.c.id)
        .where(readings.c.batch_id <= after_batch_id)
        .order_by(readings.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    found = select(readings).where(
        readings.c.id > func.coalesce(floor, 0),
        readings.c.batch_id > after_batch_id,
        readings.c.batch_id <= last_batch_id,
    )
    return found if kpi_ids is None else found.where(_OF_KPIS)
