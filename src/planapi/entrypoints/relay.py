"""`planapi relay`: publish the event log, in global order, to a NATS JetStream stream.

Each event goes to `<prefix>.<stream id, ':' as '.'>` (`planapi.events.plan.baku-2026`) with the
header `Nats-Msg-Id` set to its position. The relay follows the log with `read_all`, which on
PostgreSQL never passes an event that commits after a later position, and stores the position it
reached only once JetStream has acknowledged the publication. After a crash it resumes from the
stored position: at most the one event whose acknowledgement it had not yet recorded is published
again, and JetStream drops that copy as a duplicate of its message id (within the stream's
duplicate window). So each event reaches the stream exactly once, in log order.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

import nats
import nats.errors
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy.exc import SQLAlchemyError

from planapi.adapters.codec import encode_info
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.hashing import canonical_text
from planapi.adapters.proposal_codec import encode_any
from planapi.adapters.relay_positions import RelayLock, SqlRelayPositions
from planapi.application.ports import Recorded
from planapi.application.proposal_ports import RecordedFact
from planapi.bootstrap import bootstrap_relay
from planapi.config import Settings
from planapi.entrypoints.checkpoint_relay import CheckpointRelay
from planapi.entrypoints.readings_relay import ReadingsRelay

log = logging.getLogger("planapi.relay")

PUBLISH_TIMEOUT = 5.0
MAX_BACKOFF = 30.0
STAND_BY_INTERVAL = 5.0
# What a NATS subject may not contain in a token: separators and wildcards.
_NOT_IN_SUBJECT = re.compile(r"[\s.*>]")


class RelayError(RuntimeError):
    """The relay cannot run as configured (its stream belongs to other subjects, say)."""


@dataclass(frozen=True, slots=True)
class RelayOptions:
    name: str = "default"
    stream: str = "PLANAPI_EVENTS"
    subject_prefix: str = "planapi.events"
    batch_size: int = 500
    poll_interval: float = 0.5
    duplicate_window: float = 120.0

    @classmethod
    def of(cls, settings: Settings) -> RelayOptions:
        return cls(
            name=settings.relay_name,
            stream=settings.relay_stream,
            subject_prefix=settings.relay_subject_prefix,
            batch_size=settings.relay_batch_size,
            poll_interval=settings.relay_poll_interval,
            duplicate_window=settings.relay_duplicate_window,
        )


def subject_of(prefix: str, stream_id: str) -> str:
    """`plan:baku-2026` → `<prefix>.plan.baku-2026`."""
    tokens = [_NOT_IN_SUBJECT.sub("_", token) or "_" for token in stream_id.split(":")]
    return ".".join([prefix, *tokens])


def message_of(recorded: Recorded | RecordedFact) -> tuple[bytes, dict[str, str]]:
    """The event as JSON (the log's own fields, the payload at its current schema version) and
    the message's headers: `Nats-Msg-Id` is the position, which JetStream de-duplicates on."""
    type_, schema_version, data = encode_any(recorded.event)
    payload = canonical_text(
        {
            "position": recorded.position,
            "streamId": recorded.stream_id,
            "version": recorded.version,
            "type": type_,
            "schemaVersion": schema_version,
            "data": data,
            "meta": encode_info(recorded.info),
            "recordedAt": recorded.recorded_at.isoformat(),
            "hash": recorded.hash.hex(),
        }
    ).encode()
    return payload, {
        "Nats-Msg-Id": str(recorded.position),
        "Planapi-Position": str(recorded.position),
        "Planapi-Stream-Id": recorded.stream_id,
        "Planapi-Version": str(recorded.version),
        "Planapi-Event-Type": type_,
    }


class Relay:
    def __init__(
        self,
        events: SqlEventStore,
        positions: SqlRelayPositions,
        js: JetStreamContext,
        options: RelayOptions,
        stopping: asyncio.Event | None = None,
        checkpoints: CheckpointRelay | None = None,
        readings: ReadingsRelay | None = None,
    ) -> None:
        self.events = events
        self.checkpoints = checkpoints  # signed checkpoints, published once caught up
        self.readings = readings  # the readings log, batch by batch, beside the events
        self.positions = positions
        self.js = js
        self.options = options
        self.position: int | None = None
        self.stopping = stopping or asyncio.Event()
        self.published = 0
        self.duplicates = 0

    async def ensure_stream(self) -> None:
        """Create the stream on first use; refuse one that does not take the relay's subjects."""
        wanted = f"{self.options.subject_prefix}.>"
        try:
            info = await self.js.stream_info(self.options.stream)
        except NotFoundError:
            await self.js.add_stream(
                StreamConfig(
                    name=self.options.stream,
                    subjects=[wanted],
                    storage=StorageType.FILE,
                    duplicate_window=self.options.duplicate_window,
                    description="planapi: the event log, one message per event, in log order",
                )
            )
            log.info("created JetStream stream %s for %s", self.options.stream, wanted)
            return
        subjects = info.config.subjects or []
        if wanted not in subjects:
            raise RelayError(
                f"JetStream stream {self.options.stream} takes subjects {subjects}, not {wanted}: "
                "set PLANAPI_RELAY_STREAM or PLANAPI_RELAY_SUBJECT_PREFIX"
            )

    async def publish_batch(self) -> int:
        """Publish the next batch of events; how many were published (0: caught up)."""
        if self.position is None:
            self.position = await self.positions.get(self.options.name)
            log.info("relay %s resumes after position %d", self.options.name, self.position)
        batch = await self.events.read_all(self.position, self.options.batch_size)
        done = 0
        for recorded in batch:
            if self.stopping.is_set():
                break
            await self._publish(recorded)
            # Only now is it safe to move on: the stream holds the event.
            await self.positions.save(self.options.name, recorded.position)
            self.position = recorded.position
            done += 1
        if done:
            log.info(
                "relay %s published %d events, up to position %d",
                self.options.name,
                done,
                self.position,
            )
        return done

    async def _publish(self, recorded: Recorded | RecordedFact) -> None:
        payload, headers = message_of(recorded)
        ack = await self.js.publish(
            subject_of(self.options.subject_prefix, recorded.stream_id),
            payload,
            timeout=PUBLISH_TIMEOUT,
            stream=self.options.stream,
            headers=headers,
        )
        if ack.duplicate:
            # Published before a crash, its acknowledgement never recorded: JetStream kept one.
            self.duplicates += 1
            log.info("position %d was already in the stream (seq %d)", recorded.position, ack.seq)
        else:
            self.published += 1

    async def catch_up(self) -> int:
        """Publish until nothing is left; how many events were published."""
        total = 0
        while found := await self.publish_batch():
            total += found
        return total

    async def run(self) -> None:
        """Follow the log until `stopping` is set; a broken connection is retried, backing off."""
        backoff = self.options.poll_interval
        while not self.stopping.is_set():
            try:
                found = await self.publish_batch()
                if self.readings is not None:
                    found = max(found, await self.readings.publish_batch())
            except (nats.errors.Error, OSError, TimeoutError, SQLAlchemyError) as error:
                log.warning("relay %s: %s; retrying in %.1f s", self.options.name, error, backoff)
                self.position = None  # re-read what was stored: the truth after a failure
                if self.readings is not None:
                    self.readings.position = None
                await self.pause(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            backoff = self.options.poll_interval
            if found < self.options.batch_size:
                if self.checkpoints is not None:
                    await self._publish_checkpoints()
                await self.pause(self.options.poll_interval)

    async def _publish_checkpoints(self) -> None:
        assert self.checkpoints is not None
        try:
            await self.checkpoints.publish_new()
        except (nats.errors.Error, OSError, TimeoutError, SQLAlchemyError) as error:
            log.warning("relay %s: checkpoints not published: %s", self.options.name, error)

    async def pause(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)


def _shown(url: str) -> str:
    """The URL without its credentials, for logs and messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host).geturl()


async def connect(settings: Settings, stopping: asyncio.Event) -> NatsClient | None:
    """Connect to NATS, retrying (with a one-line warning each time) until it answers; later
    disconnections are retried for ever too. None when told to stop before it answered."""
    shown = _shown(settings.nats_url)

    async def warn(error: Exception) -> None:
        log.warning("NATS at %s: %s", shown, error or type(error).__name__)

    async def disconnected() -> None:
        log.warning("disconnected from NATS at %s; reconnecting", shown)

    async def reconnected() -> None:
        log.info("reconnected to NATS at %s", shown)

    connecting = asyncio.ensure_future(
        nats.connect(
            settings.nats_url,
            name=f"planapi-relay-{settings.relay_name}",
            connect_timeout=5,
            reconnect_time_wait=2,
            max_reconnect_attempts=-1,
            error_cb=warn,
            disconnected_cb=disconnected,
            reconnected_cb=reconnected,
        )
    )
    stopped = asyncio.ensure_future(stopping.wait())
    await asyncio.wait({connecting, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if connecting.done():
        return connecting.result()
    connecting.cancel()
    with suppress(asyncio.CancelledError, Exception):
        await connecting
    return None


async def relay_main(settings: Settings) -> None:
    """Run the relay until SIGTERM or SIGINT; then finish the event in hand and stop."""
    options = RelayOptions.of(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    services = await bootstrap_relay(settings)
    client: NatsClient | None = None
    try:
        client = await connect(settings, stopping)
        if client is None:
            log.info("relay %s stopped before NATS answered", options.name)
            return
        js = client.jetstream()
        checkpoints = CheckpointRelay(services.tree, js, options.subject_prefix, options.stream)
        readings = ReadingsRelay(
            services.batches,
            services.positions,
            js,
            name=options.name,
            stream=options.stream,
            subject_prefix=options.subject_prefix,
            batch_size=options.batch_size,
            stopping=stopping,
        )
        relay = Relay(
            services.events, services.positions, js, options, stopping, checkpoints, readings
        )
        try:
            await relay.ensure_stream()
        except nats.errors.Error as error:
            raise RelayError(
                f"JetStream is not available at {_shown(settings.nats_url)} ({error!r}): "
                "start nats-server with JetStream enabled (-js)"
            ) from error
        async with services.positions.lock(options.name) as lock:
            if await _stand_by(lock, relay):
                await relay.run()
        log.info(
            "relay %s stopped at position %s (%d published, %d duplicates dropped)",
            options.name,
            relay.position,
            relay.published,
            relay.duplicates,
        )
    finally:
        if client is not None and not client.is_closed:
            await client.drain()
        await services.close()


async def _stand_by(lock: RelayLock, relay: Relay) -> bool:
    """Wait while another relay of the same name runs; False when told to stop first."""
    warned = False
    while not await lock.try_acquire():
        if not warned:
            log.warning("another relay named %s is running; standing by", relay.options.name)
            warned = True
        await relay.pause(STAND_BY_INTERVAL)
        if relay.stopping.is_set():
            return False
    return True


def run_relay(settings: Settings) -> int:
    try:
        asyncio.run(relay_main(settings))
    except RelayError as error:
        raise SystemExit(f"planapi: {error}") from error
    return 0
