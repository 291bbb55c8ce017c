"""Reading an arbitrary past version of a plan with 100,000 amendments, on PostgreSQL: cold
(nearest snapshot + fold), cached, and — the baseline — a full replay from version 1."""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time

from bench.common import p50_ms, row, scratch_schema, service, timings
from planapi.application.plans import AmendPlan, CreatePlan, stream_of
from planapi.domain.changes import AddNode, UpdateNode
from planapi.domain.events import Authority
from planapi.domain.nodes import NodeKind
from planapi.domain.plan import fold

AMENDMENTS = int(os.environ.get("BENCH_AMENDMENTS", "100000"))
SAMPLES = 50


async def build(plans: object, count: int) -> None:
    from planapi.application.plans import PlanService

    assert isinstance(plans, PlanService)
    await plans.create_plan(
        CreatePlan(
            "bench",
            "Bench",
            2026,
            2029,
            Authority.WTDC,
            "bench",
            changes=[AddNode(NodeKind.PRIORITY, f"P{i}", id=f"p{i}") for i in range(5)],
        )
    )
    outcomes: list[str] = []
    rng = random.Random(11)
    for version in range(1, count):
        parent = f"p{version % 5}"
        change: AddNode | UpdateNode
        if version % 100 == 0 or not outcomes:
            outcomes.append(f"o{version}")
            change = AddNode(
                NodeKind.OUTCOME, f"Outcome {version}", id=outcomes[-1], parent_id=parent
            )
        elif version % 2:
            change = UpdateNode(rng.choice(outcomes), {"title": f"Outcome, take {version}"})
        else:
            change = UpdateNode(parent, {"title": f"Priority, take {version}"})
        await plans.amend_plan(AmendPlan("bench", version, Authority.TDAG, "bench", [change]))


async def main() -> None:
    print(f"Reading a past version (PostgreSQL, plan with {AMENDMENTS:,} amendments)")
    async with scratch_schema() as (engine, _):
        writer = service(engine)
        start = time.perf_counter()
        await build(writer, AMENDMENTS)
        built = time.perf_counter() - start
        row("building it through amend_plan", f"{AMENDMENTS / built:,.0f} amendments/s")
        versions = random.Random(7).sample(range(1, AMENDMENTS + 1), SAMPLES)

        cold: list[float] = []
        for version in versions:
            reader = service(engine)  # empty cache: snapshot + fold every time
            start = time.perf_counter()
            await reader.plan("bench", version)
            cold.append(time.perf_counter() - start)
        warm_reader = service(engine)
        await warm_reader.plan("bench", versions[0])
        warm = await timings(lambda: warm_reader.plan("bench", versions[0]), 1_000)

        async def replay() -> None:
            records = await writer.events.read(stream_of("bench"), 0, versions[0])
            fold(record.event for record in records)

        full = await timings(replay, 3)
        latest = await warm_reader.plan("bench")
        assert latest is not None
        nodes = len(latest.state.nodes)
        # History and blame of nodes edited about as often as a real outcome (tens of times).
        picks = random.Random(3).sample([n for n in latest.state.nodes if n.startswith("o")], 50)
        history, blame, touched = [], [], []
        for node_id in picks:
            start = time.perf_counter()
            entries = await warm_reader.history("bench", node_id, latest.state.version)
            history.append(time.perf_counter() - start)
            start = time.perf_counter()
            await warm_reader.blame("bench", latest.state.nodes[node_id], latest.state.version)
            blame.append(time.perf_counter() - start)
            touched.append(len(entries))
    row("full replay from version 1 (baseline)", f"{p50_ms(full):,.1f} ms p50")
    row(
        "cold: nearest snapshot + fold",
        f"{p50_ms(cold):,.2f} ms p50",
        f"{p50_ms(full) / p50_ms(cold):,.0f}x faster than replay",
        "target <= 20 ms: " + ("met" if p50_ms(cold) <= 20 else "NOT met"),
    )
    row(
        "cached (immutable version, in memory)",
        f"{p50_ms(warm) * 1000:,.1f} us p50",
        "",
        "target <= 1 ms: " + ("met" if p50_ms(warm) <= 1 else "NOT met"),
    )
    row("nodes in the latest version", f"{nodes:,}")
    row(
        f"node history (median {statistics.median(touched):.0f} amendments touched it)",
        f"{p50_ms(history):,.2f} ms p50",
        f"{p50_ms(full) / p50_ms(history):,.0f}x faster than replay",
        "target <= 20 ms: " + ("met" if p50_ms(history) <= 20 else "NOT met"),
    )
    row(
        "node blame",
        f"{p50_ms(blame):,.2f} ms p50",
        "",
        "target <= 20 ms: " + ("met" if p50_ms(blame) <= 20 else "NOT met"),
    )


if __name__ == "__main__":
    asyncio.run(main())
