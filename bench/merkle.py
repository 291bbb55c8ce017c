"""The Merkle log on PostgreSQL, each figure beside a baseline from the same run:

- appends with the log follower keeping the tree (rounds every 50 ms) vs no follower;
- inclusion and consistency proofs in a tree of BENCH_TREE_LEAVES leaves (default 1,000,000;
  10,000,000 with the variable set), its leaves and complete subtrees synthesised by SQL, vs
  one primary-key lookup of a leaf row (the floor of any read);
- re-hashing BENCH_VERIFY_EVENTS events into the root a checkpoint is checked against vs
  `planapi verify`'s chain-only pass over the same rows.
"""

from __future__ import annotations

import asyncio
import os
import random
import time

import asyncpg

from bench.common import ASYNCPG_DSN, p50_ms, row, scratch_schema, service, timings
from bench.verify import STREAM, chain, copy_chain
from planapi.adapters.clock import SystemClock
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.merkle_log import LogRecomputation, SqlMerkleLog
from planapi.application.plans import AmendPlan, CreatePlan
from planapi.application.transparency import EVENTS, LogSettings, Transparency
from planapi.domain.changes import AddNode, UpdateNode
from planapi.domain.events import Authority
from planapi.domain.nodes import NodeKind

TREE_LEAVES = int(os.environ.get("BENCH_TREE_LEAVES", "1000000"))
VERIFY_EVENTS = int(os.environ.get("BENCH_VERIFY_EVENTS", "200000"))
APPENDS = int(os.environ.get("BENCH_MERKLE_APPENDS", "300"))
WRITERS = 4


async def _appends(follow: bool) -> float:
    """Appends per second from WRITERS concurrent amenders, with or without the follower."""
    async with scratch_schema() as (engine, _):
        plans = service(engine)
        tree, recompute = SqlMerkleLog(engine), LogRecomputation(engine)
        logs = Transparency(tree, recompute, SystemClock(), LogSettings("bench"))
        stop = asyncio.Event()

        async def follower() -> None:
            while not stop.is_set():
                await logs.round()
                await asyncio.sleep(0.05)

        async def writer(n: int) -> None:
            first = [AddNode(NodeKind.PRIORITY, "P", id="p")]
            plan = CreatePlan(f"w{n}", "Bench", 2026, 2029, Authority.WTDC, "b", changes=first)
            await plans.create_plan(plan)
            for version in range(1, APPENDS):
                change = UpdateNode("p", {"title": f"Priority, take {version}"})
                await plans.amend_plan(AmendPlan(f"w{n}", version, Authority.TDAG, "b", [change]))

        task = asyncio.create_task(follower()) if follow else None
        start = time.perf_counter()
        await asyncio.gather(*(writer(n) for n in range(WRITERS)))
        rate = WRITERS * APPENDS / (time.perf_counter() - start)
        stop.set()
        if task is not None:
            await task
            assert await logs.catch_up(EVENTS) == WRITERS * APPENDS
    return rate


_SYNTHESISE_LEAVES = (
    "INSERT INTO log_leaves (log, leaf, ref, hash) SELECT 'events', i, i + 1,"
    " sha256('\\x00'::bytea || int8send(i)) FROM generate_series(0, $1::bigint - 1) AS i"
)
_SYNTHESISE_LEVEL = (
    "INSERT INTO log_nodes (log, level, idx, hash) SELECT 'events', $1, idx / 2,"
    " sha256('\\x01'::bytea || string_agg(hash, ''::bytea ORDER BY idx))"
    " FROM {source} WHERE log = 'events' {level} GROUP BY idx / 2 HAVING count(*) = 2"
)


