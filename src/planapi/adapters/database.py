"""Engines for the two supported backends, set up so that writers queue instead of failing."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from planapi.adapters.failures import committing, watch
from planapi.adapters.hashing import canonical_text

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def local_file(url: str) -> Path | None:
    """The file of a SQLite database (None for a server's database or SQLite in memory)."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def migrates_itself(engine: AsyncEngine) -> bool:
    """The embedded SQLite default migrates itself; a shared PostgreSQL is migrated by an
    operator (`planapi migrate`), never behind the back of the other processes using it."""
    return is_sqlite(engine)


def seeds_itself(engine: AsyncEngine) -> bool:
    """The embedded SQLite default starts with the demo plan when it holds none; a shared
    PostgreSQL holds only what its operators and callers put in."""
    return is_sqlite(engine)


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for ONE read statement, which commits on its own: on asyncpg no BEGIN
    before it and no ROLLBACK after it, one round trip where a transaction takes three (a cold
    read of a plan makes three such reads, and on a loaded machine each round trip is a
    context switch to the server and back). Never for several statements that must agree, nor
    for a server-side cursor (which needs a transaction)."""
    async with engine.connect() as conn:
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")


@asynccontextmanager
async def writing(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A write transaction (see `committing`). On SQLite it holds the write lock from BEGIN:
    a DEFERRED transaction that reads first and then writes fails "database is locked" at
    once, without waiting out busy_timeout, when another connection wrote in between (its read
    snapshot is stale), as a `tokens revoke` did while the app recorded a checkpoint."""
    async with engine.connect() as conn:
        if is_sqlite(engine):
            conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
        async with committing(conn):
            yield conn


def deployment_engine(
    url: str, *, pool_size: int, max_overflow: int, schema: str | None
) -> AsyncEngine:
    """The engine a deployment runs on: a SQLite file's folder is made if missing; PostgreSQL
    gets its overflow of connections and, if given, its schema on the search path."""
    if url.startswith("sqlite"):
        database = local_file(url)
        if database is not None:
            database.parent.mkdir(parents=True, exist_ok=True)
        return create_engine(url, pool_size=pool_size)
    options: dict[str, Any] = {"max_overflow": max_overflow}
    if schema:
        options["connect_args"] = {"server_settings": {"search_path": schema}}
    return create_engine(url, pool_size=pool_size, **options)


def create_engine(url: str, *, pool_size: int = 10, **options: Any) -> AsyncEngine:
    # JSON columns hold the canonical encoding, which the hash chain covers byte for byte;
    # msgspec reads it back several times faster than the standard library (a cold read of a
    # plan of 500 activities spent most of its time in `json.loads`).
    options.setdefault("json_serializer", canonical_text)
    options.setdefault("json_deserializer", msgspec.json.decode)
    if url.startswith("sqlite"):
        connect_args = {"factory": RollingBackOnClose, **options.pop("connect_args", {})}
        engine = create_async_engine(url, connect_args=connect_args, **options)
        _serialise_sqlite_writers(engine)
        watch(engine)
        return engine
    # No pre-ping: on asyncpg it is three round trips a checkout (BEGIN, ";", ROLLBACK);
    # recycling bounds a connection's age, and a connection the server closed while it sat in
    # the pool is known without asking (below).
    engine = create_async_engine(url, pool_size=pool_size, pool_recycle=1800, **options)
    _skip_closed_on_checkout(engine)
    watch(engine)
    return engine


def _skip_closed_on_checkout(engine: AsyncEngine) -> None:
    """A pooled connection whose server ended it (a terminated backend, a restart) is replaced
    before it is handed out, instead of failing the request that drew it. asyncpg notices the
    closed socket on its own while the connection idles, so asking it costs no round trip."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            # The pool invalidates it and checks out another (or connects anew).
            raise DisconnectionError("the server closed this pooled connection")


class RollingBackOnClose(sqlite3.Connection):
    """A SQLite connection that rolls back its open transaction before it closes.

    Closing alone may not end the transaction: `sqlite3_close_v2` leaves the connection a
    "zombie", its transaction and write lock held, while a cursor still holds an unfinalized
    statement, until the garbage collector frees that cursor. That happened to a task
    cancelled again and again mid-statement: SQLAlchemy invalidates the connection, its
    graceful close is cancelled in turn, and aiosqlite closes the sqlite3 connection in its
    thread with the batch's cursor still alive; every later writer then failed "database is
    locked" after the busy timeout. A ROLLBACK is allowed with statements pending (they are
    aborted) and releases the lock at once."""

    def close(self) -> None:
        if self.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.rollback()
        super().close()


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    """SQLite allows one writer. `BEGIN IMMEDIATE` takes the write lock up front, so a second
    writer waits (busy_timeout) instead of failing half-way when it first writes; WAL lets
    readers go on meanwhile."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # each statement commits itself; a BEGIN here would never be committed
        connection.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', 'DEFERRED')}")
