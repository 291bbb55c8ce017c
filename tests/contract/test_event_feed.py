"""The event feed and the reading log on SQLite and PostgreSQL: events as stored, in global
order, paged and streamed; batches of readings with only the readings asked about."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.clock import SystemClock
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.feeds import SqlEventLog, SqlReadingLog
from planapi.adapters.hashing import GENESIS, event_hash_of_text
from planapi.adapters.readings_store import SqlReadingStore
from planapi.application import feed as feed_module
from planapi.application.feed import EventFeed, plan_id_of
from planapi.application.plans import PlanService
from planapi.application.readings import ReadingService, RecordReadings
from planapi.domain.errors import ValidationError
from tests.contract.builders import amended, append_versions, info
from tests.readings_fixtures import PLAN_ID, create_plan_command, reading


@pytest.fixture
def log(engine: AsyncEngine) -> SqlEventLog:
    return SqlEventLog(engine)


# On PostgreSQL a transaction of another client of the server (another test run, say) holds
# every follower's watermark back while it is open: give committed events time to show.
SETTLE_SECONDS = 10.0


async def _interleaved(store: SqlEventStore) -> None:
    """Three plans, their versions interleaved in the global order (7 events), once readable."""
    for stream in ("plan:a", "plan:b", "plan:c"):
        await append_versions(store, stream, 1)
    for version in (2, 3):
        for stream in ("plan:c", "plan:a"):
            head = (await store.read(stream))[-1]
            await store.append(stream, version - 1, amended(version), info(), previous=head)
    async with asyncio.timeout(SETTLE_SECONDS):
        while True:
            if len(await store.read_all(0, 100)) == 7:
                return
            await asyncio.sleep(0.05)


async def test_stored_events_come_in_global_order_as_read_all_has_them(
    event_store: SqlEventStore, log: SqlEventLog
) -> None:
    await _interleaved(event_store)

    stored = await log.read_stored(0, 100)
    recorded = await event_store.read_all(0, 100)

    assert [(e.position, e.stream_id, e.version) for e in stored] == [
        (r.position, r.stream_id, r.version) for r in recorded
    ]
    assert [e.stream_id for e in stored] == [
        "plan:a", "plan:b", "plan:c", "plan:c", "plan:a", "plan:c", "plan:a",
    ]  # fmt: skip
    assert [e.position for e in stored] == sorted(e.position for e in stored)
    assert [e.hash for e in stored] == [r.hash for r in recorded]


async def test_stored_events_carry_the_exact_text_their_hash_covers(
    event_store: SqlEventStore, log: SqlEventLog
) -> None:
    await _interleaved(event_store)

    heads: dict[str, bytes] = {}
    for event in await log.read_stored(0, 100):
        assert event.prev_hash == heads.get(event.stream_id, GENESIS)
        recomputed = event_hash_of_text(
            event.prev_hash,
            stream_id=event.stream_id,
            version=event.version,
            type=event.type,
            schema_version=event.schema_version,
            data=event.data,
            meta=event.meta,
            recorded_at=event.recorded_at,
        )
        assert recomputed == event.hash, "a mirror can re-verify the chain from the feed"
        heads[event.stream_id] = event.hash
        assert "\n" not in event.data + event.meta


async def test_a_page_says_where_it_ended_and_whether_more_are_readable(
    event_store: SqlEventStore, log: SqlEventLog
) -> None:
    await _interleaved(event_store)  # 7 events
    feed = EventFeed(log)

    first = await feed.page(0, 3)
    second = await feed.page(first.end_position, 3)
    third = await feed.page(second.end_position, 3)
    empty = await feed.page(third.end_position, 3)

    assert [len(p.items) for p in (first, second, third, empty)] == [3, 3, 1, 0]
    assert [p.has_more for p in (first, second, third, empty)] == [True, True, False, False]
    assert empty.end_position == third.end_position == third.items[-1].position
    assert (await feed.page(0, 7)).has_more is False
    assert (await feed.page(0, 0)).items == []


async def test_page_sizes_and_positions_are_checked(log: SqlEventLog) -> None:
    feed = EventFeed(log, max_page=50, max_stream=80)

    with pytest.raises(ValidationError) as too_many:
        await feed.page(0, 51)
    with pytest.raises(ValidationError) as negative:
        await feed.page(-1, 10)
    with pytest.raises(ValidationError) as stream_too_long:
        feed.check_stream(0, 81)
    with pytest.raises(ValidationError):
        feed.check_stream(0, 0)

    assert [p.path for p in too_many.value.problems] == [("first",)]
    assert "between 0 and 50" in too_many.value.problems[0].message
    assert [p.path for p in negative.value.problems] == [("after",)]
    assert [p.path for p in stream_too_long.value.problems] == [("limit",)]


async def test_a_stream_reads_chunk_after_chunk_up_to_its_limit(
    event_store: SqlEventStore, log: SqlEventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_module, "STREAM_CHUNK", 2)
    await _interleaved(event_store)  # 7 events
    feed = EventFeed(log)
    every = [e.position for e in await log.read_stored(0, 100)]

    assert [e.position async for e in feed.stream(0, 100)] == every
    assert [e.position async for e in feed.stream(0, 5)] == every[:5]
    assert [e.position async for e in feed.stream(every[2], 3)] == every[3:6]
    assert [e.position async for e in feed.stream(every[-1], 3)] == []


def test_the_plan_of_a_stream_is_named_by_its_prefix() -> None:
    assert plan_id_of("plan:baku-2026") == "baku-2026"
    assert plan_id_of("other:thing") is None


async def test_a_streams_version_at_a_position(
    event_store: SqlEventStore, log: SqlEventLog
) -> None:
    await _interleaved(event_store)
    positions = {(e.stream_id, e.version): e.position for e in await log.read_stored(0, 100)}

    assert await log.version_at_position("plan:a", 0) == 0
    assert await log.version_at_position("plan:a", positions["plan:a", 1]) == 1
    # Between a's version 2 and 3, other plans moved on: still version 2 of a.
    assert await log.version_at_position("plan:a", positions["plan:c", 3]) == 2
    assert await log.version_at_position("plan:a", 10_000) == 3
    assert await log.version_at_position("plan:nothing", 10_000) == 0


# -- the reading log -------------------------------------------------------------------------
@pytest.fixture
async def recorder(engine: AsyncEngine, service: PlanService) -> ReadingService:
    await service.create_plan(create_plan_command())
    await service.create_plan(create_plan_command("other-2026"))
    return ReadingService(SqlReadingStore(engine, SystemClock()), service)


async def test_batches_come_in_order_with_only_the_readings_of_the_kpis_asked_about(
    engine: AsyncEngine, recorder: ReadingService
) -> None:
    log = SqlReadingLog(engine)
    assert await log.last_batch_id() == 0
    one = await recorder.record(
        RecordReadings(PLAN_ID, [reading("2026", "61"), reading("2026-Q1", "4", kpi_id="kpi-2")])
    )
    two = await recorder.record(
        RecordReadings(PLAN_ID, [reading("2026-Q2", "3.9", kpi_id="kpi-2")])
    )
    three = await recorder.record(RecordReadings("other-2026", [reading("2026", "50")]))

    batches = await log.batches_after(0, 10, ["kpi-1"])

    assert await log.last_batch_id() == three.batch_id
    assert [b.batch_id for b in batches] == [one.batch_id, two.batch_id, three.batch_id]
    assert [b.plan_id for b in batches] == [PLAN_ID, PLAN_ID, "other-2026"]
    assert [[(r.kpi_id, r.period) for r in b.readings] for b in batches] == [
        [("kpi-1", "2026")],
        [],
        [("kpi-1", "2026")],
    ]
    assert batches[0].stored == 2
    assert batches[0].actor == "tester"
    after_one = await log.batches_after(one.batch_id, 10, ["kpi-1", "kpi-2"])
    assert [[r.period for r in b.readings] for b in after_one] == [["2026-Q2"], ["2026"]]
    assert [b.batch_id for b in await log.batches_after(0, 2, ["kpi-2"])] == [
        one.batch_id,
        two.batch_id,
    ]
    assert await log.batches_after(three.batch_id, 10, ["kpi-1"]) == []
