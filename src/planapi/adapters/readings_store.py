"""Readings: append-only rows, one hash-chained batch row per accepted request."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, text, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from planapi.adapters.advisory_locks import scoped
from planapi.adapters.batch_writing import (
    CHECKED_PER_TURN,
    ROWS_FOR_SOURCES,
    Writing,
    source_pairs,
)
from planapi.adapters.database import is_sqlite, writing
from planapi.adapters.hashing import GENESIS, canonical
from planapi.adapters.in_flight import done, let_run, settled
from planapi.adapters.reading_hashes import CONTENT, Content, batch_hash
from planapi.adapters.reading_hashes import batch_bytes as batch_bytes
from planapi.adapters.reading_rows import narrowed, reading_of
from planapi.adapters.reading_verification import verify_batches
from planapi.adapters.tables import reading_batches, readings
from planapi.application.ports import BatchOutcome, Clock, ReadingsIntegrity
from planapi.domain.errors import IdempotencyKeyReusedError, ValidationError
from planapi.domain.readings import BatchCheck, CheckedReading, Reading, ReadingQuery

# Appends of batches are serialised (each chains to the one before); this lock id is ours.
_BATCH_LOCK = 0x706C616E  # "plan"
# COPY's columns: each row is a content tuple followed by what the server adds.
_COLUMNS = [*CONTENT, "batch_id", "period_start", "period_end", "recorded_at", "content_hash"]
# SQLite's duplicate check and the readings of KPIs, built once: an `in_` of a list built per
# call leaves its bound parameters in reference cycles (merkle_log.py says more).
_ROWS_FOR_PAIRS = select(
    readings.c.id, readings.c.source, readings.c.source_reading_id, readings.c.content_hash
).where(
    tuple_(readings.c.source, readings.c.source_reading_id).in_(bindparam("pairs", expanding=True))
)
_FOR_KPIS = (
    select(readings)
    .where(
        readings.c.plan_id == bindparam("plan_id"),
        readings.c.kpi_id.in_(bindparam("kpi_ids", expanding=True)),
    )
    .order_by(readings.c.id)
)


class SqlReadingStore:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._sqlite = is_sqlite(engine)

    async def record(
        self,
        plan_id: str,
        actor: str,
        idempotency_key: str | None,
        readings_: BatchCheck,
    ) -> BatchOutcome:
        attempt = _Attempt(plan_id, actor, idempotency_key, readings_)
        if self._sqlite:
            # One writer at a time: check before taking SQLite's write lock, not holding it
            # (amendments wait for the same lock).
            attempt.checked = readings_.all()
            if readings_.problems:
                raise ValidationError(readings_.problems)
        try:
            async with writing(self.engine) as conn:
                return await self._record(conn, attempt)
        except IntegrityError:
            # Only a racing twin with the same idempotency key gets here; it has committed.
            if idempotency_key is None or attempt.request is None:
                raise
            async with self.engine.connect() as conn:
                found = await self._batch_with_key(conn, idempotency_key)
            if found is None:
                raise
            return _replayed(found, idempotency_key, attempt.request)

    async def _record(self, conn: AsyncConnection, attempt: _Attempt) -> BatchOutcome:
        if not self._sqlite:
            await conn.execute(
                text(f"SELECT pg_advisory_xact_lock({scoped('id')})"), {"id": _BATCH_LOCK}
            )
        key, batch = attempt.key, attempt.batch
        earlier = await self._batch_with_key(conn, key) if key is not None else None
        writing = await self._next_batch(conn, attempt.plan_id)
        await self._check_and_copy(conn, attempt, writing, copy=earlier is None)
        attempt.request = writing.request.digest()
        if batch.problems:
            raise ValidationError(batch.problems)  # and what was copied is rolled back
        if earlier is not None:
            return _replayed(earlier, earlier.idempotency_key, attempt.request)
        await (await self._write(conn, writing.rows_to_copy()))
        header: dict[str, Any] = {
            "id": writing.batch_id,
            "plan_id": attempt.plan_id,
            "idempotency_key": key,
            "actor": attempt.actor,
            "recorded_at": writing.recorded_at,
            "stored": len(writing.fresh),
            "duplicates": writing.checked - len(writing.fresh),
        }
        row = {
            **header,
            "request_hash": attempt.request,
            "prev_hash": writing.prev_hash,
            "hash": batch_hash(writing.prev_hash, header, writing.fresh),
        }
        await conn.execute(insert(reading_batches).values(**row))
        return BatchOutcome(
            writing.batch_id, header["stored"], header["duplicates"], writing.recorded_at, False
        )

    async def _next_batch(self, conn: AsyncConnection, plan_id: str) -> Writing:
        """The batch to write after the last one: its id, time (never before the last one's)
        and the hash it chains to."""
        head = (
            await conn.execute(
                select(reading_batches.c.id, reading_batches.c.hash, reading_batches.c.recorded_at)
                .order_by(reading_batches.c.id.desc())
                .limit(1)
            )
        ).first()
        now = self.clock.now().astimezone(dt.UTC)
        return Writing(
            batch_id=(head.id + 1) if head else 1,
            recorded_at=max(now, head.recorded_at) if head else now,
            prev_hash=bytes(head.hash) if head else GENESIS,
            request=hashlib.sha256(canonical(plan_id)),
        )

    async def _check_and_copy(
        self, conn: AsyncConnection, attempt: _Attempt, writing: Writing, *, copy: bool
    ) -> None:
        """Checks and hashes the batch, and (`copy`) stores its new readings but for the last
        rows. On PostgreSQL the database works beside this process: it looks up the batch's
        source ids while the first readings are checked and hashed, and stores each COPY of
        rows while the next readings are checked. Copying stops at the first problem."""
        batch = attempt.batch
        lookup = await self._start_lookup(conn, source_pairs(batch.sources()) if copy else [])
        copying: asyncio.Future[None] | None = None
        try:
            checked = (
                batch.chunks(CHECKED_PER_TURN) if attempt.checked is None else [attempt.checked]
            )
            for chunk in checked:
                writing.take(attempt.plan_id, chunk)
                if writing.known is None and lookup.done():
                    writing.knows(lookup.result())
                idle = copying is None or copying.done()
                if copy and not batch.problems and writing.has_full_copy() and idle:
                    if copying is not None:
                        await copying  # done: only surfaces an error
                    copying = await self._write(conn, writing.rows_to_copy())
                await asyncio.sleep(0)  # the driver sends and reads while the next are checked
        finally:
            # One operation at a time on a connection: what was sent must finish first.
            await settled(lookup, copying)
        if writing.known is None:
            writing.knows(await lookup)
        if copying is not None:
            await copying

    async def _write(self, conn: AsyncConnection, rows: list[Content]) -> asyncio.Future[None]:
        """Stores rows: on PostgreSQL a COPY sent now and running while the caller goes on (to
        be awaited before the connection's next statement); on SQLite an INSERT, done."""
        if self._sqlite or not rows:
            if rows:
                await conn.execute(
                    insert(readings), [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
                )
            return done(None)
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        # COPY: the fastest way into PostgreSQL, inside the same transaction.
        copy = driver.copy_records_to_table("readings", records=rows, columns=_COLUMNS)
        task: asyncio.Future[None] = asyncio.ensure_future(copy)
        await let_run(task)  # let it send the COPY statement
        return task

    async def _batch_with_key(self, conn: AsyncConnection, key: str) -> Any:
        query = select(reading_batches).where(reading_batches.c.idempotency_key == key)
        return (await conn.execute(query)).first()

    async def _start_lookup(
        self, conn: AsyncConnection, pairs: list[tuple[str, str]]
    ) -> asyncio.Future[Sequence[Any]]:
        """(id, source, source id, content hash) of the stored readings with these source ids.
        On PostgreSQL the query is sent at once and runs while the caller goes on (await it
        before the connection's next statement); on SQLite it has run when this returns."""
        if not pairs or self._sqlite:
            return done(await self._sqlite_rows_for_sources(conn, pairs) if pairs else ())
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        sources, ids = [s for s, _ in pairs], [i for _, i in pairs]
        task: asyncio.Future[Sequence[Any]] = asyncio.ensure_future(
            driver.fetch(ROWS_FOR_SOURCES, sources, ids)
        )
        await let_run(task)  # let it write the query before the caller takes the CPU
        return task

    async def _sqlite_rows_for_sources(
        self, conn: AsyncConnection, pairs: list[tuple[str, str]]
    ) -> list[Any]:
        found: list[Any] = []
        for start in range(0, len(pairs), 400):  # SQLite caps bound parameters
            found += list(
                await conn.execute(_ROWS_FOR_PAIRS, {"pairs": pairs[start : start + 400]})
            )
        return found

    async def for_kpis(
        self, plan_id: str, kpi_ids: Sequence[str], query: ReadingQuery | None = None
    ) -> list[Reading]:
        statement = _FOR_KPIS if query is None else narrowed(_FOR_KPIS, query)
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(statement, {"plan_id": plan_id, "kpi_ids": list(kpi_ids)})
            ).all()
        return [reading_of(row) for row in rows]

    async def verify(self, plan_id: str | None = None) -> ReadingsIntegrity:
        return await verify_batches(self.engine, plan_id)


@dataclass
class _Attempt:
    plan_id: str
    actor: str
    key: str | None
    batch: BatchCheck
    checked: list[CheckedReading] | None = None  # checked ahead (SQLite)
    request: bytes | None = None  # the batch's request hash, once computed


def _replayed(found: Any, key: str, request: bytes) -> BatchOutcome:
    """The earlier batch sent with this key: the same request is answered as then."""
    if not hmac.compare_digest(bytes(found.request_hash), request):
        raise IdempotencyKeyReusedError(key)
    return BatchOutcome(found.id, 0, found.stored + found.duplicates, found.recorded_at, True)
