"""The append-only, hash-chained event log, on PostgreSQL and SQLite alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from planapi.adapters import event_checks, event_rows
from planapi.adapters.database import is_sqlite, reading, writing
from planapi.adapters.event_rows import event_row, key_row, recorded_from
from planapi.adapters.failures import connection_lost
from planapi.adapters.postgres_append import insert_postgres
from planapi.adapters.tables import command_keys, event_nodes, events
from planapi.application.failures import StoreUnavailableError
from planapi.application.ports import (
    Clock,
    CommandKey,
    Finding,
    IntegrityReport,
    Recorded,
)
from planapi.application.proposal_ports import RecordedFact
from planapi.domain.errors import VersionConflictError
from planapi.domain.events import AmendmentInfo, PlanEvent
from planapi.domain.history import touched_nodes

_COLUMNS = (
    events.c.position,
    events.c.stream_id,
    events.c.version,
    events.c.type,
    events.c.schema_version,
    events.c.data,
    events.c.meta,
    events.c.recorded_at,
    events.c.prev_hash,
    events.c.hash,
)

# Built once, its values bound per call: building a statement cost about a third of a cold
# plan read's CPU for it (0.11 of 0.34 ms), and every cold read of a plan sends this one.
_LATEST = select(func.max(events.c.version)).where(events.c.stream_id == bindparam("stream_id"))
# The events that touched any of these nodes, built once: an `in_` of a list built per call
# leaves its bound parameters in reference cycles (merkle_log.py says more).
_TOUCHING_MANY = (
    select(event_nodes.c.node_id, *_COLUMNS)
    .join(
        events,
        (events.c.stream_id == event_nodes.c.stream_id)
        & (events.c.version == event_nodes.c.version),
    )
    .where(
        event_nodes.c.stream_id == bindparam("stream_id"),
        event_nodes.c.node_id.in_(bindparam("node_ids", expanding=True)),
        event_nodes.c.version <= bindparam("upto"),
    )
    .order_by(events.c.version)
)


async def expected_head(conn: AsyncConnection, stream_id: str, expected_version: int) -> Any:
    """The stream's head row (version, hash, recorded_at; None for a new stream), read in the
    writer's transaction so the append chains to it, provided it is still `expected_version`."""
    head = (
        await conn.execute(
            select(events.c.version, events.c.hash, events.c.recorded_at)
            .where(events.c.stream_id == stream_id)
            .order_by(events.c.version.desc())
            .limit(1)
        )
    ).first()
    actual = head.version if head else 0
    if actual != expected_version:
        raise VersionConflictError(stream_id, expected_version, actual)
    return head


