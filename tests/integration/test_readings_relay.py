"""Readings batches on the NATS relay, beside the plan events: each batch once, in batch order,
also when `planapi relay` is killed with SIGKILL mid-way and restarted."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.clock import SystemClock
from planapi.adapters.feeds import SqlReadingLog
from planapi.adapters.readings_store import SqlReadingStore
from planapi.adapters.relay_positions import SqlRelayPositions
from planapi.application.plans import PlanService
from planapi.application.readings import ReadingService, RecordReadings
from planapi.entrypoints.readings_relay import PART_SIZE, ReadingsRelay, messages_of
from tests.integration.conftest import JetStream
from tests.integration.relay_harness import killed_after, relay_environment, restarted_until
from tests.readings_fixtures import PLAN_ID, create_plan_command, reading


async def record_batches(service: PlanService, engine: AsyncEngine, count: int) -> list[int]:
    """`count` batches of two readings each; their ids."""
    recorder = ReadingService(SqlReadingStore(engine, SystemClock()), service)
    if await service.stored_latest(PLAN_ID) is None:
        await service.create_plan(create_plan_command(period_end=2200))  # a year a batch
    ids = []
    for _ in range(count):
        year = 2026 + (len(ids) + await SqlReadingLog(engine).last_batch_id()) % 170
        batch = [reading(str(year), "61"), reading(f"{year}-Q1", "4", kpi_id="kpi-2")]
        ids.append((await recorder.record(RecordReadings(PLAN_ID, batch))).batch_id)
    return ids


async def batch_messages(jetstream: JetStream) -> list[dict[str, object]]:
    found = [json.loads(m.data) for m in await jetstream.messages()]
    return [m for m in found if "batchId" in m]


async def test_each_batch_is_published_once_with_its_readings(
    engine: AsyncEngine, service: PlanService, jetstream: JetStream
) -> None:
    ids = await record_batches(service, engine, 3)
    await jetstream.js.add_stream(name=jetstream.stream, subjects=[f"{jetstream.prefix}.>"])
    relay = ReadingsRelay(
        SqlReadingLog(engine),
        SqlRelayPositions(engine),
        jetstream.js,
        name="default",
        stream=jetstream.stream,
        subject_prefix=jetstream.prefix,
        batch_size=2,
        stopping=asyncio.Event(),
    )

    assert await relay.publish_batch() == 2
    assert await relay.publish_batch() == 1
    assert await relay.publish_batch() == 0
    relay.position = None  # as after a restart: resumes from what was stored
    assert await relay.publish_batch() == 0

    published = await batch_messages(jetstream)
    assert [m["batchId"] for m in published] == ids
    first = published[0]
    assert first["planId"] == PLAN_ID
    assert [(r["kpiId"], r["period"], r["value"]) for r in first["readings"]] == [  # type: ignore[union-attr]
        ("kpi-1", "2026", "61"),
        ("kpi-2", "2026-Q1", "4"),
    ]
    assert await SqlRelayPositions(engine).get("default.readings") == ids[-1]


def test_a_large_batch_goes_out_in_parts_each_with_its_own_message_id() -> None:
    from planapi.application.ports import RecordedBatch
    from tests.readings_fixtures import stored

    many = tuple(stored(i + 1, str(1000 + i)) for i in range(PART_SIZE + 1))
    batch = RecordedBatch(7, PLAN_ID, "nso", many[0].recorded_at, len(many), 0, many)

    parts = messages_of(batch)

    assert [headers["Nats-Msg-Id"] for _, headers in parts] == ["readings:7:1", "readings:7:2"]
    assert [len(json.loads(payload)["readings"]) for payload, _ in parts] == [PART_SIZE, 1]


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_planapi_relay_killed_mid_way_and_restarted_publishes_each_batch_once(
    database: tuple[str, dict[str, object]],
    engine: AsyncEngine,
    service: PlanService,
    jetstream: JetStream,
    tmp_path: Path,
) -> None:
    env = relay_environment(database, jetstream, batch_size=3)
    ids = await record_batches(service, engine, 120)

    async def published() -> int:
        return len(await batch_messages(jetstream))

    await killed_after(env, tmp_path, published, 10, total=120)

    ids += await record_batches(service, engine, 5)  # recorded while the relay is down
    output = await restarted_until(env, tmp_path, published, len(ids))
    assert "resumes after batch" in output

    assert [m["batchId"] for m in await batch_messages(jetstream)] == ids  # once, in order
    assert await SqlRelayPositions(engine).get("default.readings") == ids[-1]
