"""Snapshots in format 2 (MessagePack) on both backends: written after a large change, read
cold without decoding that change's event, ignored when tampered with; format 1 (JSON) rows
written before are still read, and replaced when saved again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.hashing import canonical
from planapi.adapters.snapshots import (
    JSON_FORMAT,
    SNAPSHOT_FORMAT,
    WHOLE_NODES_FORMAT,
    SqlSnapshotStore,
    state_to_primitive,
)
from planapi.adapters.tables import snapshots
from planapi.application.plans import SNAPSHOT_FACTS, AmendPlan, PlanService
from planapi.domain.changes import AddNode
from planapi.domain.events import Authority
from planapi.domain.nodes import NodeKind
from planapi.domain.plan import fold
from tests.contract.builders import T0, build_history, create_command
from tests.unit.test_snapshot_format import whole_nodes_payload

PLAN, STREAM = "baku-2026", "plan:baku-2026"


async def _rows(engine: AsyncEngine) -> list[tuple[int, int]]:
    query = select(snapshots.c.version, snapshots.c.schema_version).where(
        snapshots.c.stream_id == STREAM
    )
    async with engine.connect() as conn:
        return sorted((row.version, row.schema_version) for row in await conn.execute(query))


async def test_a_large_amendment_is_snapshotted_and_read_cold_from_its_snapshot(
    service: PlanService,
    event_store: SqlEventStore,
    engine: AsyncEngine,
    fresh_service: Callable[[], PlanService],
) -> None:
    await service.create_plan(create_command(PLAN))
    kpis = [AddNode(NodeKind.PRIORITY, "P", id="p")] + [
        AddNode(NodeKind.OUTCOME, f"O{i}", id=f"o{i}", parent_id="p") for i in range(SNAPSHOT_FACTS)
    ]
    await service.amend_plan(AmendPlan(PLAN, 1, Authority.TDAG, "many outcomes", kpis))

    assert await _rows(engine) == [(2, SNAPSHOT_FORMAT)], "version 1 is small: none"
    found = await fresh_service().plan(PLAN)

    assert found is not None
    stored = await event_store.read(STREAM, 0, 2)
    assert found.state == fold(record.event for record in stored)
    assert found.amendment == stored[-1], "who, when, hash and the changes, decoded on demand"
    assert len(found.amendment.event.changes) == SNAPSHOT_FACTS + 1


async def test_a_tampered_payload_is_ignored_for_an_older_snapshot_and_reported(
    service: PlanService,
    event_store: SqlEventStore,
    engine: AsyncEngine,
    fresh_service: Callable[[], PlanService],
) -> None:
    await build_history(service)  # snapshots at 5 and 10
    async with engine.begin() as conn:
        row = (await conn.execute(select(snapshots).where(snapshots.c.version == 10))).mappings()
        altered = dict(row.one())
        payload = bytearray(altered["payload"])
        payload[-1] ^= 1  # one bit of the last text: still decodes, seal no longer holds
        await conn.execute(delete(snapshots).where(snapshots.c.version == 10))
        await conn.execute(insert(snapshots).values({**altered, "payload": bytes(payload)}))

    nearest = await service.snapshots.nearest(STREAM, 13)
    found = await fresh_service().plan(PLAN, version=13)
    report = await service.verify(PLAN)

    assert nearest is not None
    assert nearest.version == 5
    assert found is not None
    assert found.state == fold(r.event for r in await event_store.read(STREAM, 0, 13))
    assert [(f.kind, f.version) for f in report.findings] == [("snapshot", 10)]


@pytest.mark.parametrize("fmt", [JSON_FORMAT, WHOLE_NODES_FORMAT])
async def test_an_older_format_is_still_read_then_replaced_when_saved_again(
    fmt: int,
    service: PlanService,
    event_store: SqlEventStore,
    snapshot_store: SqlSnapshotStore,
    engine: AsyncEngine,
) -> None:
    await build_history(service)
    record = (await event_store.read(STREAM, 9, 10))[0]
    state = fold(r.event for r in await event_store.read(STREAM, 0, 10))
    stored: dict[str, object]
    if fmt == JSON_FORMAT:
        primitive = state_to_primitive(state)
        body, stored = canonical(primitive), {"state": primitive}
    else:
        body = whole_nodes_payload(state)
        stored = {"state": None, "payload": body}
    async with engine.begin() as conn:
        await conn.execute(delete(snapshots))
        await conn.execute(
            insert(snapshots).values(
                stream_id=STREAM,
                version=10,
                schema_version=fmt,
                created_at=T0,
                chain_hash=record.hash,
                seal=snapshot_store.seal(STREAM, 10, record.hash, body, fmt),
                **stored,
            )
        )

    assert await snapshot_store.nearest(STREAM, 13) == state
    assert (await service.verify(PLAN)).ok
    await snapshot_store.save(STREAM, state, record.hash)
    assert await _rows(engine) == [(10, SNAPSHOT_FORMAT)]
    assert await snapshot_store.nearest(STREAM, 13) == state
