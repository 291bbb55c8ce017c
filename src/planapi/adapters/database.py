"""Engines for the two supported backends, set up so that writers queue instead of failing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from planapi.adapters.failures import watch
from planapi.adapters.hashing import canonical_text

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(url: str, *, pool_size: int = 10, **options: Any) -> AsyncEngine:
    # JSON columns hold the canonical encoding, which the hash chain covers byte for byte.
    options.setdefault("json_serializer", canonical_text)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **options)
        _serialise_sqlite_writers(engine)
        watch(engine)
        return engine
    # No pre-ping: it costs a round trip per checkout; recycling bounds a connection's age and a
    # dropped connection surfaces as an error on its first use instead.
    engine = create_async_engine(url, pool_size=pool_size, pool_recycle=1800, **options)
    watch(engine)
    return engine


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
