"""The Merkle logs on both backends: leaves in commit order over the exact bytes the chains hash,
trees kept incrementally, proofs from stored nodes that verify against the recomputed root."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.log_entries import entries_after
from planapi.adapters.merkle_log import SqlMerkleLog
from planapi.adapters.readings_store import SqlReadingStore
from planapi.adapters.tables import events, log_leaves
from planapi.application.plans import PlanService
from planapi.application.readings import ReadingService, RecordReadings
from planapi.application.transparency import EVENTS, READINGS
from planapi.domain.merkle import (
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.contract.builders import FakeClock, append_versions
from tests.garbage import garbage_kept, statement_parts
from tests.readings_fixtures import PLAN_ID, create_plan_command, reading
from tests.unit.test_merkle import oracle_mth


async def _event_bytes(engine: AsyncEngine) -> list[tuple[int, bytes]]:
    """Every event's leaf bytes, in position order, each checked to be exactly what its stored
    chain link hashes."""
    async with engine.connect() as conn:
        found = await entries_after(conn, EVENTS, 0, 10_000)
        links = (await conn.execute(select(events.c.hash).order_by(events.c.position))).all()
    assert [hashlib.sha256(data).digest() for _, data in found] == [bytes(h) for (h,) in links]
    return found


async def _interleaved(event_store: SqlEventStore) -> None:
    """Two plans written in turns, so commit order is not any one plan's version order."""
    await append_versions(event_store, "plan:a", 3)
    await append_versions(event_store, "plan:b", 2)
    await append_versions(event_store, "plan:c", 4)


async def test_leaves_are_the_events_in_commit_order_numbered_from_zero(
    engine: AsyncEngine, event_store: SqlEventStore
) -> None:
    await _interleaved(event_store)
    tree = SqlMerkleLog(engine)

    assert await tree.integrate(EVENTS) == 9

    rows = await _event_bytes(engine)
    async with engine.connect() as conn:
        stored = (
            await conn.execute(
                select(log_leaves.c.leaf, log_leaves.c.ref, log_leaves.c.hash)
                .where(log_leaves.c.log == EVENTS)
                .order_by(log_leaves.c.leaf)
            )
        ).all()
    assert [(leaf, ref) for leaf, ref, _ in stored] == [(i, p) for i, (p, _) in enumerate(rows)]
    assert [bytes(h) for *_, h in stored] == [leaf_hash(data) for _, data in rows]
    assert await tree.root(EVENTS, 9) == oracle_mth([data for _, data in rows])


async def test_a_tree_kept_in_small_rounds_equals_one_built_at_once(
    engine: AsyncEngine, event_store: SqlEventStore
) -> None:
    tree = SqlMerkleLog(engine)
    sizes = []
    for stream in range(7):
        await append_versions(event_store, f"plan:{stream}", 3)
        sizes.append(await tree.integrate(EVENTS, limit=2))
        sizes.append(await tree.integrate(EVENTS, limit=2))
    while (size := await tree.integrate(EVENTS, limit=3)) != sizes[-1]:
        sizes.append(size)

    assert sizes == sorted(sizes)  # no leaf skipped or doubled
    assert sizes[-1] == 21
    data = [d for _, d in await _event_bytes(engine)]
    for size in range(1, 22):
        root = await tree.root(EVENTS, size)
        assert root == oracle_mth(data[:size])
        for leaf in range(size):
            path = await tree.inclusion(EVENTS, leaf, size)
            verify_inclusion(leaf, size, leaf_hash(data[leaf]), path, root)
        for first in range(size + 1):
            proof = await tree.consistency(EVENTS, first, size)
            verify_consistency(first, size, oracle_mth(data[:first]), root, proof)


