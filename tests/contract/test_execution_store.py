"""The execution records' storage on both backends: idempotent by key, the same record twice in
one request stored once, `asOf` sees what was recorded by then, and the per-plan hash chain
names the first row changed behind the application's back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.execution_store import SqlExecutionStore
from planapi.domain.activity_values import ActivityStatus, FundingSource
from planapi.domain.errors import IdempotencyKeyReusedError
from planapi.domain.execution import ExecutionKind, ExecutionRecord
from tests.contract.builders import FakeClock, guards_lifted


def _spent(key: str, amount: str, plan_year: int = 2027) -> ExecutionRecord:
    return ExecutionRecord(
        key,
        "a1",
        ExecutionKind.EXPENDITURE,
        dt.date(plan_year, 6, 30),
        year=plan_year,
        source=FundingSource.EXTRA_BUDGETARY,
        amount=Decimal(amount),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(engine: AsyncEngine, clock: FakeClock) -> SqlExecutionStore:
    return SqlExecutionStore(engine, clock)


async def test_keys_make_resends_harmless_and_other_content_is_refused(
    store: SqlExecutionStore,
) -> None:
    done = ExecutionRecord(
        "s1", "a1", ExecutionKind.STATUS, dt.date(2027, 3, 1), ActivityStatus.ONGOING
    )
    stored, duplicates = await store.append("op", "bot", [done, _spent("e1", "12.50"), done])
    again, resent = await store.append("op", "bot", [done])

    assert (len(stored), duplicates) == (2, 1)
    assert (again, resent) == ([], 1)
    with pytest.raises(IdempotencyKeyReusedError):
        await store.append("op", "bot", [_spent("e1", "13.00")])
    # Keys are per plan: another plan may use the same one.
    other, _ = await store.append("other", "bot", [_spent("e1", "13.00")])
    assert len(other) == 1
    read = await store.read("op")
    assert [s.record.key for s in read] == ["s1", "e1"]
    assert read[1].record.amount == Decimal("12.50")  # exact, scale kept


async def test_as_of_reads_what_was_recorded_by_then(
    store: SqlExecutionStore, clock: FakeClock
) -> None:
    await store.append("op", "bot", [_spent("e1", "10.00")])
    between = clock.advance(seconds=5)
    clock.advance(seconds=5)
    await store.append("op", "bot", [_spent("e2", "20.00")])

    assert [s.record.key for s in await store.read("op", between)] == ["e1"]
    assert len(await store.read("op")) == 2


async def test_the_chain_names_the_first_row_changed_behind_the_apps_back(
    store: SqlExecutionStore, engine: AsyncEngine
) -> None:
    stored, _ = await store.append("op", "bot", [_spent(f"e{i}", f"{i}.00") for i in range(1, 4)])
    assert (await store.verify("op")).ok

    async with guards_lifted(engine, "execution_records") as conn:
        await conn.execute(
            text("UPDATE execution_records SET amount = '999.00' WHERE id = :id"),
            {"id": stored[1].id},
        )

    report = await store.verify("op")
    assert not report.ok
    assert (report.first_break, report.checked) == (stored[1].id, 1)


async def test_facts_come_in_the_order_they_fold(
    store: SqlExecutionStore, clock: FakeClock
) -> None:
    # Recorded out of occurrence order, over three instants, one occurrence day shared: the
    # fold reads them by occurrence, then recording, then id, as sorting what `read` returns.
    def status(key: str, day: int, status: ActivityStatus) -> ExecutionRecord:
        return ExecutionRecord(key, "a1", ExecutionKind.STATUS, dt.date(2027, 3, day), status)

    await store.append(
        "op", "bot", [status("s3", 9, ActivityStatus.COMPLETED), _spent("e1", "1.00")]
    )
    clock.advance(seconds=5)
    await store.append("op", "bot", [status("s1", 2, ActivityStatus.ONGOING), _spent("e2", "2.00")])
    between = clock.advance(seconds=5)
    clock.advance(seconds=5)
    await store.append("op", "bot", [status("s2", 9, ActivityStatus.ONGOING)])

    for as_of in (None, between):
        stored = await store.read("op", as_of)
        ordered = sorted(stored, key=lambda s: (s.record.occurred_on, s.recorded_at, s.id))
        facts = await store.facts("op", as_of)
        assert [(f[0], f[1], f[2], f[3], f[7]) for f in facts] == [
            (r.activity_id, r.kind, r.occurred_on, r.status, r.amount)
            for r in (s.record for s in ordered)
        ]
    assert [f[3] for f in await store.facts("op") if f[1] is ExecutionKind.STATUS] == [
        ActivityStatus.ONGOING,
        ActivityStatus.COMPLETED,
        ActivityStatus.ONGOING,  # the same day as s3, recorded later: it wins
    ]
