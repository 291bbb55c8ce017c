"""Events stored in an older shape stay readable: upcasters lift them on the way out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.codec import CodecError, decode_event, encode_info
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.hashing import GENESIS, event_hash
from planapi.adapters.tables import event_nodes, events
from planapi.application.plans import PlanService
from planapi.domain.changes import AddNode
from planapi.domain.events import PlanCreated
from planapi.domain.history import touched_nodes
from planapi.domain.nodes import NodeKind
from tests.contract.builders import amend_command, info, raw_rows

OLD_PLAN = "old-plan"
STREAM = f"plan:{OLD_PLAN}"
RECORDED_AT = dt.datetime(2025, 11, 20, 8, 0, 0, 250000, tzinfo=dt.UTC)


async def _store_raw(
    engine: AsyncEngine, *, type_: str, schema_version: int, data: dict[str, Any]
) -> bytes:
    """Write version 1 of STREAM as an older release of the code did, chain hash included."""
    row: dict[str, Any] = {
        "stream_id": STREAM,
        "version": 1,
        "type": type_,
        "schema_version": schema_version,
        "data": data,
        "meta": encode_info(info(actor="archivist", rationale="Adopted by WTDC-22")),
        "recorded_at": RECORDED_AT,
    }
    digest = event_hash(GENESIS, **row)
    # The node index, as migration 0003 fills it in for events stored before it existed.
    try:
        nodes = touched_nodes(decode_event(type_, schema_version, data))
    except CodecError:
        nodes = set()  # from a newer release: nothing this code can index
    touched = [{"stream_id": STREAM, "node_id": n, "version": 1} for n in nodes]
    async with engine.begin() as conn:
        await conn.execute(insert(events).values(**row, prev_hash=GENESIS, hash=digest))
        if touched:
            await conn.execute(insert(event_nodes), touched)
    return digest


def _v1_plan_created(period: str) -> dict[str, Any]:
    return {
        "plan_id": OLD_PLAN,
        "title": "Kigali Action Plan",
        "description": None,
        "period": period,
        "changes": [
            {
                "type": "NodeAdded",
                "node": {"id": "p1", "kind": "PRIORITY", "title": "Connectivity"},
                "position": 0,
            }
        ],
    }


async def test_a_plan_created_in_the_v1_shape_reads_with_its_period_split_in_two(
    engine: AsyncEngine, service: PlanService
) -> None:
    await _store_raw(
        engine, type_="PlanCreated", schema_version=1, data=_v1_plan_created("2026-2029")
    )

    found = await service.plan(OLD_PLAN)

    assert found is not None
    assert (found.state.period_start, found.state.period_end) == (2026, 2029)
    assert found.state.title == "Kigali Action Plan"
    assert [node.id for node in found.state.walk()] == ["p1"]
    assert found.amendment.info.actor == "archivist"
    assert found.amendment.recorded_at == RECORDED_AT
    assert isinstance(found.amendment.event, PlanCreated)
    assert found.amendment.event.period_end == 2029


async def test_a_v1_period_of_one_year_starts_and_ends_that_year(
    engine: AsyncEngine, service: PlanService
) -> None:
    await _store_raw(engine, type_="PlanCreated", schema_version=1, data=_v1_plan_created("2026"))

    found = await service.plan(OLD_PLAN)

    assert found is not None
    assert (found.state.period_start, found.state.period_end) == (2026, 2026)


async def test_upcasting_changes_nothing_stored_so_the_chain_still_verifies(
    engine: AsyncEngine, event_store: SqlEventStore, service: PlanService
) -> None:
    head = await _store_raw(
        engine, type_="PlanCreated", schema_version=1, data=_v1_plan_created("2026-2029")
    )

    await service.plan(OLD_PLAN)
    report = await service.verify(OLD_PLAN)
    (row,) = await raw_rows(engine, STREAM)

    assert report.ok
    assert (report.checked, report.head_hash) == (1, head)
    assert row["schema_version"] == 1
    assert row["data"]["period"] == "2026-2029"


async def test_a_plan_from_an_old_release_can_be_amended_and_still_verifies(
    engine: AsyncEngine, event_store: SqlEventStore, service: PlanService
) -> None:
    await _store_raw(
        engine, type_="PlanCreated", schema_version=1, data=_v1_plan_created("2026-2029")
    )

    amended = await service.amend_plan(
        amend_command(OLD_PLAN, 1, [AddNode(NodeKind.ENABLER, "Efficiency", id="e1")])
    )
    stored = await event_store.read(STREAM)

    assert amended.state.version == 2
    assert amended.state.period_end == 2029
    assert [r.version for r in stored] == [1, 2]
    assert (await service.verify(OLD_PLAN)).ok
    assert await service.plans() == [await service.plan(OLD_PLAN)]


async def test_a_payload_newer_than_the_code_is_refused_rather_than_misread(
    engine: AsyncEngine, event_store: SqlEventStore
) -> None:
    await _store_raw(
        engine, type_="PlanCreated", schema_version=99, data=_v1_plan_created("2026-2029")
    )

    with pytest.raises(CodecError, match="newer"):
        await event_store.read(STREAM)
    assert (await event_store.verify(STREAM)).ok
