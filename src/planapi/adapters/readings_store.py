"""Readings: append-only rows, one hash-chained batch row per accepted request."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import insert, select, text, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncResult

from planapi.adapters.database import is_sqlite
from planapi.adapters.failures import committing
from planapi.adapters.hashing import GENESIS, canonical
from planapi.adapters.reading_hashes import (
    CONTENT,
    SOURCE,
    SOURCE_ID,
    Content,
    batch_break,
    batch_hash,
    content_hash,
    content_of,
)
from planapi.adapters.reading_hashes import batch_bytes as batch_bytes
from planapi.adapters.tables import reading_batches, readings
from planapi.application.pacing import Pacer
from planapi.application.ports import BatchOutcome, ChainBreak, Clock, ReadingsIntegrity
from planapi.domain.errors import IdempotencyKeyReusedError, ValidationError
from planapi.domain.readings import (
    BatchCheck,
    CheckedReading,
    Reading,
    ReadingQuery,
    ReadingSource,
    ReadingStatus,
    series_key,
)

# Appends of batches are serialised (each chains to the one before); this lock id is ours.
_BATCH_LOCK = 0x706C616E  # "plan"
# COPY's columns: each row is a content tuple followed by what the server adds.
_COLUMNS = [*CONTENT, "batch_id", "period_start", "period_end", "recorded_at", "content_hash"]

T = TypeVar("T")


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
            async with self.engine.connect() as conn:
                if self._sqlite:
                    conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
                async with committing(conn):
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
            await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _BATCH_LOCK})
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

    async def _next_batch(self, conn: AsyncConnection, plan_id: str) -> _Writing:
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
        return _Writing(
            batch_id=(head.id + 1) if head else 1,
            recorded_at=max(now, head.recorded_at) if head else now,
            prev_hash=bytes(head.hash) if head else GENESIS,
            request=hashlib.sha256(canonical(plan_id)),
        )

    async def _check_and_copy(
        self, conn: AsyncConnection, attempt: _Attempt, writing: _Writing, *, copy: bool
    ) -> None:
        """Checks and hashes the batch, and (`copy`) stores its new readings but for the last
        rows. On PostgreSQL the database works beside this process: it looks up the batch's
        source ids while the first readings are checked and hashed, and stores each COPY of
        rows while the next readings are checked. Copying stops at the first problem."""
        batch = attempt.batch
        lookup = await self._start_lookup(conn, _source_pairs(batch.sources()) if copy else [])
        copying: asyncio.Future[None] | None = None
        try:
            checked = (
                batch.chunks(_CHECKED_PER_TURN) if attempt.checked is None else [attempt.checked]
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
            await _settled(lookup, copying)
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
            return _done(None)
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        # COPY: the fastest way into PostgreSQL, inside the same transaction.
        copy = driver.copy_records_to_table("readings", records=rows, columns=_COLUMNS)
        task: asyncio.Future[None] = asyncio.ensure_future(copy)
        await _let_run(task)  # let it send the COPY statement
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
            return _done(await self._sqlite_rows_for_sources(conn, pairs) if pairs else ())
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        sources, ids = [s for s, _ in pairs], [i for _, i in pairs]
        task: asyncio.Future[Sequence[Any]] = asyncio.ensure_future(
            driver.fetch(_ROWS_FOR_SOURCES, sources, ids)
        )
        await _let_run(task)  # let it write the query before the caller takes the CPU
        return task

    async def _sqlite_rows_for_sources(
        self, conn: AsyncConnection, pairs: list[tuple[str, str]]
    ) -> list[Any]:
        found: list[Any] = []
        for start in range(0, len(pairs), 400):  # SQLite caps bound parameters
            chunk = pairs[start : start + 400]
            rows = select(
                readings.c.id,
                readings.c.source,
                readings.c.source_reading_id,
                readings.c.content_hash,
            ).where(tuple_(readings.c.source, readings.c.source_reading_id).in_(chunk))
            found += list(await conn.execute(rows))
        return found

    async def for_kpis(
        self, plan_id: str, kpi_ids: Sequence[str], query: ReadingQuery | None = None
    ) -> list[Reading]:
        statement = (
            select(readings)
            .where(readings.c.plan_id == plan_id, readings.c.kpi_id.in_(list(kpi_ids)))
            .order_by(readings.c.id)
        )
        if query is not None:
            statement = _narrowed(statement, query)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        return [_reading(row) for row in rows]

    async def verify(self, plan_id: str | None = None) -> ReadingsIntegrity:
        batches, members = _verified_rows(plan_id)
        checked_batches = checked_readings = 0
        prev_hash = GENESIS
        pacer = Pacer()
        async with self.engine.connect() as conn:
            rows = _each(await conn.stream(members.execution_options(yield_per=5_000)))
            pending = await anext(rows, None)
            async for batch in _each(await conn.stream(batches.execution_options(yield_per=500))):
                own: list[Any] = []
                while pending is not None and pending.batch_id == batch.id:
                    own.append(pending)
                    pending = await anext(rows, None)
                    await pacer.tick()
                if plan_id is None:
                    before, expected = prev_hash, checked_batches + 1
                else:  # the plan's batches only: each chained to the stored batch before it
                    before = GENESIS if batch.before_hash is None else bytes(batch.before_hash)
                    expected = batch.id
                found = await batch_break(batch, own, before, expected, pacer)
                if found is not None:
                    return ReadingsIntegrity(checked_batches, checked_readings, prev_hash, found)
                checked_batches += 1
                checked_readings += len(own)
                prev_hash = bytes(batch.hash)
            if pending is not None:
                found = ChainBreak(
                    pending.batch_id,
                    pending.id,
                    "inserted",
                    f"reading {pending.id} belongs to no recorded batch",
                )
                return ReadingsIntegrity(checked_batches, checked_readings, prev_hash, found)
        head = prev_hash if checked_batches else None
        return ReadingsIntegrity(checked_batches, checked_readings, head, None)


async def _each(result: AsyncResult[Any]) -> AsyncIterator[Any]:
    """The rows of a streamed result, a chunk fetched at a time: iterating the result itself
    costs a greenlet switch per row, more than re-hashing the row."""
    async for chunk in result.partitions():
        for row in chunk:
            yield row


def _verified_rows(plan_id: str | None) -> tuple[Any, Any]:
    """The batches and their readings to verify, in order: all, or one plan's."""
    if plan_id is None:
        batches = select(reading_batches).order_by(reading_batches.c.id)
        return batches, select(readings).order_by(readings.c.batch_id, readings.c.id)
    earlier = reading_batches.alias("earlier")
    before = (
        select(earlier.c.hash)
        .where(earlier.c.id < reading_batches.c.id)
        .order_by(earlier.c.id.desc())
        .limit(1)
        .scalar_subquery()
        .label("before_hash")
    )
    own = reading_batches.c.plan_id == plan_id
    batches = select(reading_batches, before).where(own).order_by(reading_batches.c.id)
    ids = select(reading_batches.c.id).where(own)
    members = (
        select(readings)
        .where(readings.c.batch_id.in_(ids))
        .order_by(readings.c.batch_id, readings.c.id)
    )
    return batches, members


