"""The readings store on SQLite and PostgreSQL, through the use case integrations call: exact
round trips, corrections and what was known when, all-or-nothing batches, idempotent retries
(also racing each other), the append-only guards, and the hash chain an auditor re-computes."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from planapi.adapters.database import create_engine
from planapi.adapters.readings_store import SqlReadingStore
from planapi.adapters.tables import reading_batches, readings
from planapi.application.plans import PlanService
from planapi.application.readings import ReadingService, RecordReadings
from planapi.domain.changes import RemoveNode
from planapi.domain.errors import (
    IdempotencyKeyReusedError,
    PlanNotFoundError,
    Problem,
    ValidationError,
)
from planapi.domain.readings import (
    NewReading,
    Reading,
    ReadingQuery,
    ReadingSource,
    ReadingStatus,
    ReadingVersion,
)
from tests.contract.builders import FakeClock, amend_command, guards_lifted
from tests.readings_fixtures import PLAN_ID, PROVISIONAL, create_plan_command, reading

FEMALE_AFRICA = (("region", "Africa"), ("sex", "female"))
CURRENT = ReadingQuery()
ALL = ReadingQuery(include_superseded=True)

# The SQLite guards on readings, spelt as migrations/versions/0002_readings.py creates them.
SQLITE_READING_GUARDS = {
    f"readings_no_{action.lower()}": (
        f"CREATE TRIGGER readings_no_{action.lower()} BEFORE {action} ON readings "
        f"BEGIN SELECT RAISE(ABORT, 'the readings table is append-only: {action} refused'); END"
    )
    for action in ("UPDATE", "DELETE")
}


@pytest.fixture
async def plans(service: PlanService) -> PlanService:
    """The plan service, with our plan of four KPIs as version 1."""
    await service.create_plan(create_plan_command(period_end=2800))
    return service


@pytest.fixture
def store(engine: AsyncEngine, clock: FakeClock) -> SqlReadingStore:
    return SqlReadingStore(engine, clock)


@pytest.fixture
def recorder(store: SqlReadingStore, plans: PlanService) -> ReadingService:
    return ReadingService(store, plans)


async def record(
    service: ReadingService, *batch: NewReading, key: str | None = None, plan_id: str = PLAN_ID
) -> tuple[int, int, int, bool]:
    """(batch id, stored, duplicates, replayed)."""
    outcome = await service.record(RecordReadings(plan_id, batch, key))
    return outcome.batch_id, outcome.stored, outcome.duplicates, outcome.replayed


async def series_of(
    service: ReadingService, kpi_id: str = "kpi-1", query: ReadingQuery = CURRENT
) -> list[ReadingVersion]:
    return (await service.readings(PLAN_ID, [kpi_id], query))[kpi_id]


async def values_of(
    service: ReadingService, kpi_id: str = "kpi-1", query: ReadingQuery = CURRENT
) -> list[tuple[str, str | None]]:
    return [
        (v.reading.period, None if v.reading.value is None else str(v.reading.value))
        for v in await series_of(service, kpi_id, query)
    ]


async def counts(engine: AsyncEngine) -> tuple[int, int]:
    """(batches, readings) stored."""
    async with engine.connect() as conn:
        batches = await conn.scalar(select(func.count()).select_from(reading_batches))
        rows = await conn.scalar(select(func.count()).select_from(readings))
    return int(batches or 0), int(rows or 0)


# -- round trip --------------------------------------------------------------------------------
async def test_a_batch_reads_back_exactly_as_it_was_sent(
    recorder: ReadingService, clock: FakeClock
) -> None:
    sent = [
        reading(
            "2026",
            "2.50",
            source=("nso-kenya", "KE-2026-001"),
            note="Household survey — «ICT access», wave 3\nrevised",
            numerator=Decimal("1"),
            denominator=Decimal("40.0"),
            status=PROVISIONAL,
        ),
        reading("2026", "0.3", disaggregation=FEMALE_AFRICA),
        reading("2027-Q2", "-0.000125", kpi_id="kpi-2", status=ReadingStatus.ESTIMATED),
        reading("2027", kpi_id="kpi-3", text="Policy adopted 🎉", status=ReadingStatus.FORECAST),
        reading("2027-W14", "12345678901234567890.123456789", kpi_id="kpi-4"),
    ]

    batch_id, stored, duplicates, replayed = await record(recorder, *sent)
    found = await recorder.readings(PLAN_ID, ["kpi-1", "kpi-2", "kpi-3", "kpi-4"], ReadingQuery())

    assert (stored, duplicates, replayed) == (5, 0, False)
    back = [v.reading for kpi_id in sorted(found) for v in found[kpi_id]]
    assert [_as_sent(r) for r in back] == sent
    assert [str(r.value) for r in back if r.value is not None] == [
        "2.50",
        "0.3",
        "-0.000125",
        "12345678901234567890.123456789",
    ]
    assert str(back[0].denominator) == "40.0"
    assert {r.batch_id for r in back} == {batch_id}
    assert {r.recorded_at for r in back} == {clock.now()}
    assert back[0].recorded_at.utcoffset() == dt.timedelta(0)


def _as_sent(found: Reading) -> NewReading:
    return NewReading(
        kpi_id=found.kpi_id,
        period=found.period,
        status=found.status,
        value=None if found.text is not None else found.value,
        text=found.text,
        numerator=found.numerator,
        denominator=found.denominator,
        disaggregation=found.disaggregation,
        source=found.source,
        note=found.note,
    )


async def test_a_percentage_given_as_numerator_and_denominator_is_stored_with_its_value(
    recorder: ReadingService,
) -> None:
    await record(recorder, reading("2026", numerator=Decimal("45"), denominator=Decimal("60")))

    [found] = await series_of(recorder)

    assert (found.reading.value, found.reading.numerator, found.reading.denominator) == (
        Decimal("75"),
        Decimal("45"),
        Decimal("60"),
    )


# -- corrections and what was known when -------------------------------------------------------
async def test_a_correction_supersedes_and_as_of_shows_what_was_known_then(
    recorder: ReadingService, clock: FakeClock
) -> None:
    first_at = clock.now()
    await record(recorder, reading("2026", "61.0"), reading("2027", "64"))
    second_at = clock.advance(days=30)
    await record(recorder, reading("2026", "61.5"))

    assert await values_of(recorder) == [("2026", "61.5"), ("2027", "64")]
    everything = await series_of(recorder, query=ALL)
    assert [(v.reading.value, v.is_current) for v in everything] == [
        (Decimal("61.0"), False),
        (Decimal("61.5"), True),
        (Decimal("64"), True),
    ]
    assert everything[0].superseded_by == everything[1].reading
    assert everything[1].reading.recorded_at == second_at
    then = ReadingQuery(as_of=first_at)
    assert await values_of(recorder, query=then) == [("2026", "61.0"), ("2027", "64")]
    at_then = ReadingQuery(as_of=second_at - dt.timedelta(microseconds=1))
    assert await values_of(recorder, query=at_then) == [("2026", "61.0"), ("2027", "64")]
    before = ReadingQuery(as_of=first_at - dt.timedelta(microseconds=1))
    assert await values_of(recorder, query=before) == []
    known_then_all = await series_of(recorder, query=dataclasses.replace(ALL, as_of=first_at))
    assert all(v.is_current for v in known_then_all), "not yet superseded as known then"


async def test_recorded_time_never_goes_back_even_when_the_server_clock_does(
    recorder: ReadingService, clock: FakeClock
) -> None:
    await record(recorder, reading("2026", "61"))
    clock.advance(hours=-2)
    await record(recorder, reading("2026", "62"))

    first, second = await series_of(recorder, query=ALL)

    assert second.reading.recorded_at == first.reading.recorded_at
    assert await values_of(recorder) == [("2026", "62")], "the later batch still wins"


# -- all or nothing ----------------------------------------------------------------------------
def months(count: int) -> list[NewReading]:
    """`count` readings of kpi-4, one per month from January 2000."""
    return [
        reading(f"{2026 + i // 12}-{i % 12 + 1:02d}", str(i), kpi_id="kpi-4") for i in range(count)
    ]


async def test_one_bad_reading_at_the_end_of_a_large_batch_stores_nothing(
    recorder: ReadingService, engine: AsyncEngine
) -> None:
    batch = months(5_000)
    batch[-1] = dataclasses.replace(batch[-1], period="2442-13")

    with pytest.raises(ValidationError) as refused:
        await record(recorder, *batch)

    assert refused.value.problems == (
        Problem(("readings", 4_999, "period"), "'2442-13': month 13 is not between 01 and 12"),
    )
    assert await counts(engine) == (0, 0)
    assert await series_of(recorder, "kpi-4") == []

    batch[-1] = dataclasses.replace(batch[-1], period="2442-08")
    assert (await record(recorder, *batch))[1:] == (5_000, 0, False)
    assert await counts(engine) == (1, 5_000)


async def test_a_batch_larger_than_the_limit_is_refused_as_a_whole(
    store: SqlReadingStore, plans: PlanService, engine: AsyncEngine
) -> None:
    small = ReadingService(store, plans, max_batch=3)

    with pytest.raises(ValidationError) as refused:
        await record(small, *months(4))
    with pytest.raises(ValidationError) as empty:
        await record(small)

    assert refused.value.problems == (
        Problem(("readings",), "send 1 to 3 readings per batch, not 4"),
    )
    assert empty.value.problems == (
        Problem(("readings",), "send 1 to 3 readings per batch, not 0"),
    )
    assert await counts(engine) == (0, 0)
    assert (await record(small, *months(3)))[1] == 3


async def test_readings_for_a_plan_that_does_not_exist_are_refused(
    recorder: ReadingService, engine: AsyncEngine
) -> None:
    with pytest.raises(PlanNotFoundError):
        await record(recorder, reading("2026", "61"), plan_id="no-such-plan")

    assert await counts(engine) == (0, 0)


# -- idempotency -------------------------------------------------------------------------------
@pytest.fixture
async def other_processes(
    database: tuple[str, dict[str, object]], plans: PlanService, clock: FakeClock
) -> AsyncIterator[list[ReadingService]]:
    """Three reading services on engines of their own, as three server processes would have."""
    url, options = database
    engines = [create_engine(url, **options) for _ in range(3)]  # type: ignore[arg-type]
    try:
        yield [ReadingService(SqlReadingStore(e, clock), plans) for e in engines]
    finally:
        for engine in engines:
            await engine.dispose()


async def test_the_same_batch_sent_three_times_at_once_is_stored_once(
    other_processes: list[ReadingService], recorder: ReadingService, engine: AsyncEngine
) -> None:
    batch = months(300)
    command = RecordReadings(PLAN_ID, batch, "nso-kenya/2026-03-02/1")

    outcomes = await asyncio.gather(*(service.record(command) for service in other_processes))

    first = [o for o in outcomes if not o.replayed]
    replays = [o for o in outcomes if o.replayed]
    assert [(o.stored, o.duplicates) for o in first] == [(300, 0)], outcomes
    assert [(o.stored, o.duplicates) for o in replays] == [(0, 300), (0, 300)]
    assert {o.batch_id for o in outcomes} == {first[0].batch_id}
    assert {o.recorded_at for o in outcomes} == {first[0].recorded_at}
    assert await counts(engine) == (1, 300)
    assert len(await series_of(recorder, "kpi-4", ALL)) == 300


async def test_a_retry_with_the_same_key_stores_nothing_and_says_it_was_replayed(
    recorder: ReadingService, engine: AsyncEngine
) -> None:
    batch = (reading("2026", "61"), reading("2027", "64"))
    first = await record(recorder, *batch, key="retry-1")

    again = await record(recorder, *batch, key="retry-1")

    assert first[1:] == (2, 0, False)
    assert again == (first[0], 0, 2, True)
    assert await counts(engine) == (1, 2)


async def test_the_same_key_with_other_content_is_refused(
    recorder: ReadingService, engine: AsyncEngine
) -> None:
    await record(recorder, reading("2026", "61"), key="batch-7")

    with pytest.raises(IdempotencyKeyReusedError) as reused:
        await record(recorder, reading("2026", "61.1"), key="batch-7")
    with pytest.raises(IdempotencyKeyReusedError):
        await record(recorder, reading("2026", "61"), reading("2027", "64"), key="batch-7")

    assert reused.value.key == "batch-7"
    assert "batch-7" in str(reused.value)
    assert await counts(engine) == (1, 1)
    assert await values_of(recorder) == [("2026", "61")]


async def test_a_resent_source_reading_with_the_same_content_is_a_duplicate(
    recorder: ReadingService, engine: AsyncEngine
) -> None:
    nso = ("nso-kenya", "KE-2026-001")
    await record(recorder, reading("2026", "61", source=nso))

    again = await record(recorder, reading("2026", "61", source=nso))
    mixed = await record(
        recorder,
        reading("2026", "61", source=nso),
        reading("2027", "64", source=("nso-kenya", "2")),
    )

    assert again[1:] == (0, 1, False), "nothing new, and not a replay of a keyed request"
    assert mixed[1:] == (1, 1, False)
    assert await counts(engine) == (3, 2)
    assert await values_of(recorder) == [("2026", "61"), ("2027", "64")]


def sourced_months(count: int, *, value: str = "{i}") -> list[NewReading]:
    """`count` monthly readings of kpi-4 from 2026-01, each with its own source reading id
    (the plan of these tests runs to 2800: 9,000 months fit in it)."""
    return [
        reading(
            f"{2026 + i // 12}-{i % 12 + 1:02d}",
            value.format(i=i),
            kpi_id="kpi-4",
            source=("nso", f"m{i}"),
        )
        for i in range(count)
    ]


async def test_a_large_resend_stores_only_what_is_new_in_the_order_sent(
    recorder: ReadingService, engine: AsyncEngine
) -> None:
    """Large enough to be written in several pieces while the rest is checked: duplicates,
    corrections and new readings interleaved over the whole batch are told apart."""
    first = sourced_months(6_000)
    await record(recorder, *first[:3_000])
    # Every third reading corrected, the rest resent as they were; 3,000 never seen.
    resend = [
        dataclasses.replace(r, value=Decimal(i) + Decimal("0.5")) if i % 3 == 0 else r
        for i, r in enumerate(first)
    ]

    _, stored, duplicates, _ = await record(recorder, *resend)

    assert (stored, duplicates) == (1_000 + 3_000, 2_000)
    assert await counts(engine) == (2, 7_000)
    async with engine.connect() as conn:
        later = await conn.execute(
            select(readings.c.source_reading_id)
            .where(readings.c.batch_id == 2)
            .order_by(readings.c.id)
        )
        order = [row[0] for row in later]
    assert order == [f"m{i}" for i in range(6_000) if i % 3 == 0 or i >= 3_000]
    current = dict(await values_of(recorder, "kpi-4"))
    assert current["2026-01"] == "0.5", "corrected"
    assert current["2026-02"] == "1", "resent as it was"
    assert (await recorder.verify()).ok


async def test_a_bad_reading_early_in_a_large_batch_is_reported_with_every_other_one(
    recorder: ReadingService, engine: AsyncEngine
) -> None:
    batch = sourced_months(6_000)
    batch[3] = dataclasses.replace(batch[3], period="2442-13")
    batch[5_999] = dataclasses.replace(batch[5_999], kpi_id="kpi-nope")

    with pytest.raises(ValidationError) as refused:
        await record(recorder, *batch)

    assert [p.path for p in refused.value.problems] == [
        ("readings", 3, "period"),
        ("readings", 5_999, "kpi_id"),
    ]
    assert await counts(engine) == (0, 0)
    assert (await recorder.verify()).ok


async def test_a_database_failure_in_the_middle_of_a_large_batch_keeps_nothing_of_it(
    backend: str, recorder: ReadingService, engine: AsyncEngine
) -> None:
    """The database refuses one row while later ones are still being checked: the batch fails
    as a whole, and the store (its connections) serves the next batch as usual."""
    async with engine.begin() as conn:
        if backend == "postgres":
            await conn.execute(
                text("ALTER TABLE readings ADD CONSTRAINT not_4321 CHECK (value <> '4321')")
            )
        else:
            await conn.execute(
                text(
                    "CREATE TRIGGER not_4321 BEFORE INSERT ON readings WHEN NEW.value = '4321' "
                    "BEGIN SELECT RAISE(ABORT, 'not 4321'); END"
                )
            )
    batch = sourced_months(6_000)

    with pytest.raises(Exception, match=r"not_4321|not 4321"):
        await record(recorder, *batch)

    assert await counts(engine) == (0, 0)
    good = [r for r in batch if r.value != Decimal("4321")]
    assert (await record(recorder, *good))[1:] == (5_999, 0, False)
    assert (await recorder.verify()).ok


async def test_a_resent_source_reading_with_other_content_is_a_correction(
    recorder: ReadingService,
) -> None:
    nso = ("nso-kenya", "KE-2026-001")
    await record(recorder, reading("2026", "61", source=nso))

    correction = await record(recorder, reading("2026", "61.4", source=nso, note="revised"))

    assert correction[1:] == (1, 0, False)
    old, new = await series_of(recorder, query=ALL)
    assert (old.reading.value, old.superseded_by) == (Decimal("61"), new.reading)
    assert (new.reading.value, new.reading.note, new.is_current) == (
        Decimal("61.4"),
        "revised",
        True,
    )
    assert new.reading.source == ReadingSource(*nso)


async def test_the_same_content_from_another_source_is_news(recorder: ReadingService) -> None:
    await record(recorder, reading("2026", "61", source=("nso-kenya", "1")))

    other = await record(recorder, reading("2026", "61", source=("itu-ict-eye", "1")))

    assert other[1:] == (1, 0, False)


# -- the append-only guards --------------------------------------------------------------------
REFUSED = {
    "rewriting a value": "UPDATE readings SET value = '99' WHERE id = 1",
    "re-dating a reading": "UPDATE readings SET recorded_at = '2000-01-01 00:00:00'",
    "deleting a reading": "DELETE FROM readings WHERE id = 1",
    "rewriting a batch count": "UPDATE reading_batches SET stored = 1",
    "forgetting an idempotency key": "UPDATE reading_batches SET idempotency_key = NULL",
    "deleting a batch": "DELETE FROM reading_batches",
}


@pytest.mark.parametrize("statement", REFUSED.values(), ids=REFUSED.keys())
async def test_the_database_refuses_to_change_stored_readings_and_batches(
    recorder: ReadingService, store: SqlReadingStore, engine: AsyncEngine, statement: str
) -> None:
    await record(recorder, reading("2026", "61"), reading("2027", "64"), key="k")
    before = await series_of(recorder, query=ALL)

    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text(statement))

    assert await series_of(recorder, query=ALL) == before
    assert (await store.verify()).ok


async def test_the_database_refuses_to_truncate_readings(
    backend: str, recorder: ReadingService, engine: AsyncEngine
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite has no TRUNCATE; its DELETE is refused above")
    await record(recorder, reading("2026", "61"))

    for table in ("readings", "reading_batches CASCADE"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {table}"))

    assert await counts(engine) == (1, 1)


# -- the hash chain ----------------------------------------------------------------------------
async def readings_guard_sql(conn: AsyncConnection) -> dict[str, str]:
    found = await conn.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'readings'")
    )
    return {row.name: row.sql for row in found}


async def behind_the_guards(engine: AsyncEngine, statement: str, **params: object) -> None:
    """Run `statement` on readings as a tamperer with owner rights could: lift the append-only
    triggers, change the row, put the very same triggers back, all in one transaction."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ALTER TABLE readings DISABLE TRIGGER USER"))
            await conn.execute(text(statement), params)
            await conn.execute(text("ALTER TABLE readings ENABLE TRIGGER USER"))
            return
        assert await readings_guard_sql(conn) == SQLITE_READING_GUARDS
        for name in SQLITE_READING_GUARDS:
            await conn.execute(text(f"DROP TRIGGER {name}"))
        await conn.execute(text(statement), params)
        for sql in SQLITE_READING_GUARDS.values():
            await conn.execute(text(sql))


