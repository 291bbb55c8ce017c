"""Each plan's heads in memory (application/heads_tracker.py) over the real stores: catch-ups
read only what is new and miss nothing; own writes count before the writer answers; a token
the synced heads do not cover costs one catch-up, one they cover costs none; a re-opened
LISTEN connection makes the tracker read what was announced while it was away."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.clock import SystemClock
from planapi.adapters.database import create_engine
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.heads import SqlHeads
from planapi.adapters.notify import PostgresNotifier, notifier_for
from planapi.adapters.readings_store import SqlReadingStore
from planapi.adapters.snapshots import SqlSnapshotStore
from planapi.application.freshness import Heads
from planapi.application.heads_tracker import HeadsTracker, PlanHeads
from planapi.application.live import PLAN_EVENTS, READING_BATCHES
from planapi.application.plans import AmendPlan, PlanService
from planapi.application.readings import ReadingService, RecordReadings
from planapi.domain.changes import UpdateNode
from tests.conftest import POSTGRES_URL
from tests.contract.builders import amend_command
from tests.readings_fixtures import create_plan_command, reading

NEVER = 3600.0  # no safety poll: only wake-ups and tokens move the tracker


def services(
    engine: AsyncEngine, tracker: HeadsTracker | None
) -> tuple[PlanService, ReadingService]:
    clock = SystemClock()
    plans = PlanService(
        SqlEventStore(engine, clock),
        SqlSnapshotStore(engine, clock),
        default_actor="tester",
        heads=tracker,
    )
    return plans, ReadingService(SqlReadingStore(engine, clock), plans)


def retitle(plan_id: str, version: int, title: str) -> AmendPlan:
    return amend_command(plan_id, version, [UpdateNode("p1", {"title": title})])


async def test_a_catch_up_reads_each_plan_s_newest_version_and_batch(engine: AsyncEngine) -> None:
    plans, readings = services(engine, None)  # another process: nothing tells the tracker
    tracker = HeadsTracker(SqlHeads(engine), poll_seconds=NEVER)
    await plans.create_plan(create_plan_command("plan-a"))
    await plans.create_plan(create_plan_command("plan-b"))
    await plans.amend_plan(retitle("plan-a", 1, "Two"))
    batch = await readings.record(RecordReadings("plan-b", [reading("2026", "61")]))

    assert tracker.plan("plan-a") == PlanHeads()
    await tracker.catch_up()
    assert tracker.ready
    assert tracker.plan("plan-a") == PlanHeads(version=2, batch_id=0)
    assert tracker.plan("plan-b") == PlanHeads(version=1, batch_id=batch.batch_id)
    assert tracker.synced == Heads(3, batch.batch_id)

    # Only what is new is read; an untouched plan keeps what it had.
    await plans.amend_plan(retitle("plan-b", 1, "Two"))
    await tracker.catch_up()
    assert tracker.plan("plan-a").version == 2
    assert tracker.plan("plan-b") == PlanHeads(version=2, batch_id=batch.batch_id)
    assert tracker.synced.last_position == 4


async def test_own_writes_count_before_the_answer_and_tokens_cost_one_catch_up_at_most(
    engine: AsyncEngine,
) -> None:
    tracker = HeadsTracker(SqlHeads(engine), poll_seconds=NEVER)
    await tracker.catch_up()
    plans, readings = services(engine, tracker)
    elsewhere, _ = services(engine, None)

    created = await plans.create_plan(create_plan_command("plan-a"))
    assert tracker.plan("plan-a").version == 1  # no catch-up ran: the writer noted it
    assert await plans.latest_version("plan-a") == 1
    batch = await readings.record(RecordReadings("plan-a", [reading("2026", "61")]))
    assert tracker.plan("plan-a").batch_id == batch.batch_id

    far = await elsewhere.amend_plan(retitle("plan-a", 1, "Far"))
    assert await plans.latest_version("plan-a") == 1
    runs = tracker.catch_ups
    await tracker.ensure(Heads(created.amendment.position, batch.batch_id))
    assert tracker.catch_ups == runs + 1  # own writes are not a prefix of the log: read once
    await tracker.ensure(Heads(far.amendment.position, 0))
    assert tracker.catch_ups == runs + 1  # the first catch-up covered it already
    assert await plans.latest_version("plan-a") == 2


@pytest.fixture
def pg_engine(backend: str, engine: AsyncEngine) -> AsyncEngine:
    if backend != "postgres":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    return engine


async def test_a_reopened_listener_makes_the_tracker_read_what_it_missed(
    pg_engine: AsyncEngine,
) -> None:
    notifier = notifier_for(POSTGRES_URL, (PLAN_EVENTS, READING_BATCHES))
    assert isinstance(notifier, PostgresNotifier)
    tracker = HeadsTracker(SqlHeads(pg_engine), notifier, poll_seconds=NEVER)
    await notifier.start()
    await tracker.start()
    quiet, _ = services(pg_engine, None)  # writes without announcing them
    try:
        await quiet.create_plan(create_plan_command("plan-a"))
        pid = notifier.server_pid
        assert pid is not None
        admin = create_engine(POSTGRES_URL)
        try:
            async with admin.connect() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        finally:
            await admin.dispose()
        # Nothing announced plan-a; only the lost connection's wake-up (every listener is woken
        # when notifications may have been lost) or the re-opened one's can find it.
        for _ in range(400):
            if tracker.plan("plan-a").version == 1 and notifier.connections == 2:
                break
            await asyncio.sleep(0.05)
        assert tracker.plan("plan-a").version == 1
        assert notifier.connections == 2
    finally:
        await tracker.close()
        await notifier.close()