def _source_of(content: Content) -> tuple[Any, Any]:
    return content[SOURCE], content[SOURCE_ID]


# One statement whatever the batch size: a join against the pairs as arrays.
_ROWS_FOR_SOURCES = (
    "SELECT r.id, r.source, r.source_reading_id, r.content_hash FROM readings r "
    "JOIN unnest($1::text[], $2::text[]) AS k(source, sid) "
    "ON r.source = k.source AND r.source_reading_id = k.sid"
)


def _source_pairs(sources: Sequence[ReadingSource]) -> list[tuple[str, str]]:
    """The (source, source reading id) pairs of a batch (a pair sent twice finds its rows
    twice, which `_latest_hashes` takes in its stride: cheaper than a set of 10,000)."""
    return [(s.integration, s.reading_id) for s in sources if s.reading_id is not None]


# Readings checked between two turns of the event loop (in which the driver sends a COPY's
# rows and reads the database's answers), and rows per COPY.
_CHECKED_PER_TURN = 250
_ROWS_PER_COPY = 2_000


@dataclass
class _Attempt:
    plan_id: str
    actor: str
    key: str | None
    batch: BatchCheck
    checked: list[CheckedReading] | None = None  # checked ahead (SQLite)
    request: bytes | None = None  # the batch's request hash, once computed


