"""Appending to and reading from the event log, the same on every backend."""

from __future__ import annotations

import datetime as dt

from planapi.adapters.event_store import SqlEventStore
from tests.contract.builders import (
    T0,
    FakeClock,
    amended,
    append_versions,
    created,
    info,
    rich_created,
)
from tests.contract.conftest import ports_and_memory

pytestmark = ports_and_memory

STREAM = "plan:baku-2026"


async def test_appends_become_versions_one_to_n_in_order(event_store: SqlEventStore) -> None:
    appended = await append_versions(event_store, STREAM, 5)

    stored = await event_store.read(STREAM)

    assert [r.version for r in appended] == [1, 2, 3, 4, 5]
    assert [r.version for r in stored] == [1, 2, 3, 4, 5]
    assert stored == appended


async def test_an_event_reads_back_exactly_as_it_was_appended(event_store: SqlEventStore) -> None:
    event, who = rich_created(), info(actor="bdt-editor", rationale="Résolution 1 (Rév. Bakou)")

    recorded = await event_store.append("plan:rich", 0, event, who)
    (stored,) = await event_store.read("plan:rich")

    assert stored.event == event
    assert stored.info == who
    assert stored == recorded


async def test_a_range_read_returns_the_versions_after_one_and_up_to_another(
    event_store: SqlEventStore,
) -> None:
    await append_versions(event_store, STREAM, 6)

    assert [r.version for r in await event_store.read(STREAM, 2, 4)] == [3, 4]
    assert [r.version for r in await event_store.read(STREAM, after_version=4)] == [5, 6]
    assert [r.version for r in await event_store.read(STREAM, 0, 1)] == [1]
    assert await event_store.read(STREAM, 6) == []
    assert await event_store.read("plan:nobody") == []


async def test_reading_backwards_pages_newest_first(event_store: SqlEventStore) -> None:
    await append_versions(event_store, STREAM, 5)

    pages, before = [], 6
    while page := await event_store.read_backwards(STREAM, before, 2):
        pages.append([r.version for r in page])
        before = page[-1].version

    assert pages == [[5, 4], [3, 2], [1]]


async def test_latest_version_is_zero_for_an_unknown_stream_then_counts_appends(
    event_store: SqlEventStore,
) -> None:
    assert await event_store.latest_version(STREAM) == 0

    await append_versions(event_store, STREAM, 3)

    assert await event_store.latest_version(STREAM) == 3
    assert await event_store.latest_version("plan:other") == 0


async def test_recorded_at_is_the_store_clock_not_anything_the_caller_says(
    clocked_store: SqlEventStore, clock: FakeClock
) -> None:
    clock.set(T0)
    recorded = await clocked_store.append(STREAM, 0, created(), info())

    (stored,) = await clocked_store.read(STREAM)

    assert recorded.recorded_at == T0
    assert stored.recorded_at == T0
    assert stored.recorded_at.utcoffset() == dt.timedelta(0)


async def test_recorded_at_keeps_the_instant_whatever_the_clock_time_zone(
    clocked_store: SqlEventStore, clock: FakeClock
) -> None:
    baku = dt.timezone(dt.timedelta(hours=4))
    clock.set(dt.datetime(2026, 3, 2, 13, 30, 15, 123456, tzinfo=baku))

    appended = await clocked_store.append(STREAM, 0, created(), info())
    (stored,) = await clocked_store.read(STREAM)

    assert stored.recorded_at == T0
    assert stored.recorded_at.tzinfo == dt.UTC
    assert appended.recorded_at.tzinfo == dt.UTC  # the same spelling now as on every read


async def test_recorded_at_never_goes_backwards_within_a_stream_when_the_clock_does(
    clocked_store: SqlEventStore, clock: FakeClock
) -> None:
    clock.set(T0)
    await clocked_store.append(STREAM, 0, created(), info())
    clock.set(T0 - dt.timedelta(hours=1))  # the server clock is corrected backwards
    second = await clocked_store.append(STREAM, 1, amended(2), info())
    clock.set(T0 + dt.timedelta(seconds=1))
    third = await clocked_store.append(STREAM, 2, amended(3), info())

    stored = await clocked_store.read(STREAM)

    assert second.recorded_at == T0
    assert [r.recorded_at for r in stored] == [T0, T0, third.recorded_at]
    assert third.recorded_at == T0 + dt.timedelta(seconds=1)


