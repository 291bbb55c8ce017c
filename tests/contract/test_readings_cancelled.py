"""A recording cancelled while its COPY and duplicate lookup run beside it (as a cancel scope
does: again at every await until the task ends) waits for them before its connection is rolled
back and pooled: the batch is stored whole or not at all (a cancellation that lands while
COMMIT is under way ends the task cancelled with the batch stored: the server committed it,
as it may for a client that went away), and the next batch is served on a clean connection, never
failing with "another operation is in progress" — nor, on SQLite, "database is locked" (a
connection closed mid-statement rolls back first: `RollingBackOnClose`)."""

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
    task = asyncio.create_task(record(recorder, *sourced_months(9_000)))
    await asyncio.sleep(after)
    while not task.done():
        task.cancel()
        await asyncio.sleep(0)

    outcome = (await asyncio.gather(task, return_exceptions=True))[0]

    assert isinstance(outcome, asyncio.CancelledError | tuple), repr(outcome)
    stored = (await counts(engine))[1]
    assert stored == 9_000 if isinstance(outcome, tuple) else stored in (0, 9_000)
    for _ in range(3):  # every pooled connection is fit for the next batch
        next_batch = sourced_months(2_000, value="7{i}")
        assert (await record(recorder, *next_batch))[1] in (2_000, 0)
    assert (await recorder.verify()).ok
