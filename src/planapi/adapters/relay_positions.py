"""Where each relay has published the event log up to (`relay_positions`), and the lock that keeps
one relay of a name running at a time on PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from planapi.adapters.advisory_locks import scoped
from planapi.adapters.database import is_sqlite
from planapi.adapters.tables import relay_positions


class SqlRelayPositions:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = sqlite_insert if is_sqlite(engine) else pg_insert

    async def get(self, name: str) -> int:
        """The last position published and acknowledged; 0 before the first."""
        query = select(relay_positions.c.position).where(relay_positions.c.name == name)
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).scalar() or 0

    async def save(self, name: str, position: int) -> None:
        """Record `position` as published; never moves a relay's position backwards."""
        statement = self._insert(relay_positions).values(name=name, position=position)
        statement = statement.on_conflict_do_update(
            index_elements=[relay_positions.c.name],
            set_={"position": statement.excluded.position},
            where=relay_positions.c.position < statement.excluded.position,
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    @asynccontextmanager
    async def lock(self, name: str) -> AsyncIterator[RelayLock]:
        """A lock that keeps one relay of a name publishing at a time: on PostgreSQL a session
        advisory lock on a connection of its own (released when the process dies); SQLite is
        one machine's file, and its lock is always free."""
        if is_sqlite(self.engine):
            yield RelayLock(None, 0)
            return
        digest = hashlib.sha256(f"planapi-relay:{name}".encode()).digest()
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            held = RelayLock(conn, int.from_bytes(digest[:8], "big", signed=True))
            try:
                yield held
            finally:
                await held.release()


class RelayLock:
    def __init__(self, conn: AsyncConnection | None, key: int) -> None:
        self._conn = conn
        self._key = key
        self.held = conn is None

    async def try_acquire(self) -> bool:
        if not self.held and self._conn is not None:
            query = text(f"SELECT pg_try_advisory_lock({scoped('k')})")
            found = await self._conn.execute(query, {"k": self._key})
            self.held = bool(found.scalar())
        return self.held

    async def release(self) -> None:
        if self.held and self._conn is not None:
            await self._conn.execute(
                text(f"SELECT pg_advisory_unlock({scoped('k')})"), {"k": self._key}
            )
        self.held = False
