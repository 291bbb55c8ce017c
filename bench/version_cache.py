"""The cache of reconstructed versions, in process, on PostgreSQL: `python -m bench.version_cache`.

The 1,000-KPI grown plan of bench/growth.py (its KPIs as `grow_changes` makes them, through the
service), then BENCH_VCACHE_VERSIONS (2,000) amendments each renaming a KPI at random, as the
soak's amender does; snapshots every 100 versions. Then a fresh `PlanService` reads
BENCH_VCACHE_READS (2,000) versions picked at random among them all (the soak's version reads;
the same picks for every run): the memory its cache holds after them (tracemalloc, in a pass of
its own), the reads' time (wall and this process's CPU), the cache's hit rate; then hits: the
last 200 versions read, read again, each answer from memory if held.

`BENCH_BASE_SRC=/path/to/other/checkout/src` measures that tree too, on the same data, in
fresh processes taking turns with this tree's (BENCH_VCACHE_AB rounds, 2): base, this, base...
`BENCH_VCACHE_BOUNDS=33554432,67108864` measures this tree at each of those byte bounds (one
column each; 0, the default: its own default).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import random
import statistics
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import URL, measured_apart, scratch_schema, service
from bench.growth import PLAN_ID, priorities
from planapi.adapters.database import create_engine
from planapi.application.plans import AmendPlan, CreatePlan, PlanService
from planapi.domain.changes import AddNode, UpdateNode
from planapi.domain.events import Authority
from planapi.domain.nodes import Direction, Measure, Measurement, NodeKind

KPIS = 1_000
VERSIONS = int(os.environ.get("BENCH_VCACHE_VERSIONS", "2000"))
READS = int(os.environ.get("BENCH_VCACHE_READS", "2000"))
HITS = 200
BASE_SRC = os.environ.get("BENCH_BASE_SRC", "")
AB_ROUNDS = int(os.environ.get("BENCH_VCACHE_AB", "2"))
# This tree's byte bounds to measure, each a column (0: its default).
BOUNDS = [int(b) for b in os.environ.get("BENCH_VCACHE_BOUNDS", "0").split(",")]
ROOT = Path(__file__).resolve().parent.parent


def _kpis() -> list[AddNode]:
    outcomes = [f"{p}-o{n}" for p in priorities() for n in range(1, 5)]
    adds = [
        AddNode(NodeKind.OUTCOME, f"Outcome {o}", id=o, parent_id=o.rsplit("-o", 1)[0])
        for o in outcomes
    ]
    for number in range(KPIS):
        values = {
            "code": str(number),
            "unit": "%",
            "measure": Measure.PERCENTAGE,
            "direction": Direction.INCREASE,
            "baseline": Measurement("2025", Decimal("12.5")),
            "targets": (Measurement("2029", Decimal("40")),),
        }
        parent = outcomes[number % len(outcomes)]
        adds.append(
            AddNode(NodeKind.KPI, f"Indicator {number}", f"kpi-{number}", parent, values=values)
        )
    return adds


async def grow(plans: PlanService) -> int:
    roots = [AddNode(NodeKind.PRIORITY, f"Priority {p}", id=p) for p in priorities()]
    await plans.create_plan(
        CreatePlan(PLAN_ID, "Baku", 2026, 2029, Authority.WTDC, "bench", changes=roots)
    )
    adds, version = _kpis(), 1
    for start in range(0, len(adds), 1_000):
        chunk = adds[start : start + 1_000]
        await plans.amend_plan(AmendPlan(PLAN_ID, version, Authority.TDAG, "bench", chunk))
        version += 1
    rng = random.Random(14)
    while version < VERSIONS:
        renamed = UpdateNode(f"kpi-{rng.randrange(KPIS)}", {"title": f"Soaked {version}"})
        await plans.amend_plan(AmendPlan(PLAN_ID, version, Authority.TDAG, "bench", [renamed]))
        version += 1
    return version


def _reader(engine: Any, bound: int = 0) -> PlanService:
    made = service(engine)  # the defaults of whichever tree this process imported
    if bound:
        made.versions = type(made.versions)(made.versions.capacity, bound)
    return made


async def _cold(reader: PlanService, picks: list[int]) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    for version in picks:
        assert await reader.plan(PLAN_ID, version=version) is not None
    return time.perf_counter() - started, time.process_time() - cpu


async def _hits(reader: PlanService, picks: list[int]) -> float:
    """µs of CPU per read of a version held (those of `picks` the cache still holds)."""
    held = [v for v in picks if reader.versions.peek((PLAN_ID, v)) is not None]
    cpu = time.process_time()
    for _ in range(10):
        for version in held:
            await reader.plan(PLAN_ID, version=version)
    return (time.process_time() - cpu) / max(1, 10 * len(held)) * 1e6


async def measure(schema: str, latest: int, bound: int = 0) -> dict[str, float]:
    """One tree's figures, in this process (its planapi is whichever is imported)."""
    engine = create_engine(URL, connect_args={"server_settings": {"search_path": schema}})
    picks = random.Random(7).choices(range(1, latest + 1), k=READS)
    try:
        warm = _reader(engine, bound)
        await warm.plan(PLAN_ID, version=latest)  # the store's statements and connections
        reader = _reader(engine, bound)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            await _cold(reader, picks)
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        counted = getattr(reader.versions, "bytes", float("nan"))
        reader = _reader(engine, bound)
        wall, cpu = await _cold(reader, picks)
        hits, misses = reader.versions.hits, reader.versions.misses
        return {
            "held MB": held / 1e6,
            "counted MB": counted / 1e6,
            "versions held": len(reader.versions),
            "reads/s": READS / wall,
            "ms a read": wall / READS * 1e3,
            "ms CPU a read": cpu / READS * 1e3,
            "hit rate %": 100 * hits / max(1, hits + misses),
            "µs CPU a hit": await _hits(reader, picks[-HITS:]),
        }
    finally:
        await engine.dispose()


def _in_process(src: str, schema: str, latest: int, bound: int = 0) -> dict[str, float]:
    call = f"measure({schema!r}, {latest}, {bound})"
    found: dict[str, float] = measured_apart(src, "bench.version_cache", call)
    return found


def _print(rounds: dict[str, list[dict[str, float]]]) -> None:
    trees = [tree for tree in rounds if rounds[tree]]
    print(f"\n{READS:,} random versions of {VERSIONS:,} read cold, then {HITS} re-read; median:")
    print(f"  {'':<16}" + "".join(f"{tree:>22}" for tree in trees))
    for name in rounds[trees[-1]][0]:
        cells = []
        for tree in trees:
            each = [found[name] for found in rounds[tree]]
            cells.append(f"{statistics.median(each):10.2f} ({'/'.join(f'{e:.1f}' for e in each)})")
        print(f"  {name:<16}" + "".join(f"{cell:>22}" for cell in cells))


async def main() -> None:
    print(
        f"load average {os.getloadavg()[0]:.2f}; PlanService signature: "
        f"{'cache_bytes' in inspect.signature(PlanService).parameters}"
    )
    async with scratch_schema() as (engine, schema):
        latest = await grow(_reader(engine))
        runs = [("base", BASE_SRC, 0)] if BASE_SRC else []
        runs += [
            (f"this {b / 2**20:.0f} MiB" if b else "this", str(ROOT / "src"), b) for b in BOUNDS
        ]
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in runs}
        for _ in range(AB_ROUNDS):  # interleaved: the machine's load drifts alike for each
            for name, src, bound in runs:
                found = await asyncio.to_thread(_in_process, src, schema, latest, bound)
                rounds[name].append(found)
        _print(rounds)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