async def test_an_untouched_store_verifies_batch_by_batch(
    recorder: ReadingService, clock: FakeClock
) -> None:
    empty = await recorder.verify()
    await record(recorder, reading("2026", "61"), reading("2027", "64"), key="a")
    clock.advance(days=1)
    await record(recorder, reading("2026", "61.5", source=("nso", "1")))
    resent = await record(recorder, reading("2026", "61.5", source=("nso", "1")), key="b")
    assert resent[1:] == (0, 1, False), "a batch of duplicates only is still a batch"

    report = await recorder.verify()

    assert (empty.ok, empty.checked_batches, empty.head_hash) == (True, 0, None)
    assert report.ok
    assert (report.checked_batches, report.checked_readings) == (3, 3)
    assert report.head_hash is not None
    assert len(report.head_hash) == 32


async def test_a_value_rewritten_behind_the_guards_is_found_and_its_batch_named(
    recorder: ReadingService, engine: AsyncEngine, clock: FakeClock
) -> None:
    await record(recorder, reading("2026", "61"), reading("2027", "64"))
    clock.advance(days=1)
    second, *_ = await record(recorder, reading("2028", "66"), reading("2029", "70"))
    [target] = [v.reading for v in await series_of(recorder) if v.reading.period == "2029"]
    assert (await recorder.verify()).ok

    await behind_the_guards(engine, "UPDATE readings SET value = '80' WHERE id = :id", id=target.id)

    report = await recorder.verify()
    assert not report.ok
    assert report.first_break is not None
    assert (report.first_break.what, report.first_break.version) == ("altered", second)
    assert report.first_break.position == target.id
    assert f"reading {target.id}" in report.first_break.detail
    assert report.checked_batches == 1, "the batch before it still vouched for"
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            assert await readings_guard_sql(conn) == SQLITE_READING_GUARDS
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE readings SET value = '64' WHERE id = :id"), {"id": 1})


