"""The relay publishes every event of the log to JetStream exactly once, in log order, and after a
crash resumes from its stored position without publishing anything twice or missing anything."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import pytest
from nats.js.api import RawStreamMsg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.relay_positions import SqlRelayPositions
from planapi.adapters.tables import events
from planapi.entrypoints.processes import free_port
from planapi.entrypoints.relay import Relay, RelayError, RelayOptions, _shown, subject_of
from tests.contract.builders import amended, append_versions, info
from tests.integration.conftest import JetStream
from tests.integration.relay_harness import killed_after, relay_environment, restarted_until
from tests.processes import environment, planapi

STREAMS = ["plan:alpha", "plan:beta", "plan:gamma"]


def options(jetstream: JetStream, batch_size: int = 500) -> RelayOptions:
    return RelayOptions(
        name="test",
        stream=jetstream.stream,
        subject_prefix=jetstream.prefix,
        batch_size=batch_size,
        poll_interval=0.05,
    )


async def interleaved(event_store: SqlEventStore, versions: int) -> list[int]:
    """`versions` versions of each of three plans, appended turn by turn; their positions."""
    for stream_id in STREAMS:
        await append_versions(event_store, stream_id, 1)
    for version in range(2, versions + 1):
        for stream_id in STREAMS:
            await event_store.append(stream_id, version - 1, amended(version), info())
    return await logged_positions(event_store.engine)


async def logged_positions(engine: AsyncEngine) -> list[int]:
    """Every position in the log, read from the table itself."""
    async with engine.connect() as conn:
        return list((await conn.execute(select(events.c.position).order_by("position"))).scalars())


async def publish(relay: Relay, count: int, within: float = 30) -> int:
    """Run the relay until it has handled `count` events (however `read_all` pages them)."""
    deadline = time.monotonic() + within
    done = 0
    while done < count:
        assert time.monotonic() < deadline, f"{done} of {count} events after {within} s"
        found = await relay.catch_up()
        done += found
        if not found:
            await asyncio.sleep(0.02)
    return done


def positions_in(messages: list[RawStreamMsg]) -> list[int]:
    return [int((m.headers or {})["Nats-Msg-Id"]) for m in messages]


async def test_every_event_is_published_once_in_log_order(
    engine: AsyncEngine, event_store: SqlEventStore, jetstream: JetStream
) -> None:
    logged = await interleaved(event_store, 4)
    positions = SqlRelayPositions(engine)
    relay = Relay(event_store, positions, jetstream.js, options(jetstream, batch_size=5))
    await relay.ensure_stream()

    assert await publish(relay, len(logged)) == len(logged)
    assert await relay.catch_up() == 0  # caught up: nothing more

    messages = await jetstream.messages()
    assert positions_in(messages) == logged
    assert await positions.get("test") == logged[-1]
    by_position = {r.position: r for r in await event_store.read_all(0, 10_000)}
    for message in messages:
        body = json.loads(message.data)
        recorded = by_position[body["position"]]
        assert message.subject == subject_of(jetstream.prefix, recorded.stream_id)
        assert message.subject == f"{jetstream.prefix}.plan.{recorded.stream_id[5:]}"
        assert (body["streamId"], body["version"]) == (recorded.stream_id, recorded.version)
        assert body["hash"] == recorded.hash.hex()
        assert message.headers["Planapi-Version"] == str(recorded.version)
        assert body["type"] == message.headers["Planapi-Event-Type"]


async def test_events_appended_later_are_published_after_the_earlier_ones(
    engine: AsyncEngine, event_store: SqlEventStore, jetstream: JetStream
) -> None:
    relay = Relay(event_store, SqlRelayPositions(engine), jetstream.js, options(jetstream))
    await relay.ensure_stream()
    await append_versions(event_store, "plan:first", 2)
    assert await publish(relay, 2) == 2
    await append_versions(event_store, "plan:second", 3)
    assert await publish(relay, 3) == 3

    published = positions_in(await jetstream.messages())
    assert published == await logged_positions(engine)


class Killed(Exception):
    """The relay process dying between JetStream's acknowledgement and storing the position."""


class DiesAfter(SqlRelayPositions):
    def __init__(self, engine: AsyncEngine, saves: int) -> None:
        super().__init__(engine)
        self.saves_left = saves

    async def save(self, name: str, position: int) -> None:
        if self.saves_left == 0:
            raise Killed(position)
        self.saves_left -= 1
        await super().save(name, position)


