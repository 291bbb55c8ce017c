"""Optimistic concurrency: an append states the version it expects, and loses cleanly if stale."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from planapi.adapters.event_store import SqlEventStore
from planapi.domain.errors import VersionConflictError
from tests.contract.builders import T0, FakeClock, amended, append_versions, created, info
from tests.contract.conftest import ports_and_memory

pytestmark = ports_and_memory

STREAM = "plan:baku-2026"


async def test_appending_on_a_stale_version_is_a_conflict_naming_both_versions(
    event_store: SqlEventStore,
) -> None:
    await append_versions(event_store, STREAM, 3)

    with pytest.raises(VersionConflictError) as conflict:
        await event_store.append(STREAM, 1, amended(9), info())

    assert conflict.value.stream_id == STREAM
    assert conflict.value.expected_version == 1
    assert conflict.value.actual_version == 3


async def test_appending_ahead_of_the_stream_is_a_conflict_too(
    event_store: SqlEventStore,
) -> None:
    await append_versions(event_store, STREAM, 2)

    with pytest.raises(VersionConflictError) as conflict:
        await event_store.append(STREAM, 5, amended(9), info())

    assert (conflict.value.expected_version, conflict.value.actual_version) == (5, 2)


async def test_creating_a_stream_that_exists_is_a_conflict(event_store: SqlEventStore) -> None:
    await event_store.append(STREAM, 0, created(), info())

    with pytest.raises(VersionConflictError) as conflict:
        await event_store.append(STREAM, 0, created(), info(actor="mallory"))

    assert (conflict.value.expected_version, conflict.value.actual_version) == (0, 1)


async def test_a_conflicting_append_stores_nothing(event_store: SqlEventStore) -> None:
    before = await append_versions(event_store, STREAM, 2)

    with pytest.raises(VersionConflictError):
        await event_store.append(STREAM, 1, amended(7), info(actor="mallory"))

    assert await event_store.read(STREAM) == before
    assert (await event_store.verify(STREAM)).ok


async def test_an_append_chained_to_a_known_previous_version_continues_the_chain(
    clocked_store: SqlEventStore, clock: FakeClock
) -> None:
    clock.set(T0)
    head = (await append_versions(clocked_store, STREAM, 2))[-1]
    clock.set(T0 - dt.timedelta(hours=1))  # the clock steps back meanwhile

    recorded = await clocked_store.append(STREAM, 2, amended(3), info(), previous=head)

    assert recorded.version == 3
    assert recorded.recorded_at == T0
    assert (await clocked_store.read(STREAM))[-1] == recorded
    report = await clocked_store.verify(STREAM)
    assert report.ok
    assert report.head_hash == recorded.hash


async def test_an_append_chained_to_a_previous_version_no_longer_the_head_is_a_conflict(
    event_store: SqlEventStore,
) -> None:
    stale = (await append_versions(event_store, STREAM, 2))[-1]
    await event_store.append(STREAM, 2, amended(3), info())
    before = await event_store.read(STREAM)

    with pytest.raises(VersionConflictError) as conflict:
        await event_store.append(STREAM, 2, amended(9), info(actor="mallory"), previous=stale)

    assert (conflict.value.expected_version, conflict.value.actual_version) == (2, 3)
    assert await event_store.read(STREAM) == before
    assert (await event_store.verify(STREAM)).ok


@pytest.mark.parametrize(
    ("expected", "known_head"),
    [(0, False), (3, False), (3, True)],
    ids=["creating", "amending", "amending-a-known-head"],
)
async def test_of_two_writers_racing_for_the_same_version_exactly_one_wins(
    event_store: SqlEventStore, expected: int, known_head: bool
) -> None:
    streams = [f"plan:race-{n}" for n in range(5)]
    heads = {}
    for stream in streams:
        if expected:
            heads[stream] = (await append_versions(event_store, stream, expected))[-1]
    event = created() if expected == 0 else amended(expected + 1)

    outcomes = await asyncio.gather(
        *(
            event_store.append(
                stream,
                expected,
                event,
                info(actor=writer),
                previous=heads[stream] if known_head else None,
            )
            for stream in streams
            for writer in ("alice", "bob")
        ),
        return_exceptions=True,
    )

    pairs = zip(outcomes[::2], outcomes[1::2], strict=True)
    for stream, (first, second) in zip(streams, pairs, strict=True):
        conflicts = [o for o in (first, second) if isinstance(o, BaseException)]
        winners = [o for o in (first, second) if not isinstance(o, BaseException)]
        assert len(winners) == 1, (stream, first, second)
        assert len(conflicts) == 1, (stream, first, second)
        assert type(conflicts[0]) is VersionConflictError, repr(conflicts[0])
        assert conflicts[0].expected_version == expected
        assert conflicts[0].actual_version == expected + 1
        stored = await event_store.read(stream)
        assert [r.version for r in stored] == list(range(1, expected + 2))
        assert stored[-1] == winners[0]
        assert (await event_store.verify(stream)).ok
