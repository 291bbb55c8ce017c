"""Which storage errors mean "the database is unavailable, retry", and a write transaction that
tells a connection lost while committing (outcome unknown) from one lost before (nothing
stored).

A lost connection shows itself in several ways depending on when it is noticed: asyncpg's
ConnectionDoesNotExistError or the server's own FATAL (admin or crash shutdown), an
InterfaceError on a closed connection, an OSError when connecting — or, when the server's
FATAL is read but the socket's end not yet, "another operation (2) is in progress": the
protocol still waits, in its error-consuming state 2, for a ReadyForQuery that will never come.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from planapi.application.failures import StoreUnavailableError

log = logging.getLogger("planapi.database")
T = TypeVar("T")

_LOST = (
    asyncpg.exceptions.PostgresConnectionError,  # includes ConnectionDoesNotExistError
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    ConnectionError,  # refused, reset, aborted
    TimeoutError,
)
_LOST_MESSAGES = (
    "connection is closed",
    "connection was closed",
    "another operation (2) is in progress",
    # SQLite: the file cannot be opened, or the write lock not had within busy_timeout.
    "unable to open database file",
    "database is locked",
    "disk i/o error",
)

# Errors whose message tells a lost connection from other trouble of the same type.
_SAYS_LOST = (
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    sqlite3.OperationalError,
    DBAPIError,
)


def connection_lost(error: BaseException | None) -> bool:
    """True when `error`, or anything it was raised from, says the database is out of reach."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, (StoreUnavailableError, *_LOST)):
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, _SAYS_LOST) and any(t in str(error).lower() for t in _LOST_MESSAGES):
            return True
        if isinstance(error, OSError) and not isinstance(error, FileNotFoundError):
            return True  # a socket that would not connect (refused, unreachable, no such host)
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def as_unavailable(error: BaseException) -> StoreUnavailableError | None:
    """The StoreUnavailableError `error` amounts to, or None when it is something else."""
    if isinstance(error, StoreUnavailableError):
        return error
    if connection_lost(error):
        return StoreUnavailableError(detail=f"{type(error).__name__}: {error}"[:300])
    return None


def watch(engine: AsyncEngine) -> None:
    """A failure to connect is StoreUnavailableError. A statement that fails because the
    connection is gone invalidates that connection: the pool drops it, and SQLAlchemy does
    not send a ROLLBACK down a dead socket (which failed in turn and hid the first error, a
    validation error even)."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _lost(context: Any) -> None:
        original = context.original_exception
        if context.connection is None:
            # Not even connected (refused, not accepting connections, too many, no such
            # database): whatever the server said, the database is out of reach.
            raise StoreUnavailableError(detail=f"connecting: {original}"[:300]) from original
        if not context.is_disconnect and connection_lost(original):
            context.is_disconnect = True


@asynccontextmanager
async def committing(conn: AsyncConnection) -> AsyncIterator[AsyncConnection]:
    """`conn.begin()`, except that a connection lost at COMMIT raises StoreUnavailableError
    with `outcome_unknown` (the server may have committed before the line dropped), and one lost
    before raises it without (the server rolled back)."""
    transaction = await _begun(conn)
    try:
        yield conn
    except BaseException as error:
        lost = isinstance(error, Exception) and connection_lost(error)
        if lost:
            await _to_the_end(_discard(conn))
        else:
            try:
                await _to_the_end(transaction.rollback())
            except Exception as failed:  # only a lost connection is swallowed
                if not connection_lost(failed):
                    raise
                await _to_the_end(_discard(conn))
        if lost and not isinstance(error, StoreUnavailableError):
            raise StoreUnavailableError(detail=str(error)[:300]) from error
        raise
    try:
        await transaction.commit()
    except Exception as error:
        if connection_lost(error):
            raise StoreUnavailableError(outcome_unknown=True, detail=str(error)[:300]) from error
        raise


async def _begun(conn: AsyncConnection) -> AsyncTransaction:
    """`conn.begin()`, carried through a cancellation. On SQLite the BEGIN IMMEDIATE runs on in
    aiosqlite's thread whatever becomes of the task awaiting it: cancelled there, it left the
    transaction open and the write lock held, and the next writer failed "database is locked".
    So a begin that was cancelled is awaited to its end and rolled back, then the cancellation
    goes on. (asyncpg's BEGIN waits for the first statement: nothing to carry there.)"""
    if conn.dialect.name != "sqlite":
        return await conn.begin()
    begin = asyncio.ensure_future(conn.begin())
    try:
        return await asyncio.shield(begin)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):  # a begin that failed has nothing to roll back
            transaction = await _to_the_end(begin)
            await _to_the_end(transaction.rollback())
        raise


async def _to_the_end(cleanup: Awaitable[T]) -> T:
    """Await a rollback (or a discard) through any cancellation: a request cancelled again and
    again (as a cancel scope does at every await) would otherwise leave its transaction open —
    on SQLite holding the write lock, so every later writer fails "database is locked". The
    cancellation being handled is re-raised by the caller once the cleanup is done."""
    task = asyncio.ensure_future(cleanup)
    while True:
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                raise


async def _discard(conn: AsyncConnection) -> None:
    """Close a connection that was lost instead of rolling back through it: the server has
    rolled back already, and asyncpg may still hold an operation it began as the FATAL arrived
    (a COPY it could not switch to): anything sent next would fail with "another operation is
    in progress", and that operation's waiter would be left failing unseen. Closing settles it
    and keeps the connection out of the pool."""
    with contextlib.suppress(Exception):
        await conn.invalidate()


def quiet_lost_waiters(loop: asyncio.AbstractEventLoop) -> None:
    """asyncpg creates an operation's waiter before switching its protocol state; when the
    switch fails (a FATAL read, the socket's end not yet), that waiter is left behind, and the
    connection's loss later fails it with nobody to see: asyncio logged it as an ERROR with a
    traceback, once per connection lost that way (and its connect handshake's waiter, when the
    server drops a connection being opened). It is one WARNING line; everything else goes to
    the handler there was."""
    previous = loop.get_exception_handler()
    if previous is not None and previous.__name__ == "_quiet_lost_waiter":
        return  # installed by an earlier start on this loop

    def _quiet_lost_waiter(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if "never retrieved" in str(context.get("message", "")) and isinstance(
            error, asyncpg.exceptions.PostgresConnectionError | ConnectionError
        ):
            log.warning("a database connection was lost mid-operation: %s", error)
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(_quiet_lost_waiter)