class SqlEventStore:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._sqlite = is_sqlite(engine)
        self._insert_statement = insert(events).returning(events.c.position)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: on SQLite it holds the write lock from its first statement."""
        async with writing(self.engine) as conn:
            yield conn

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        event: PlanEvent,
        info: AmendmentInfo,
        previous: Recorded | None = None,
        command: CommandKey | None = None,
    ) -> Recorded:
        try:
            if previous is not None and previous.version == expected_version and not self._sqlite:
                # The head is known (versions never change), so the append is one statement,
                # committed on its own: the unique (stream_id, version) key turns a lost race
                # into a conflict, and an idempotency key already taken rolls it all back.
                async with self.engine.connect() as conn:
                    conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    try:
                        return await self._insert(conn, stream_id, event, info, previous, command)
                    except DBAPIError as error:
                        # The statement commits itself: lost on the way, it may have landed.
                        if connection_lost(error):
                            raise StoreUnavailableError(outcome_unknown=True) from error
                        raise
            async with self.transaction() as conn:
                if previous is not None and previous.version == expected_version:
                    return await self._insert(conn, stream_id, event, info, previous, command)
                return await self.append_in(conn, stream_id, expected_version, event, info, command)
        except IntegrityError as error:
            actual = await self.latest_version(stream_id)
            raise VersionConflictError(stream_id, expected_version, actual) from error

    async def append_in(
        self,
        conn: AsyncConnection,
        stream_id: str,
        expected_version: int,
        event: PlanEvent,
        info: AmendmentInfo,
        command: CommandKey | None = None,
    ) -> Recorded:
        head = await expected_head(conn, stream_id, expected_version)
        return await self._insert(conn, stream_id, event, info, head, command)

    async def _insert(
        self,
        conn: AsyncConnection,
        stream_id: str,
        event: PlanEvent,
        info: AmendmentInfo,
        head: Any,
        command: CommandKey | None = None,
    ) -> Recorded:
        """Insert the version after `head` (a row or Recorded with version, hash, recorded_at;
        None for a new stream), chained to its hash, and `command`'s key row with it: a crash
        keeps both or neither, and of requests racing with one key the losers' appends fail
        whole (IntegrityError)."""
        now = self.clock.now()
        # Keep time monotonic within a stream so "as of an instant" is well defined.
        recorded_at = max(now, head.recorded_at) if head else now
        version = head.version + 1 if head else 1
        values = event_row(stream_id, version, event, info, recorded_at, head)
        touched = sorted(touched_nodes(event))
        if self._sqlite:
            position = await self._insert_sqlite(conn, values, touched, command)
        else:
            position = await insert_postgres(conn, values, touched, command)
        return Recorded(
            stream_id=stream_id,
            version=version,
            position=position,
            event=event,
            info=info,
            # UTC, as every later read of this event spells it (the clock may use another zone).
            recorded_at=recorded_at.astimezone(dt.UTC),
            hash=values["hash"],
        )

    async def _insert_sqlite(
        self,
        conn: AsyncConnection,
        values: dict[str, Any],
        touched: list[str],
        command: CommandKey | None,
    ) -> int:
        position: int = (await conn.execute(self._insert_statement, values)).scalar_one()
        if touched:
            stream_id, version = values["stream_id"], values["version"]
            rows = [{"stream_id": stream_id, "node_id": n, "version": version} for n in touched]
            await conn.execute(insert(event_nodes), rows)
        if command is not None:
            await conn.execute(insert(command_keys), key_row(values, command))
        return position

    async def command_key(self, stream_id: str, actor: str, key: str) -> tuple[bytes, int] | None:
        query = select(command_keys.c.request_hash, command_keys.c.version).where(
            command_keys.c.stream_id == stream_id,
            command_keys.c.actor == actor,
            command_keys.c.idempotency_key == key,
        )
        async with self.engine.connect() as conn:
            found = (await conn.execute(query)).first()
        return (bytes(found.request_hash), found.version) if found else None

    async def latest_version(self, stream_id: str) -> int:
        async with reading(self.engine) as conn:
            return (await conn.execute(_LATEST, {"stream_id": stream_id})).scalar() or 0

    async def version_at(self, stream_id: str, instant: dt.datetime) -> int:
        query = select(func.max(events.c.version)).where(
            events.c.stream_id == stream_id, events.c.recorded_at <= instant
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).scalar() or 0

    async def read(
        self, stream_id: str, after_version: int = 0, upto_version: int | None = None
    ) -> list[Recorded]:
        query = (
            select(*_COLUMNS)
            .where(events.c.stream_id == stream_id, events.c.version > after_version)
            .order_by(events.c.version)
        )
        if upto_version is not None:
            query = query.where(events.c.version <= upto_version)
        return await self._fetch(query)

    async def record(self, stream_id: str, version: int) -> Recorded | None:
        # The payload as its stored text, decoded only if the event is read.
        columns = [cast(c, Text).label("data") if c is events.c.data else c for c in _COLUMNS]
        query = select(*columns).where(events.c.stream_id == stream_id, events.c.version == version)
        async with reading(self.engine) as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else event_rows.deferred_from(row)

    async def read_backwards(
        self, stream_id: str, before_version: int, limit: int
    ) -> list[Recorded]:
        query = (
            select(*_COLUMNS)
            .where(events.c.stream_id == stream_id, events.c.version < before_version)
            .order_by(events.c.version.desc())
            .limit(limit)
        )
        return await self._fetch(query)

    async def touching(self, stream_id: str, node_id: str, upto_version: int) -> list[Recorded]:
        versions = (
            select(event_nodes.c.version)
            .where(
                event_nodes.c.stream_id == stream_id,
                event_nodes.c.node_id == node_id,
                event_nodes.c.version <= upto_version,
            )
            .scalar_subquery()
        )
        query = (
            select(*_COLUMNS)
            .where(events.c.stream_id == stream_id, events.c.version.in_(versions))
            .order_by(events.c.version)
        )
        return await self._fetch(query)

    async def touching_many(
        self, stream_id: str, node_ids: Sequence[str], upto_version: int
    ) -> dict[str, list[Recorded]]:
        found: dict[str, list[Recorded]] = {node_id: [] for node_id in node_ids}
        if not node_ids:
            return found
        given = {"stream_id": stream_id, "node_ids": list(found), "upto": upto_version}
        async with self.engine.connect() as conn:
            rows = (await conn.execute(_TOUCHING_MANY, given)).all()
        decoded: dict[int, Recorded] = {}
        for row in rows:
            recorded = decoded.get(row.version)
            if recorded is None:
                recorded = decoded[row.version] = recorded_from(row)
            found[row.node_id].append(recorded)
        return found

    async def latest_versions(self, prefix: str) -> dict[str, int]:
        query = (
            select(events.c.stream_id, func.max(events.c.version), func.min(events.c.position))
            .where(events.c.stream_id.startswith(prefix, autoescape=True))
            .group_by(events.c.stream_id)
            .order_by(func.min(events.c.position))
        )
        async with reading(self.engine) as conn:
            rows = (await conn.execute(query)).all()
        return {stream_id: latest for stream_id, latest, _ in rows}

    async def read_all(self, after_position: int, limit: int) -> list[Recorded | RecordedFact]:
        query = select(*_COLUMNS).where(events.c.position > after_position)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(events.c.position).limit(limit))).all()
        return [event_rows.any_recorded_from(row) for row in rows]  # proposals' facts too

    async def stream_ids(self, prefix: str) -> list[str]:
        query = (
            select(events.c.stream_id)
            .where(events.c.version == 1, events.c.stream_id.startswith(prefix, autoescape=True))
            .order_by(events.c.position)
        )
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def verify(self, stream_id: str) -> IntegrityReport:
        """Recompute the chain from the stored bytes; report the first place it breaks."""
        return await event_checks.verify_chain(self.engine, stream_id)

    async def verify_index(self, stream_id: str) -> list[Finding]:
        return await event_checks.verify_index(self.engine, stream_id)

    async def _fetch(self, query: Any) -> list[Recorded]:
        async with reading(self.engine) as conn:
            rows = (await conn.execute(query)).all()
        return [recorded_from(row) for row in rows]