async def test_another_stream_is_not_held_back_by_a_stream_with_later_times(
    clocked_store: SqlEventStore, clock: FakeClock
) -> None:
    clock.set(T0)
    await clocked_store.append(STREAM, 0, created(), info())
    clock.set(T0 - dt.timedelta(hours=1))

    other = await clocked_store.append("plan:other", 0, created("other"), info())

    assert other.recorded_at == T0 - dt.timedelta(hours=1)


async def test_version_at_is_the_latest_version_recorded_at_or_before_an_instant(
    clocked_store: SqlEventStore, clock: FakeClock
) -> None:
    times = []
    for version, gap in enumerate([dt.timedelta(0), dt.timedelta(days=1), dt.timedelta(days=30)]):
        times.append(clock.advance(seconds=gap.total_seconds()))
        event = created() if version == 0 else amended(version + 1)
        await clocked_store.append(STREAM, version, event, info())
    second = dt.timedelta(seconds=1)
    micro = dt.timedelta(microseconds=1)

    answers = {
        "before the first": await clocked_store.version_at(STREAM, times[0] - micro),
        "at the first": await clocked_store.version_at(STREAM, times[0]),
        "between": await clocked_store.version_at(STREAM, times[1] + second),
        "just before the third": await clocked_store.version_at(STREAM, times[2] - micro),
        "at the third": await clocked_store.version_at(STREAM, times[2]),
        "long after": await clocked_store.version_at(STREAM, times[2] + dt.timedelta(days=999)),
    }

    assert answers == {
        "before the first": 0,
        "at the first": 1,
        "between": 2,
        "just before the third": 2,
        "at the third": 3,
        "long after": 3,
    }


async def test_version_at_compares_instants_not_wall_clock_readings(
    clocked_store: SqlEventStore, clock: FakeClock
) -> None:
    clock.set(T0)
    await clocked_store.append(STREAM, 0, created(), info())
    new_york = dt.timezone(dt.timedelta(hours=-5))

    just_before = (T0 - dt.timedelta(microseconds=1)).astimezone(new_york)

    assert await clocked_store.version_at(STREAM, T0.astimezone(new_york)) == 1
    assert await clocked_store.version_at(STREAM, just_before) == 0
    assert await clocked_store.version_at("plan:nobody", T0) == 0


async def test_stream_ids_lists_the_streams_with_a_prefix_in_creation_order(
    event_store: SqlEventStore,
) -> None:
    for stream in ("plan:zeta", "readings:zeta", "plan:alpha", "planning:x", "plan:mid"):
        await event_store.append(stream, 0, created(), info())
    await event_store.append("plan:zeta", 1, amended(2), info())

    assert await event_store.stream_ids("plan:") == ["plan:zeta", "plan:alpha", "plan:mid"]
    assert await event_store.stream_ids("readings:") == ["readings:zeta"]
    assert await event_store.stream_ids("nothing:") == []


async def test_stream_id_prefixes_are_literal_text_not_patterns(
    event_store: SqlEventStore,
) -> None:
    for stream in ("a_b:1", "axb:2", "100%:3", "1000:4"):
        await event_store.append(stream, 0, created(), info())

    assert await event_store.stream_ids("a_b:") == ["a_b:1"]
    assert await event_store.stream_ids("100%") == ["100%:3"]


async def test_positions_increase_across_streams_in_append_order(
    event_store: SqlEventStore,
) -> None:
    appended = [
        await event_store.append("plan:a", 0, created("a"), info()),
        await event_store.append("plan:b", 0, created("b"), info()),
        await event_store.append("plan:a", 1, amended(2), info()),
        await event_store.append("plan:c", 0, created("c"), info()),
        await event_store.append("plan:b", 1, amended(2), info()),
    ]
    positions = [r.position for r in appended]

    assert positions == sorted(set(positions))
    assert await event_store.read_all(0, 100) == appended


async def test_read_all_pages_through_every_stream_by_position(
    event_store: SqlEventStore,
) -> None:
    appended = []
    for number in range(7):
        appended.append(await event_store.append(f"plan:p{number}", 0, created(), info()))

    pages, after = [], 0
    while page := await event_store.read_all(after, 3):
        pages.append(page)
        after = page[-1].position

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [r for page in pages for r in page] == appended


async def test_each_version_carries_the_hash_that_chains_it_to_the_one_before(
    event_store: SqlEventStore,
) -> None:
    appended = await append_versions(event_store, STREAM, 4)

    report = await event_store.verify(STREAM)

    assert len({r.hash for r in appended}) == 4
    assert all(len(r.hash) == 32 for r in appended)
    assert report.ok
    assert report.checked == 4
    assert report.head_version == 4
    assert report.head_hash == appended[-1].hash
