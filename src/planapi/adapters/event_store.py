"""The append-only, hash-chained event log, on PostgreSQL and SQLite alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing, asynccontextmanager
from typing import Any

from sqlalchemy import (
    Text,
    cast,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from planapi.adapters import event_rows
from planapi.adapters.codec import (
    CodecError,
    decode_event,
)
from planapi.adapters.database import is_sqlite
from planapi.adapters.event_rows import chain_break, event_row, key_row, recorded_from, rehash
from planapi.adapters.failures import committing, connection_lost
from planapi.adapters.hashing import GENESIS, canonical_text
from planapi.adapters.tables import command_keys, event_nodes, events
from planapi.application.failures import StoreUnavailableError
from planapi.application.pacing import Pacer
from planapi.application.ports import (
    Clock,
    CommandKey,
    Finding,
    IntegrityReport,
    Recorded,
    RecordedFact,
    index_findings,
)
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
# The JSON columns as the text they were stored as: verification hashes it without parsing.
_RAW_COLUMNS = tuple(
    cast(column, Text).label(column.name) if column.name in ("data", "meta") else column
    for column in _COLUMNS
    if column.name != "stream_id"
)
_CHUNK = 10_000
_PG_STORED_ROWS = (
    "SELECT position, version, type, schema_version, data::text, meta::text, recorded_at,"
    " prev_hash, hash FROM events WHERE stream_id = $1 ORDER BY version"
)
# PostgreSQL hands out positions at insert but makes rows visible at commit: two concurrent
# appends could become visible in the opposite order of their positions, and a follower reading
# `position > n` would pass the later-committing one for good. (Recording transaction ids and
# reading below the oldest running one does not close it: the id and the position are taken at
# different moments, so their orders can disagree too.) Appends therefore take this
# transaction-scoped lock before their position: the next append can only take a position once
# the previous one is visible, so visibility follows position order, as the eventsourcing
# library does with LOCK TABLE. Appends to all plans queue on it, for about one commit each.
APPEND_LOCK = 0x706C616E6576  # "planev"

_PG_APPEND = text(
    "WITH serialised AS MATERIALIZED (SELECT pg_advisory_xact_lock(:lock)),"
    " appended AS ("
    " INSERT INTO events (stream_id, version, type, schema_version, data, meta, recorded_at,"
    " prev_hash, hash) SELECT :stream_id, :version, :type, :schema_version,"
    " CAST(:data AS JSON), CAST(:meta AS JSON), :recorded_at, :prev_hash, :hash"
    " FROM serialised RETURNING position),"
    " indexed AS (INSERT INTO event_nodes (stream_id, node_id, version)"
    " SELECT :stream_id, node, :version FROM unnest(CAST(:nodes AS TEXT[])) AS node)"
    " SELECT position FROM appended"
)
# The same, with an idempotency key's row: one statement still, so one round trip.
_PG_APPEND_KEYED = text(
    _PG_APPEND.text.removesuffix(" SELECT position FROM appended")
    + ", keyed AS (INSERT INTO command_keys (stream_id, actor, idempotency_key, request_hash,"
    " version, recorded_at) SELECT :stream_id, :actor, :idempotency_key, :request_hash,"
    " :version, :recorded_at FROM appended)"
    " SELECT position FROM appended"
)


class SqlEventStore:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._sqlite = is_sqlite(engine)
        self._insert_statement = insert(events).returning(events.c.position)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: on SQLite it holds the write lock from its first statement."""
        async with self.engine.connect() as conn:
            if self._sqlite:
                conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
            async with committing(conn):
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
            position = await _insert_postgres(conn, values, touched, command)
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
        query = select(func.max(events.c.version)).where(events.c.stream_id == stream_id)
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).scalar() or 0

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
        query = (
            select(event_nodes.c.node_id, *_COLUMNS)
            .join(
                events,
                (events.c.stream_id == event_nodes.c.stream_id)
                & (events.c.version == event_nodes.c.version),
            )
            .where(
                event_nodes.c.stream_id == stream_id,
                event_nodes.c.node_id.in_(list(found)),
                event_nodes.c.version <= upto_version,
            )
            .order_by(events.c.version)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
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
        async with self.engine.connect() as conn:
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
        checked, prev_hash, expected = 0, GENESIS, 1
        pacer = Pacer()
        async with aclosing(self._stored_rows(stream_id)) as chunks:  # closes the cursor early
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
        return IntegrityReport(
            stream_id, checked, expected - 1, prev_hash if checked else None, None
        )

    async def verify_index(self, stream_id: str) -> list[Finding]:
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
        async with self.engine.connect() as conn:
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

    async def _stored_rows(self, stream_id: str) -> AsyncGenerator[Sequence[Sequence[Any]], None]:
        """Chunks of (position, version, type, schema_version, data text, meta text,
        recorded_at, prev_hash, hash) in version order."""
        async with self.engine.connect() as conn:
            if self._sqlite:
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

    async def _fetch(self, query: Any) -> list[Recorded]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [recorded_from(row) for row in rows]


async def _insert_postgres(
    conn: AsyncConnection,
    values: dict[str, Any],
    touched: list[str],
    command: CommandKey | None,
) -> int:
    # One round trip: the event and its node index in a single statement.
    params = {
        **values,
        "data": canonical_text(values["data"]),
        "meta": canonical_text(values["meta"]),
        "recorded_at": values["recorded_at"].astimezone(dt.UTC),
        "nodes": touched,
        "lock": APPEND_LOCK,
    }
    statement = _PG_APPEND
    if command is not None:
        statement = _PG_APPEND_KEYED
        params.update(key_row(values, command), recorded_at=params["recorded_at"])
    position: int = (await conn.execute(statement, params)).scalar_one()
    return position
