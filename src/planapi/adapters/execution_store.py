"""Execution records on both backends: append-only rows (triggers refuse UPDATE and DELETE),
idempotent by (plan, key), each chained per plan to the one before it —
`hash = SHA-256(prev_hash ‖ canonical row)` — so `verify` names the first row altered, inserted
or removed. Appends to one plan are serialised (PostgreSQL: a transaction-scoped advisory lock
on the plan; SQLite: its one writer, taken up front), so the chain never forks."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from planapi.adapters.advisory_locks import scoped
from planapi.adapters.database import is_sqlite, reading, writing
from planapi.adapters.hashing import GENESIS, canonical, timestamp
from planapi.adapters.tables import execution_records as table
from planapi.application.ports import Clock
from planapi.domain.activity_values import ActivityStatus, FundingSource
from planapi.domain.errors import IdempotencyKeyReusedError
from planapi.domain.execution import (
    ExecutionIntegrity,
    ExecutionKind,
    ExecutionRecord,
    Fact,
    StoredExecution,
)

_FIELDS = (
    "record_key",
    "activity_id",
    "kind",
    "occurred_on",
    "status",
    "milestone_key",
    "year",
    "source",
    "amount",
)


def _row(record: ExecutionRecord) -> dict[str, Any]:
    return {
        "record_key": record.key,
        "activity_id": record.activity_id,
        "kind": record.kind.value,
        "occurred_on": record.occurred_on,
        "status": record.status.value if record.status else None,
        "milestone_key": record.milestone_key,
        "year": record.year,
        "source": record.source.value if record.source else None,
        "amount": str(record.amount) if record.amount is not None else None,
    }


# Stored values to members by dict look-up: an Enum call per value costs several times more.
_KINDS = {kind.value: kind for kind in ExecutionKind}
_STATUSES = {status.value: status for status in ActivityStatus}
_SOURCES = {source.value: source for source in FundingSource}
# What a read needs: not the hashes, which only `verify` checks.
_READ = [table.c.id, *(table.c[name] for name in _FIELDS), table.c.actor, table.c.recorded_at]
# What the fold needs (`Fact`), in its order: neither keys, actors, nor instants to sort by.
_FACTS = [table.c[name] for name in _FIELDS if name != "record_key"]
_FOLD_ORDER = (table.c.occurred_on, table.c.recorded_at, table.c.id)
# Built once, the plan bound per call (as `event_store._LATEST`): every cold dashboard of an
# operational plan reads its facts.
_FACTS_OF = select(*_FACTS).where(table.c.plan_id == bindparam("plan_id")).order_by(*_FOLD_ORDER)
# Records already stored under these keys, built once: an `in_` of a list built per call leaves
# its bound parameters in reference cycles (merkle_log.py says more).
_KNOWN = select(*_READ).where(
    table.c.plan_id == bindparam("plan_id"),
    table.c.record_key.in_(bindparam("keys", expanding=True)),
)


def _stored(row: Any) -> StoredExecution:
    # Unpacked by position (the order of `_READ`): a Row's attribute look-up per column was a
    # good part of reading a plan's rows.
    id_, key, *fields, actor, at = row
    return StoredExecution(id_, ExecutionRecord(key, *_fact(fields)), actor, at)


def _fact(fields: Sequence[Any]) -> Fact:
    """A record's stored values from its activity on (the order of `_FACTS`), as the domain's."""
    activity_id, kind, occurred_on, status, milestone, year, source, amount = fields
    return (
        activity_id,
        _KINDS[kind],
        occurred_on,
        _STATUSES[status] if status else None,
        milestone,
        year,
        _SOURCES[source] if source else None,
        Decimal(amount) if amount is not None else None,
    )


def row_hash(prev_hash: bytes, plan_id: str, row: dict[str, Any]) -> bytes:
    """What a row's hash covers: the plan, every field as stored, who and when."""
    parts = [plan_id, *(_plain(row[name]) for name in _FIELDS), row["actor"]]
    parts.append(timestamp(row["recorded_at"]))
    return hashlib.sha256(prev_hash + canonical(parts)).digest()


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def _lock_id(plan_id: str) -> int:
    """A per-plan advisory lock id (63 bits of the plan id's SHA-256)."""
    return int.from_bytes(hashlib.sha256(b"execution:" + plan_id.encode()).digest()[:8]) >> 1


