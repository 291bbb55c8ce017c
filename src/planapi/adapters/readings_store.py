"""Readings: append-only rows, one hash-chained batch row per accepted request."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import insert, select, text, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from planapi.adapters.database import is_sqlite
from planapi.adapters.hashing import GENESIS, canonical, timestamp
from planapi.adapters.tables import reading_batches, readings
from planapi.application.ports import BatchOutcome, ChainBreak, Clock, ReadingsIntegrity
from planapi.domain.errors import IdempotencyKeyReusedError
from planapi.domain.readings import (
    CheckedReading,
    Reading,
    ReadingQuery,
    ReadingSource,
    ReadingStatus,
    series_key,
)

# Appends of batches are serialised (each chains to the one before); this lock id is ours.
_BATCH_LOCK = 0x706C616E  # "plan"
_COLUMNS = [
    "batch_id", "plan_id", "kpi_id", "series", "period", "period_start", "period_end", "status",
    "value", "numerator", "denominator", "text", "source", "source_reading_id", "note",
    "recorded_at", "content_hash",
]  # fmt: skip
_CONTENT = [
    c
    for c in _COLUMNS
    if c not in {"batch_id", "period_start", "period_end", "recorded_at", "content_hash"}
]


def _number(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def content_of(plan_id: str, checked: CheckedReading) -> dict[str, Any]:
    reading, source = checked.reading, checked.reading.source
    return {
        "plan_id": plan_id,
        "kpi_id": reading.kpi_id,
        "series": reading.series,
        "period": checked.period.id,
        "status": reading.status.value,
        "value": _number(checked.value),
        "numerator": _number(reading.numerator),
        "denominator": _number(reading.denominator),
        "text": reading.text,
        "source": source.integration if source else None,
        "source_reading_id": source.reading_id if source else None,
        "note": reading.note,
    }


# A fixed field order in a JSON array: one byte string per content, and msgspec's encoder is
# five times faster than json.dumps on the ingestion path. Only this function hashes readings.
_ENCODE = msgspec.json.Encoder().encode


def content_hash(content: dict[str, Any]) -> bytes:
    return hashlib.sha256(_ENCODE([content[name] for name in _CONTENT])).digest()


def batch_hash(prev_hash: bytes, header: dict[str, Any], hashes: Sequence[bytes]) -> bytes:
    digest = hashlib.sha256(prev_hash)
    digest.update(
        canonical(
            [
                header["id"],
                header["plan_id"],
                header["idempotency_key"],
                header["actor"],
                timestamp(header["recorded_at"]),
                header["stored"],
                header["duplicates"],
            ]
        )
    )
    for item in hashes:
        digest.update(item)
    return digest.digest()


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
        readings_: Sequence[CheckedReading],
    ) -> BatchOutcome:
        contents = [content_of(plan_id, checked) for checked in readings_]
        hashes = [content_hash(content) for content in contents]
        request = hashlib.sha256(canonical(plan_id) + b"".join(hashes)).digest()
        try:
            async with self.engine.connect() as conn:
                if self._sqlite:
                    conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
                async with conn.begin():
                    return await self._record(
                        conn, plan_id, actor, idempotency_key, request, readings_, contents, hashes
                    )
        except IntegrityError:
            # Only a racing twin with the same idempotency key gets here; it has committed.
            if idempotency_key is None:
                raise
            async with self.engine.connect() as conn:
                replay = await self._replay(conn, idempotency_key, request)
            if replay is None:
                raise
            return replay

    async def _record(
        self,
        conn: AsyncConnection,
        plan_id: str,
        actor: str,
        key: str | None,
        request: bytes,
        checked: Sequence[CheckedReading],
        contents: list[dict[str, Any]],
        hashes: list[bytes],
    ) -> BatchOutcome:
        if not self._sqlite:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _BATCH_LOCK})
        if key is not None:
            replay = await self._replay(conn, key, request)
            if replay is not None:
                return replay
        known = await self._already_stored(conn, contents, hashes)
        fresh = [
            i
            for i, h in enumerate(hashes)
            if (contents[i]["source"], contents[i]["source_reading_id"], h) not in known
        ]
        head = (
            await conn.execute(
                select(reading_batches.c.id, reading_batches.c.hash, reading_batches.c.recorded_at)
                .order_by(reading_batches.c.id.desc())
                .limit(1)
            )
        ).first()
        now = self.clock.now().astimezone(dt.UTC)
        recorded_at = max(now, head.recorded_at) if head else now
        header: dict[str, Any] = {
            "id": (head.id + 1) if head else 1,
            "plan_id": plan_id,
            "idempotency_key": key,
            "actor": actor,
            "recorded_at": recorded_at,
            "stored": len(fresh),
            "duplicates": len(checked) - len(fresh),
        }
        prev_hash = bytes(head.hash) if head else GENESIS
        row = {
            **header,
            "request_hash": request,
            "prev_hash": prev_hash,
            "hash": batch_hash(prev_hash, header, [hashes[i] for i in fresh]),
        }
        await conn.execute(insert(reading_batches).values(**row))
        rows = [
            {
                **contents[i],
                "batch_id": header["id"],
                "period_start": checked[i].period.start,
                "period_end": checked[i].period.end,
                "recorded_at": recorded_at,
                "content_hash": hashes[i],
            }
            for i in fresh
        ]
        await self._insert_readings(conn, rows)
        return BatchOutcome(header["id"], len(fresh), header["duplicates"], recorded_at, False)

    async def _insert_readings(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if self._sqlite:
            await conn.execute(insert(readings), rows)
            return
        # COPY: the fastest way into PostgreSQL, inside the same transaction.
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(
            "readings", records=[[r[c] for c in _COLUMNS] for r in rows], columns=_COLUMNS
        )

    async def _replay(self, conn: AsyncConnection, key: str, request: bytes) -> BatchOutcome | None:
        found = (
            await conn.execute(
                select(reading_batches).where(reading_batches.c.idempotency_key == key)
            )
        ).first()
        if found is None:
            return None
        if not hmac.compare_digest(bytes(found.request_hash), request):
            raise IdempotencyKeyReusedError(key)
        total = found.stored + found.duplicates
        return BatchOutcome(found.id, 0, total, found.recorded_at, True)

    async def _already_stored(
        self, conn: AsyncConnection, contents: list[dict[str, Any]], hashes: list[bytes]
    ) -> set[tuple[str, str, bytes]]:
        """(source, source id, content hash) of the latest stored reading per source id, for the
        source ids in this batch: a resend of the same content is a duplicate, not news."""
        wanted = {
            (c["source"], c["source_reading_id"])
            for c in contents
            if c["source"] is not None and c["source_reading_id"] is not None
        }
        if not wanted:
            return set()
        latest: dict[tuple[str, str], tuple[int, bytes]] = {}
        for row in await self._rows_for_sources(conn, sorted(wanted)):
            pair = (row.source, row.source_reading_id)
            if pair not in latest or latest[pair][0] < row.id:
                latest[pair] = (row.id, bytes(row.content_hash))
        return {(s, r, h) for (s, r), (_, h) in latest.items()}

    async def _rows_for_sources(
        self, conn: AsyncConnection, pairs: list[tuple[str, str]]
    ) -> list[Any]:
        if not self._sqlite:
            # One statement whatever the batch size: a join against the pairs as arrays.
            query = text(
                "SELECT r.id, r.source, r.source_reading_id, r.content_hash FROM readings r "
                "JOIN unnest(CAST(:sources AS TEXT[]), CAST(:ids AS TEXT[])) AS k(source, sid) "
                "ON r.source = k.source AND r.source_reading_id = k.sid"
            )
            params = {"sources": [s for s, _ in pairs], "ids": [i for _, i in pairs]}
            return list(await conn.execute(query, params))
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

    async def verify(self) -> ReadingsIntegrity:
        batches = select(reading_batches).order_by(reading_batches.c.id)
        members = select(readings).order_by(readings.c.batch_id, readings.c.id)
        checked_batches = checked_readings = 0
        prev_hash = GENESIS
        async with self.engine.connect() as conn:
            rows = (await conn.stream(members.execution_options(yield_per=5_000))).__aiter__()
            pending = await anext(rows, None)
            async for batch in await conn.stream(batches):
                own: list[Any] = []
                while pending is not None and pending.batch_id == batch.id:
                    own.append(pending)
                    pending = await anext(rows, None)
                found = _batch_break(batch, own, prev_hash, checked_batches + 1)
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


def _batch_break(batch: Any, own: list[Any], prev_hash: bytes, expected: int) -> ChainBreak | None:
    if batch.id != expected:
        return ChainBreak(expected, None, "removed", f"batch {expected} is missing")
    if not hmac.compare_digest(bytes(batch.prev_hash), prev_hash):
        return ChainBreak(
            batch.id, None, "inserted", "its previous-hash does not match the batch before it"
        )
    hashes = []
    for row in own:
        content = {name: getattr(row, name) for name in _CONTENT}
        if not hmac.compare_digest(content_hash(content), bytes(row.content_hash)):
            return ChainBreak(
                batch.id, row.id, "altered", f"reading {row.id} no longer matches its content hash"
            )
        if row.recorded_at != batch.recorded_at:
            return ChainBreak(
                batch.id,
                row.id,
                "altered",
                f"reading {row.id} has another recorded time than its batch",
            )
        hashes.append(bytes(row.content_hash))
    if len(own) != batch.stored:
        return ChainBreak(
            batch.id,
            None,
            "removed" if len(own) < batch.stored else "inserted",
            f"batch {batch.id} recorded {batch.stored} readings, {len(own)} remain",
        )
    header = {
        name: getattr(batch, name)
        for name in (
            "id",
            "plan_id",
            "idempotency_key",
            "actor",
            "recorded_at",
            "stored",
            "duplicates",
        )
    }
    if not hmac.compare_digest(batch_hash(prev_hash, header, hashes), bytes(batch.hash)):
        return ChainBreak(batch.id, None, "altered", f"batch {batch.id} no longer matches its hash")
    return None


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