async def test_a_relay_killed_after_a_publish_but_before_storing_it_publishes_nothing_twice(
    engine: AsyncEngine, event_store: SqlEventStore, jetstream: JetStream
) -> None:
    logged = await interleaved(event_store, 3)
    dying = Relay(event_store, DiesAfter(engine, 4), jetstream.js, options(jetstream))
    await dying.ensure_stream()
    with pytest.raises(Killed):
        await publish(dying, len(logged))
    assert positions_in(await jetstream.messages()) == logged[:5]  # the 5th was acknowledged
    assert await SqlRelayPositions(engine).get("test") == logged[3]  # ... but not stored

    restarted = Relay(event_store, SqlRelayPositions(engine), jetstream.js, options(jetstream))
    assert await publish(restarted, len(logged) - 4) == len(logged) - 4

    assert restarted.duplicates == 1  # the 5th again: JetStream dropped the copy
    assert positions_in(await jetstream.messages()) == logged


async def test_a_stream_taking_other_subjects_is_refused(
    engine: AsyncEngine, event_store: SqlEventStore, jetstream: JetStream
) -> None:
    await jetstream.js.add_stream(name=jetstream.stream, subjects=[f"{jetstream.prefix}.other"])
    relay = Relay(event_store, SqlRelayPositions(engine), jetstream.js, options(jetstream))
    with pytest.raises(RelayError, match="set PLANAPI_RELAY_STREAM"):
        await relay.ensure_stream()


async def test_the_stored_position_never_moves_backwards(engine: AsyncEngine) -> None:
    positions = SqlRelayPositions(engine)
    assert await positions.get("a") == 0
    await positions.save("a", 7)
    await positions.save("a", 3)
    await positions.save("b", 1)
    assert (await positions.get("a"), await positions.get("b")) == (7, 1)


# -- the real process, killed with SIGKILL mid-way --------------------------------------------


# On PostgreSQL, where processes on several machines share the log.
@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_planapi_relay_killed_mid_way_and_restarted_publishes_each_event_once(
    database: tuple[str, dict[str, object]],
    event_store: SqlEventStore,
    jetstream: JetStream,
    tmp_path: Path,
) -> None:
    env = relay_environment(database, jetstream, batch_size=10)
    for number in range(6):
        await append_versions(event_store, f"plan:p{number}", 40)

    await killed_after(env, tmp_path, jetstream.count, 30, total=240)

    # Events appended while the relay is down are published too.
    await append_versions(event_store, "plan:late", 5)
    logged = await logged_positions(event_store.engine)

    output = await restarted_until(env, tmp_path, jetstream.count, len(logged))
    assert "resumes after position" in output

    assert positions_in(await jetstream.messages()) == logged  # each once, in log order
    assert await SqlRelayPositions(event_store.engine).get("default") == logged[-1]


def test_shown_urls_keep_no_credentials() -> None:
    assert _shown("nats://relay:s3cret@nats.internal:4222") == "nats://nats.internal:4222"
    assert _shown("tls://nats.internal") == "tls://nats.internal"


def test_planapi_relay_waits_for_an_unreachable_nats_and_stops_on_sigterm(tmp_path: Path) -> None:
    # Not NATS-dependent: it talks to a port nobody listens on.
    env = environment(
        PLANAPI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'planapi.db'}",
        PLANAPI_NATS_URL=f"nats://relay:s3cret@127.0.0.1:{free_port()}",
    )
    with planapi(["relay"], env, tmp_path / "relay.log") as relay:
        deadline = time.monotonic() + 30
        while "NATS at nats://127.0.0.1:" not in relay.output():
            assert relay.process.poll() is None, relay.output()
            assert time.monotonic() < deadline, relay.output()
            time.sleep(0.1)
        assert relay.stop(signal.SIGTERM) == 0
    assert "s3cret" not in relay.output()
    assert "Traceback" not in relay.output()
    assert "stopped before NATS answered" in relay.output()


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_one_relay_of_a_name_publishes_at_a_time(engine: AsyncEngine) -> None:
    positions = SqlRelayPositions(engine)
    async with positions.lock("solo") as first, positions.lock("solo") as second:
        assert await first.try_acquire()
        assert not await second.try_acquire()  # a second process stands by
        async with positions.lock("other") as another:
            assert await another.try_acquire()  # another name is another relay
        await first.release()
        assert await second.try_acquire()