async def test_a_proof_beyond_the_tree_is_refused_with_the_size_it_holds(
    engine: AsyncEngine, event_store: SqlEventStore
) -> None:
    await append_versions(event_store, "plan:a", 3)
    tree = SqlMerkleLog(engine)
    await tree.integrate(EVENTS)

    with pytest.raises(ProofError, match="the events log holds 3 leaves, not 4"):
        await tree.inclusion(EVENTS, 0, 4)
    with pytest.raises(ProofError, match="leaf 3 is not in a tree of 3 leaves"):
        await tree.inclusion(EVENTS, 3, 3)
    with pytest.raises(ProofError, match="from 3 leaves to 2"):
        await tree.consistency(EVENTS, 3, 2)


async def test_each_readings_batch_is_a_leaf_of_the_readings_log(
    engine: AsyncEngine, service: PlanService, clock: FakeClock
) -> None:
    await service.create_plan(create_plan_command())
    recorder = ReadingService(SqlReadingStore(engine, clock), service)
    for year in ("2026", "2027", "2028"):
        await recorder.record(
            RecordReadings(PLAN_ID, [reading(year, "1.5"), reading(year, "2", kpi_id="kpi-2")])
        )
    tree = SqlMerkleLog(engine)

    assert await tree.integrate(READINGS) == 3
    assert await tree.integrate(EVENTS) == 1  # the plan's creation: another log, another order
    assert await tree.leaf_of(READINGS, 2) == 1
    root = await tree.root(READINGS, 3)
    path = await tree.inclusion(READINGS, 1, 3)
    async with engine.connect() as conn:
        kept = await conn.scalar(
            select(log_leaves.c.hash).where(log_leaves.c.log == READINGS, log_leaves.c.leaf == 1)
        )
    verify_inclusion(1, 3, bytes(kept), path, root)


async def test_a_readings_backlog_is_taken_a_bounded_number_of_readings_at_a_time(
    engine: AsyncEngine, service: PlanService, clock: FakeClock
) -> None:
    """A follower catching up holds no more readings' hashes at once than its bound (a batch
    may store 10,000 readings), one batch at least, and builds the tree built at once. What a
    batch stored counts, not what it was sent: duplicates are not among its leaf's hashes."""
    await service.create_plan(create_plan_command())
    recorder = ReadingService(SqlReadingStore(engine, clock), service)
    first = [reading("2026", "1", source=("s", "a")), reading("2027", "2", source=("s", "b"))]
    for batch in (
        first,
        [*first, reading("2028", "3", source=("s", "c"))],  # stores 1 of its 3
        [reading(year, "4", kpi_id="kpi-2") for year in ("2026", "2027", "2028")],
        [reading("2029", "5")],
    ):
        await recorder.record(RecordReadings(PLAN_ID, batch))
    async with engine.connect() as conn:
        whole = await entries_after(conn, READINGS, 0, 100)
        bounds = (1, 2, 3, 5, 6, 7)
        taken = [len(await entries_after(conn, READINGS, 0, 100, m)) for m in bounds]
        assert len(await entries_after(conn, READINGS, 0, 3, 100)) == 3  # and the row limit
    assert taken == [1, 1, 2, 2, 3, 4]  # stored 2, 1, 3, 1: a batch past the bound waits

    tree = SqlMerkleLog(engine)
    sizes = [await tree.integrate(READINGS, members=3) for _ in range(4)]

    assert sizes == [2, 3, 4, 4]
    assert await tree.root(READINGS, 4) == oracle_mth([data for _, data in whole])


async def test_follower_rounds_and_proofs_leave_no_statement_in_a_cycle(
    engine: AsyncEngine, event_store: SqlEventStore
) -> None:
    """The server follows the logs every second and collects rarely: statements left in
    cycles by each round piled up for minutes (docs/performance.md, "The soak")."""
    tree = SqlMerkleLog(engine)
    await append_versions(event_store, "plan:warm", 3)
    await tree.integrate(EVENTS)  # statements compiled once, as in a running server

    with garbage_kept() as garbage:
        for stream in range(5):
            await append_versions(event_store, f"plan:{stream}", 3)
            size = await tree.integrate(EVENTS)  # reads the stored nodes the new leaves join
            await tree.inclusion(EVENTS, 1, size)

    assert size == 18
    assert statement_parts(garbage) == {}
