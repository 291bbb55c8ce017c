"""Signed checkpoints reach JetStream beside the events, once each, as the signed note itself."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.merkle_log import LogRecomputation, SqlMerkleLog
from planapi.adapters.relay_positions import SqlRelayPositions
from planapi.application.transparency import EVENTS, LogSettings, Transparency
from planapi.domain.notes import SignerKey
from planapi.entrypoints.checkpoint_relay import CheckpointRelay
from planapi.entrypoints.relay import Relay
from tests.contract.builders import FakeClock, append_versions
from tests.integration.conftest import JetStream
from tests.integration.test_relay import options


async def _until(jetstream: JetStream, count: int) -> None:
    for _ in range(400):
        if await jetstream.count() >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} messages in the stream after 20 s")


async def test_each_new_checkpoint_is_published_once_as_its_signed_note(
    engine: AsyncEngine, event_store: SqlEventStore, jetstream: JetStream
) -> None:
    key = SignerKey.generate("planapi.test")
    tree = SqlMerkleLog(engine)
    logs = Transparency(tree, LogRecomputation(engine), FakeClock(), LogSettings("x", signer=key))
    checkpoints = CheckpointRelay(tree, jetstream.js, jetstream.prefix, jetstream.stream)
    stopping = asyncio.Event()
    relay = Relay(event_store, SqlRelayPositions(engine), jetstream.js, options(jetstream),
                  stopping, checkpoints)  # fmt: skip
    await relay.ensure_stream()
    await append_versions(event_store, "plan:a", 2)
    await logs.round(force=True)
    running = asyncio.create_task(relay.run())
    try:
        await _until(jetstream, 3)  # two events, one checkpoint
        await append_versions(event_store, "plan:b", 1)
        await logs.round(force=True)
        await _until(jetstream, 5)
        await asyncio.sleep(0.3)  # more rounds of the relay: nothing published twice
    finally:
        stopping.set()
        await running
    messages = await jetstream.messages()
    notes = [m for m in messages if m.subject == f"{jetstream.prefix}.checkpoint.events"]
    assert [m.headers["Nats-Msg-Id"] for m in notes] == [
        "checkpoint:events:2",
        "checkpoint:events:3",
    ]
    latest = await logs.checkpoint(EVENTS)
    assert latest is not None
    assert notes[-1].data.decode() == latest.note
    assert len(messages) == 5
