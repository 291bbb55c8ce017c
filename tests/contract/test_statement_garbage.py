"""The stores' reads and writes leave no statement in a reference cycle, on both backends.

An `in_` of a list built per call leaves its bound parameters in cycles (a clone keeps itself in
its memoised `_cloned_set`); the server collects rarely (entrypoints/asgi.py), so that garbage
piled up for minutes between collections and raised the soak's resident memory
(docs/performance.md, "The soak"). Each call runs once to compile what it shares, then again
with the collector off; a collection that keeps what it finds must find none of SQLAlchemy's
objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.current_readings import SqlTotalSeries
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.execution_store import SqlExecutionStore
from planapi.adapters.feeds import SqlReadingLog
from planapi.adapters.readings_store import SqlReadingStore
from planapi.adapters.tables import readings
from planapi.application.plans import PlanService
from planapi.application.readings import ReadingService, RecordReadings
from planapi.domain.activity_values import FundingSource
from planapi.domain.execution import ExecutionKind, ExecutionRecord
from planapi.domain.readings import ReadingQuery
from tests.contract.builders import FakeClock, append_versions
from tests.garbage import garbage_kept, statement_parts
from tests.readings_fixtures import PLAN_ID, create_plan_command, reading


async def _left(call: Callable[[int], Awaitable[Any]]) -> dict[str, int]:
    await call(0)  # statements compiled once, as in a running server
    with garbage_kept() as garbage:
        for n in range(1, 4):
            await call(n)
    return statement_parts(garbage)


async def test_readings_written_and_read_leave_no_statement_in_a_cycle(
    engine: AsyncEngine, service: PlanService, clock: FakeClock
) -> None:
    await service.create_plan(create_plan_command())
    store = SqlReadingStore(engine, clock)
    recorder = ReadingService(store, service)

    async def batch(n: int) -> None:  # with source ids: the duplicate check runs
        given = [
            reading(str(2026 + year), f"{n}.5", source=("nso", f"r{n}-{year}")) for year in range(4)
        ]
        await recorder.record(RecordReadings(PLAN_ID, given))

    async def read(n: int) -> None:
        assert await store.for_kpis(PLAN_ID, ["kpi-1", "kpi-2"])
        assert await store.for_kpis(PLAN_ID, ["kpi-1"], ReadingQuery(include_superseded=True))
        assert (await SqlReadingLog(engine).batches_after(0, 10, ["kpi-1"]))[0].readings
        async with engine.connect() as conn:
            ids = list((await conn.execute(select(readings.c.id))).scalars())
        assert await SqlTotalSeries(engine).readings(ids)

    assert await _left(batch) == {}
    assert await _left(read) == {}


async def test_events_by_node_and_execution_records_leave_no_statement_in_a_cycle(
    engine: AsyncEngine, event_store: SqlEventStore, clock: FakeClock
) -> None:
    await append_versions(event_store, "plan:a", 4)
    execution = SqlExecutionStore(engine, clock)

    async def history(n: int) -> None:
        found = await event_store.touching_many("plan:a", ["section-2", "section-3"], 4)
        assert [len(v) for v in found.values()] == [1, 1]

    async def records(n: int) -> None:
        spent = ExecutionRecord(
            f"e{n}",
            "a1",
            ExecutionKind.EXPENDITURE,
            dt.date(2027, 6, 30),
            year=2027,
            source=FundingSource.EXTRA_BUDGETARY,
            amount=Decimal(n),
        )
        stored, duplicates = await execution.append("op", "bot", [spent, spent])
        assert (len(stored), duplicates) == (1, 1)

    assert await _left(history) == {}
    assert await _left(records) == {}