class SqlExecutionStore:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._sqlite = is_sqlite(engine)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with writing(self.engine) as conn:
            yield conn

    async def append(
        self, plan_id: str, actor: str, records: Sequence[ExecutionRecord]
    ) -> tuple[list[StoredExecution], int]:
        """Store the records whose keys are new; (what was stored, how many were resends).
        A known key with other content raises IdempotencyKeyReusedError, storing nothing."""
        async with self._transaction() as conn:
            if not self._sqlite:
                await conn.execute(
                    text(f"SELECT pg_advisory_xact_lock({scoped('id')})"), {"id": _lock_id(plan_id)}
                )
            known = await self._known(conn, plan_id, [r.key for r in records])
            fresh = [r for r in records if r.key not in known]
            for record in records:
                if record.key in known and known[record.key] != record:
                    raise IdempotencyKeyReusedError(record.key, "another execution record")
            fresh = list({r.key: r for r in fresh}.values())
            return await self._insert(conn, plan_id, actor, fresh), len(records) - len(fresh)

    async def _known(
        self, conn: AsyncConnection, plan_id: str, keys: list[str]
    ) -> dict[str, ExecutionRecord]:
        rows = await conn.execute(_KNOWN, {"plan_id": plan_id, "keys": keys})
        found = [_stored(row).record for row in rows]
        return {record.key: record for record in found}

    async def _insert(
        self, conn: AsyncConnection, plan_id: str, actor: str, records: list[ExecutionRecord]
    ) -> list[StoredExecution]:
        head = (
            await conn.execute(
                select(table.c.id, table.c.hash, table.c.recorded_at)
                .where(table.c.plan_id == plan_id)
                .order_by(table.c.id.desc())
                .limit(1)
            )
        ).first()
        prev = head.hash if head else GENESIS
        now = self.clock.now().astimezone(dt.UTC)
        if head is not None and head.recorded_at > now:
            now = head.recorded_at  # monotonic within a plan, so asOf is well defined
        stored: list[StoredExecution] = []
        for record in records:
            row = {**_row(record), "plan_id": plan_id, "actor": actor, "recorded_at": now}
            row["prev_hash"], row["hash"] = prev, row_hash(prev, plan_id, row)
            found = await conn.execute(insert(table).values(**row).returning(table.c.id))
            stored.append(StoredExecution(found.scalar_one(), record, actor, now))
            prev = row["hash"]
        return stored

    async def read(self, plan_id: str, as_of: dt.datetime | None = None) -> list[StoredExecution]:
        query = select(*_READ).where(table.c.plan_id == plan_id).order_by(table.c.id)
        if as_of is not None:
            query = query.where(table.c.recorded_at <= as_of)
        async with reading(self.engine) as conn:
            rows = await conn.execute(query)
            return [_stored(row) for row in rows]

    async def facts(self, plan_id: str, as_of: dt.datetime | None = None) -> list[Fact]:
        query = _FACTS_OF
        if as_of is not None:
            query = query.where(table.c.recorded_at <= as_of)
        async with reading(self.engine) as conn:
            return [_fact(row) for row in await conn.execute(query, {"plan_id": plan_id})]

    async def verify(self, plan_id: str) -> ExecutionIntegrity:
        """Re-hash the plan's rows in id order; the first whose hash or link disagrees."""
        prev = GENESIS
        checked = 0
        async with self.engine.connect() as conn:
            count = (
                await conn.execute(
                    select(func.count()).select_from(table).where(table.c.plan_id == plan_id)
                )
            ).scalar_one()
            query = select(table).where(table.c.plan_id == plan_id).order_by(table.c.id)
            for row in await conn.execute(query):
                stored = dict(row._mapping)
                if row.prev_hash != prev or row_hash(prev, plan_id, stored) != row.hash:
                    return ExecutionIntegrity(checked=checked, first_break=row.id)
                prev, checked = row.hash, checked + 1
        assert checked == count
        return ExecutionIntegrity(checked=checked, first_break=None)