async def _synthesise(conn: asyncpg.Connection, leaves: int) -> None:
    """Every complete subtree of a tree of `leaves` leaves, level by level, in SQL."""
    await conn.execute(_SYNTHESISE_LEAVES, leaves)
    source = "(SELECT log, leaf AS idx, hash FROM log_leaves) AS children"
    await conn.execute(_SYNTHESISE_LEVEL.format(source=source, level=""), 1)
    level, width = 1, leaves // 2
    while width >= 2:
        statement = _SYNTHESISE_LEVEL.format(source="log_nodes", level=f"AND level = {level}")
        await conn.execute(statement, level + 1)
        level, width = level + 1, width // 2
    await conn.execute("ANALYZE log_leaves; ANALYZE log_nodes")


async def _proofs() -> None:
    async with scratch_schema() as (engine, schema):
        conn = await asyncpg.connect(ASYNCPG_DSN, server_settings={"search_path": schema})
        try:
            start = time.perf_counter()
            await _synthesise(conn, TREE_LEAVES)
            built = time.perf_counter() - start
        finally:
            await conn.close()
        tree = SqlMerkleLog(engine)
        n = TREE_LEAVES
        pick = random.Random(1)
        await timings(lambda: tree.inclusion(EVENTS, pick.randrange(n), n), 200)  # warm-up
        leaf = await timings(lambda: tree.leaf_of(EVENTS, pick.randrange(1, n + 1)), 200)
        inclusion = await timings(lambda: tree.inclusion(EVENTS, pick.randrange(n), n), 200)
        consistency = await timings(lambda: tree.consistency(EVENTS, pick.randrange(1, n), n), 200)
        assert len(await tree.inclusion(EVENTS, 12345, n)) == (n - 1).bit_length()
    print(f"Proofs in a tree of {n:,} leaves (synthesised in {built:.0f} s)")
    floor = p50_ms(leaf)
    row("one leaf row by its position (baseline)", f"{floor:.2f} ms p50")
    for name, samples in (("inclusion proof", inclusion), ("consistency proof", consistency)):
        ms = p50_ms(samples)
        verdict = "target <= 5 ms: " + ("met" if ms <= 5 else "NOT met")
        row(
            f"{name} (stored nodes, one round trip)",
            f"{ms:.2f} ms p50",
            f"{ms / floor:.1f}x",
            verdict,
        )


async def _verification() -> None:
    rows = chain(VERIFY_EVENTS)
    async with scratch_schema() as (engine, schema):
        await copy_chain(schema, rows)
        store = SqlEventStore(engine, SystemClock())
        start = time.perf_counter()
        assert (await store.verify(STREAM)).checked == VERIFY_EVENTS
        chain_rate = VERIFY_EVENTS / (time.perf_counter() - start)
        start = time.perf_counter()
        count, _ = await LogRecomputation(engine).roots(EVENTS, [VERIFY_EVENTS])
        tree_rate = count / (time.perf_counter() - start)
    print(f"Verifying {VERIFY_EVENTS:,} events")
    row("chain only: planapi verify (baseline)", f"{chain_rate:,.0f} events/s")
    share = tree_rate / chain_rate
    verdict = "target >= 90%: " + ("met" if share >= 0.9 else "NOT met")
    name = "against a checkpoint: root re-hashed from the rows"
    row(name, f"{tree_rate:,.0f} events/s", f"{share:.0%} of chain only", verdict)


async def main() -> None:
    if os.environ.get("BENCH_MERKLE_ONLY") == "proofs":
        await _proofs()
        return
    print(f"Appends, {WRITERS} writers x {APPENDS} amendments (PostgreSQL)")
    off = await _appends(follow=False)
    kept = await _appends(follow=True)
    row("no follower (baseline)", f"{off:,.0f} appends/s")
    share = kept / off
    row("follower keeping the tree every 50 ms", f"{kept:,.0f} appends/s", f"{share:.0%} of off",
        "target >= 90%: " + ("met" if share >= 0.9 else "NOT met"))  # fmt: skip
    await _proofs()
    await _verification()


if __name__ == "__main__":
    asyncio.run(main())
