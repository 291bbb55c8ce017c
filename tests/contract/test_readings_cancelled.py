"""A recording cancelled while its COPY and duplicate lookup run beside it (as a cancel scope
does: again at every await until the task ends) waits for them before its connection is rolled
back and pooled: nothing is stored, and the next batch is served on a clean connection, never
failing with "another operation is in progress"."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.application.readings import ReadingService
from tests.contract.test_readings_store import (
    counts,
    plans,
    record,
    recorder,
    sourced_months,
    store,
)

__all__ = ["plans", "recorder", "store"]


@pytest.mark.parametrize("after", [0.01, 0.03, 0.06, 0.1, 0.15])
async def test_a_recording_cancelled_again_and_again_mid_copy_leaves_nothing_behind(
    recorder: ReadingService, engine: AsyncEngine, after: float
) -> None:
    if engine.dialect.name == "sqlite":
        # Known hole, left open. A cancel during BEGIN IMMEDIATE no longer keeps the write
        # lock (failures._begun), but something else still can (here 1 case in 115 on a loaded
        # machine, 1 in 10 before _begun): the next writer fails "database is locked" after the
        # busy timeout. Likely, by the code (not traced in a failing run): a
        # cancel mid-statement makes SQLAlchemy invalidate the connection; when its close is
        # cancelled too, aiosqlite's stop() ends the thread without closing the sqlite3
        # connection, whose transaction holds the lock until the connection is collected.
        pytest.skip("SQLite: a cancel mid-statement can keep the write lock (open)")
    task = asyncio.create_task(record(recorder, *sourced_months(9_000)))
    await asyncio.sleep(after)
    while not task.done():
        task.cancel()
        await asyncio.sleep(0)

    outcome = (await asyncio.gather(task, return_exceptions=True))[0]

    assert isinstance(outcome, asyncio.CancelledError | tuple), repr(outcome)
    stored = 9_000 if isinstance(outcome, tuple) else 0  # it may have finished first
    assert (await counts(engine))[1] == stored
    for _ in range(3):  # every pooled connection is fit for the next batch
        next_batch = sourced_months(2_000, value="7{i}")
        assert (await record(recorder, *next_batch))[1] in (2_000, 0)
    assert (await recorder.verify()).ok