async def test_a_reading_deleted_behind_the_guards_is_found_missing_from_its_batch(
    recorder: ReadingService, engine: AsyncEngine
) -> None:
    batch_id, *_ = await record(recorder, reading("2026", "61"), reading("2027", "64"))
    [gone, _kept] = await series_of(recorder)

    await behind_the_guards(engine, "DELETE FROM readings WHERE id = :id", id=gone.reading.id)

    report = await recorder.verify()
    assert report.first_break is not None
    assert (report.first_break.what, report.first_break.version) == ("removed", batch_id)


# -- readings outlive the KPI they measure -----------------------------------------------------
async def test_readings_of_a_kpi_removed_later_stay_readable_and_no_more_are_taken(
    recorder: ReadingService, plans: PlanService, engine: AsyncEngine
) -> None:
    await record(recorder, reading("2027-Q1", "4.1", kpi_id="kpi-2"))
    removed = await plans.amend_plan(amend_command(PLAN_ID, 1, [RemoveNode("kpi-2")]))
    assert removed.state.node("kpi-2") is None

    assert await values_of(recorder, "kpi-2") == [("2027-Q1", "4.1")]
    with pytest.raises(ValidationError) as refused:
        await record(recorder, reading("2027-Q2", "3.9", kpi_id="kpi-2"))
    assert refused.value.problems == (
        Problem(
            ("readings", 0, "kpi_id"),
            "no KPI 'kpi-2' in the latest version of plan 'readings-2026'",
        ),
    )
    assert await counts(engine) == (1, 1)
    assert (await recorder.verify()).ok


async def test_a_plans_verification_links_each_of_its_batches_to_the_one_stored_before(
    recorder: ReadingService, store: SqlReadingStore, engine: AsyncEngine
) -> None:
    first, *_ = await record(recorder, reading("2026", "61"))
    second, *_ = await record(recorder, reading("2027", "64"))
    third, *_ = await record(recorder, reading("2028", "66"))
    assert (await store.verify(PLAN_ID)).ok

    async with guards_lifted(engine, "reading_batches") as conn:
        await conn.execute(delete(reading_batches).where(reading_batches.c.id == second))

    report = await store.verify(PLAN_ID)
    assert report.first_break is not None
    assert (report.first_break.what, report.first_break.version) == ("inserted", third)
    assert report.checked_batches == 1, f"batch {first} still vouched for"
