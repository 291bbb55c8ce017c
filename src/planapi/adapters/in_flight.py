"""Operations in flight on one database connection: started, let run, always waited for."""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

T = TypeVar("T")


def done(value: T) -> asyncio.Future[T]:
    """An operation that has already run (SQLite, or nothing to do), as one in flight."""
    future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


async def let_run(operation: asyncio.Future[Any]) -> None:
    """One turn of the loop for an operation just started on the connection. Cancelled in
    that turn, the caller would never see the operation again: it is waited for first."""
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        await settled(operation)
        raise


async def settled(*operations: asyncio.Future[Any] | None) -> None:
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
