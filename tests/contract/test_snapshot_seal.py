"""Sealed snapshots: refused UPDATE, still deletable; loaded only when their seal holds; re-folded
from the events by `verify`, which also checks the node index. The key lives in a file."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.clock import SystemClock
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.snapshot_key import SnapshotKeyError, load_or_create_key
from planapi.adapters.snapshots import SqlSnapshotStore, UnkeyedSnapshotStore
from planapi.adapters.tables import snapshots
from planapi.application.pacing import Pacer
from planapi.application.plans import PlanService
from tests.contract.builders import build_history

PLAN, STREAM = "baku-2026", "plan:baku-2026"


def service_with(event_store: SqlEventStore, snapshots: SqlSnapshotStore) -> PlanService:
    return PlanService(event_store, snapshots, default_actor="tester", snapshot_interval=5)


async def test_an_untouched_history_verifies_with_its_snapshots_refolded(
    service: PlanService, engine: AsyncEngine
) -> None:
    await build_history(service)  # snapshots at versions 5 and 10, of every kind of change

    report = await service.verify(PLAN)

    assert report.ok, report.findings
    assert report.findings == ()


async def test_the_table_refuses_update_but_a_snapshot_may_be_deleted(
    service: PlanService, engine: AsyncEngine
) -> None:
    await build_history(service)
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(update(snapshots).values(state={}))
    async with engine.begin() as conn:
        gone = await conn.execute(delete(snapshots).where(snapshots.c.version == 5))
    assert gone.rowcount == 1
    assert (await service.verify(PLAN)).ok, "a missing snapshot is no problem: a cache"


async def test_a_snapshot_sealed_with_another_key_is_ignored_and_reported(
    service: PlanService, event_store: SqlEventStore, engine: AsyncEngine
) -> None:
    await build_history(service)
    elsewhere = SqlSnapshotStore(engine, SystemClock())  # another key than the one that sealed

    assert await elsewhere.nearest(STREAM, 13) is None
    assert await elsewhere.newest_recorded(STREAM) == (13, None)  # the head, no snapshot
    report = await service_with(event_store, elsewhere).verify(PLAN)

    assert [(f.kind, f.version) for f in report.findings] == [("snapshot", 5), ("snapshot", 10)]
    assert all("seal" in f.detail for f in report.findings)
    assert not report.ok


async def test_without_a_key_snapshots_are_neither_read_nor_written(
    event_store: SqlEventStore, engine: AsyncEngine
) -> None:
    unkeyed = UnkeyedSnapshotStore(engine, SystemClock())
    service = service_with(event_store, unkeyed)
    await build_history(service)

    assert await unkeyed.versions(STREAM) == []
    assert (await service.verify(PLAN)).ok


async def test_verification_offers_the_event_loop_a_turn_for_every_row(
    service: PlanService, monkeypatch: pytest.MonkeyPatch
) -> None:
    latest = await build_history(service)
    ticks = [0]
    original = Pacer.tick

    async def counted(self: Pacer) -> None:
        ticks[0] += 1
        await original(self)

    monkeypatch.setattr(Pacer, "tick", counted)
    await service.verify(PLAN)

    assert ticks[0] >= 2 * latest, "the chain and the index, row by row"


async def test_the_key_file_is_made_private_once_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "var" / "snapshot.key"

    key = await asyncio.to_thread(load_or_create_key, path)

    assert len(key) == 32
    assert stat.S_IMODE((await asyncio.to_thread(path.stat)).st_mode) == 0o600
    assert await asyncio.to_thread(load_or_create_key, path) == key


@pytest.mark.parametrize("content", ["not hex", "abcd"], ids=["not hex", "too short"])
async def test_a_key_file_without_a_usable_key_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "snapshot.key"
    await asyncio.to_thread(path.write_text, content)

    with pytest.raises(SnapshotKeyError, match=str(path)):
        await asyncio.to_thread(load_or_create_key, path)


async def test_snapshots_written_before_sealing_are_ignored(
    service: PlanService, snapshot_store: SqlSnapshotStore, engine: AsyncEngine
) -> None:
    await build_history(service)
    async with engine.begin() as conn:
        rows = (await conn.execute(select(snapshots))).mappings().all()
        await conn.execute(delete(snapshots))
        for row in rows:  # as they were before sealing: no chain hash, no seal
            await conn.execute(snapshots.insert().values({**row, "chain_hash": None, "seal": None}))

    assert await snapshot_store.nearest(STREAM, 13) is None
    assert (await service.verify(PLAN)).ok, "their content is right; they are only unused"