@dataclass
class _Writing:
    """A batch on its way into the table: rows waiting for the duplicate lookup's answer,
    rows ready to copy, and what the batch row will say."""

    batch_id: int
    recorded_at: dt.datetime
    prev_hash: bytes
    request: Any  # the running SHA-256 of the request
    known: set[tuple[str, str, bytes]] | None = None  # until the lookup answers
    checked: int = 0
    fresh: list[bytes] = field(default_factory=list)  # content hashes of the rows stored
    waiting: list[tuple[Content, bytes, CheckedReading]] = field(default_factory=list)
    ready: list[Content] = field(default_factory=list)

    def take(self, plan_id: str, chunk: list[CheckedReading]) -> None:
        for reading in chunk:
            content = content_of(plan_id, reading)
            digest = content_hash(content)
            self.request.update(digest)
            self.waiting.append((content, digest, reading))
        self.checked += len(chunk)
        if self.known is not None:
            self._sort()

    def knows(self, rows: Sequence[Any]) -> None:
        self.known = _latest_hashes(rows)
        self._sort()

    def has_full_copy(self) -> bool:
        return len(self.ready) >= _ROWS_PER_COPY

    def rows_to_copy(self) -> list[Content]:
        rows, self.ready = self.ready, []
        return rows

    def _sort(self) -> None:
        known, batch_id, at = self.known, self.batch_id, self.recorded_at
        for content, digest, reading in self.waiting:
            if known and (content[SOURCE], content[SOURCE_ID], digest) in known:
                continue  # sent before with the same content: a duplicate
            self.fresh.append(digest)
            period = reading.period
            self.ready.append((*content, batch_id, period.start, period.end, at, digest))
        self.waiting = []


def _done(value: T) -> asyncio.Future[T]:
    """An operation that has already run (SQLite, or nothing to do), as one in flight."""
    future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


async def _let_run(operation: asyncio.Future[Any]) -> None:
    """One turn of the loop for an operation just started on the connection. Cancelled in
    that turn, the caller would never see the operation again: it is waited for first."""
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        await _settled(operation)
        raise


async def _settled(*operations: asyncio.Future[Any] | None) -> None:
    """Waits for operations in flight, whatever their outcome — even when the caller is
    cancelled meanwhile (a cancel scope cancels every await anew): an operation left running
    on the connection made the ROLLBACK that follows fail with "another operation is in
    progress", and the connection went back to the pool mid-COPY. On the way out after an
    error, theirs would only repeat or follow from it: taken here, so asyncio does not log them
    as never retrieved; on the way out after success the caller awaits them and sees any."""
    cancelled = False
    for operation in operations:
        if operation is None:
            continue
        while not operation.done():
            try:
                await asyncio.wait([operation])
            except asyncio.CancelledError:
                cancelled = True  # delivered once the connection is free again
        if not operation.cancelled():
            operation.exception()
    if cancelled:
        raise asyncio.CancelledError


def _latest_hashes(rows: Sequence[Any]) -> set[tuple[str, str, bytes]]:
    """(source, source id, content hash) of the latest stored reading per source id: a resend
    of the same content is a duplicate, not news."""
    latest: dict[tuple[str, str], tuple[int, bytes]] = {}
    for id_, source, source_id, hash_ in rows:
        pair = (source, source_id)
        if pair not in latest or latest[pair][0] < id_:
            latest[pair] = (id_, bytes(hash_))
    return {(s, r, h) for (s, r), (_, h) in latest.items()}


def _replayed(found: Any, key: str, request: bytes) -> BatchOutcome:
    """The earlier batch sent with this key: the same request is answered as then."""
    if not hmac.compare_digest(bytes(found.request_hash), request):
        raise IdempotencyKeyReusedError(key)
    return BatchOutcome(found.id, 0, found.stored + found.duplicates, found.recorded_at, True)


def _narrowed(statement: Any, query: ReadingQuery) -> Any:
    """The query's filters in SQL. Each one keeps or drops whole (series, period) groups, so
    which reading supersedes which is unchanged by narrowing first."""
    if query.as_of is not None:
        statement = statement.where(readings.c.recorded_at <= query.as_of)
    if query.disaggregation is not None:
        statement = statement.where(readings.c.series == series_key(query.disaggregation))
    if query.from_period is not None:
        statement = statement.where(readings.c.period_start >= query.from_period.start)
    if query.to_period is not None:
        statement = statement.where(readings.c.period_end <= query.to_period.end)
    return statement


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _reading(row: Any) -> Reading:
    return Reading(
        id=row.id,
        batch_id=row.batch_id,
        plan_id=row.plan_id,
        kpi_id=row.kpi_id,
        period=row.period,
        series=row.series,
        status=ReadingStatus(row.status),
        value=_decimal(row.value),
        text=row.text,
        numerator=_decimal(row.numerator),
        denominator=_decimal(row.denominator),
        source=ReadingSource(row.source, row.source_reading_id) if row.source else None,
        note=row.note,
        recorded_at=row.recorded_at,
    )
