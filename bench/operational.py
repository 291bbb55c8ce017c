"""The operational dashboard, cold, in-process on PostgreSQL: one GraphQL query for an
operational plan of 500 activities over 4 years (budget by priority and by source, and the
implementation figures per priority and output) beside an action plan of 1,000 KPIs; and the
dashboard rollup (`progressSummary(year:)` of both plans, each priority and outcome: KPI counts
and implementation figures). Every sample uses new services (no cached version, no cached
answer: the response cache is an HTTP layer this bypasses). Each query twice, in the same
rounds: with the sealed snapshots as deployed (a key shared by every service, as a key file is
by every process; the build's two large changes wrote one each), and without (no key: folded
from the events). Baseline, same run: the plain tree read of both plans, cold and folded from
the events. The collector is frozen after the warm-up and set to the served thresholds, as the
served process does after start-up (`BENCH_GC=default`: Python's thresholds).

`BENCH_BASE_SRC=/path/to/other/src` also runs the tree and both dashboards with that tree's
planapi, on the same data, in `BENCH_ROUNDS` rounds alternating with this tree's (one process
each, both reading the snapshots as deployed, each first writing the stored ones again in the
format it writes; `BENCH_BASE_SNAPSHOTS=0`: the base folds from the events, for a base older
than snapshot format 2): the before/after of a change."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from bench.common import URL, p50_ms, row, scratch_schema, service
from planapi.adapters.clock import SystemClock
from planapi.adapters.current_readings import SqlTotalSeries
from planapi.adapters.database import create_engine
from planapi.adapters.execution_store import SqlExecutionStore
from planapi.adapters.readings_store import SqlReadingStore
from planapi.api.schema import build_schema
from planapi.api.types.context import Context
from planapi.application.access import system
from planapi.application.execution import ExecutionService
from planapi.application.plans import AmendPlan, CreatePlan, PlanService
from planapi.application.reading_summary import CurrentReadings
from planapi.application.readings import ReadingService
from planapi.domain.activity_values import ActivityStatus, BudgetLine, FundingSource
from planapi.domain.changes import AddNode
from planapi.domain.events import Authority
from planapi.domain.execution import ExecutionKind, ExecutionRecord
from planapi.domain.nodes import NodeKind, Region
from planapi.domain.plan_kinds import PlanKind
from planapi.entrypoints.asgi import GC_THRESHOLDS

ROOT = Path(__file__).resolve().parents[1]
ACTIVITIES = 500
KPIS = 1_000
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "30"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
BASE_SNAP = os.environ.get("BENCH_BASE_SNAPSHOTS", "1") == "1"
GC = os.environ.get("BENCH_GC", "served")
FIGURES = "planned completed implementationRate budgetPlanned budgetExecuted"
DASHBOARD = f"""
query {{
  plan(id: "ops") {{
    byPriority: budget(by: PRIORITY, year: 2027) {{ total items {{ key amount }} }}
    bySource: budget(by: SOURCE) {{ total items {{ key amount }} }}
    implementation(year: 2027) {{
      total {{ {FIGURES} }}
      priorities {{ key figures {{ {FIGURES} }} }}
      outputs {{ key figures {{ {FIGURES} }} }}
    }}
  }}
}}
"""
# The dashboard rollup of issue 16: KPI counts and implementation figures of both plans, per
# priority and outcome too, in one query.
ROLLUP_LABEL = "rollup: progressSummary, plans + priorities + outcomes"
SUMMARY = (
    f"progressSummary(year: 2027) {{ kpis onTrack withoutData implementation {{ {FIGURES} }} }}"
)
ROLLUP = f"""
query {{
  ops: plan(id: "ops") {{ {SUMMARY} }}
  action: plan(id: "action") {{
    {SUMMARY}
    priorities {{ nodeId {SUMMARY} outcomes {{ nodeId {SUMMARY} }} }}
  }}
}}
"""
TREE = """
query {
  action: plan(id: "action") { priorities { nodeId outcomes { nodeId kpis { nodeId title } } } }
  ops: plan(id: "ops") { activities { nodeId title } }
}
"""


async def build(plans: PlanService, execution: ExecutionService) -> None:
    priorities = [AddNode(NodeKind.PRIORITY, f"P{p}", id=f"p{p}") for p in range(5)]
    outcomes = [
        AddNode(NodeKind.OUTCOME, f"O{o}", id=f"o{o}", parent_id=f"p{o % 5}") for o in range(25)
    ]
    outputs = [AddNode(NodeKind.OUTPUT, f"Output {i}", id=f"out{i}") for i in range(6)]
    await plans.create_plan(
        CreatePlan(
            "action",
            "Action",
            2026,
            2029,
            Authority.WTDC,
            "bench",
            changes=[*priorities, *outcomes, *outputs],
        )
    )
    kpis = [AddNode(NodeKind.KPI, f"K{k}", id=f"k{k}", parent_id=f"o{k % 25}") for k in range(KPIS)]
    await plans.amend_plan(AmendPlan("action", 1, Authority.TDAG, "bench", kpis))
    await plans.create_plan(
        CreatePlan(
            "ops",
            "Operational",
            2027,
            2030,
            Authority.BDT,
            "bench",
            changes=[_activity(i) for i in range(ACTIVITIES)],
            plan_kind=PlanKind.OPERATIONAL_PLAN,
            implements="action",
        )
    )
    records = []
    for i in range(0, ACTIVITIES, 2):
        when = dt.date(2027, 11, 1)
        records.append(
            ExecutionRecord(f"s{i}", f"a{i}", ExecutionKind.STATUS, when, ActivityStatus.COMPLETED)
        )
        records.append(
            ExecutionRecord(
                f"e{i}",
                f"a{i}",
                ExecutionKind.EXPENDITURE,
                when,
                year=2027,
                source=FundingSource.REGULAR_BUDGET,
                amount=Decimal("900.00"),
            )
        )
    await execution.record("ops", records)


def _activity(i: int) -> AddNode:
    budget = tuple(
        BudgetLine(year, source, Decimal(1000 + i) + Decimal("0.25"))
        for year in range(2027, 2031)
        for source in (FundingSource.REGULAR_BUDGET, FundingSource.EXTRA_BUDGETARY)
    )
    values: dict[str, object] = {
        "output_ids": (f"out{i % 6}", f"out{(i + 1) % 6}"),
        "serves_ids": (f"p{i % 5}", f"o{i % 25}"),
        "regions": (tuple(Region)[i % 6],),
        "start": dt.date(2027, 1, 1),
        "end": dt.date(2030, 12, 31),
        "budget": budget,
    }
    return AddNode(NodeKind.ACTIVITY, f"Activity {i}", id=f"a{i}", values=values)


async def _sample(engine: object, schema: object, query: str, snapshots: bool) -> float:
    clock = SystemClock()
    plans = service(engine, snapshots=snapshots)  # type: ignore[arg-type]  # new: nothing cached
    context = Context(
        plans=plans,
        readings=ReadingService(
            SqlReadingStore(engine, clock),  # type: ignore[arg-type]
            plans,
            current=CurrentReadings(SqlTotalSeries(engine)),  # type: ignore[arg-type]
        ),
        execution=ExecutionService(SqlExecutionStore(engine, clock), plans),  # type: ignore[arg-type]
        principal=system("bench"),
    )
    start, cpu = time.perf_counter(), time.process_time()
    result = await schema.execute(query, context_value=context)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - start
    assert not result.errors, result.errors
    _CPU.append(time.process_time() - cpu)
    return elapsed


# This process's CPU time of each sample, beside its wall time: on the shared machine the wall
# time swings with the load; the CPU time much less (the server's share is not in it).
_CPU: list[float] = []


# (name, query, read from the snapshots as deployed?)
Case = tuple[str, str, bool]


async def _round(engine: object, cases: list[Case], samples: int) -> dict[str, float]:
    """p50 (ms) of each case, cold, their samples interleaved."""
    schema = build_schema()
    for _, query, snapshots in cases:  # warm the parser and validation caches, not the data
        await _sample(engine, schema, query, snapshots)
    # As the served process does after start-up (entrypoints/asgi.py): what is built by now
    # lives on, and full collections during a cold fold should not re-scan it; and it collects
    # with the served thresholds (BENCH_GC=default: Python's, as this bench did before).
    gc.freeze()
    if GC == "served":
        gc.set_threshold(*GC_THRESHOLDS)
    found: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(samples):
        for name, query, snapshots in cases:
            found[name].append(await _sample(engine, schema, query, snapshots))
            cpu[name].append(_CPU[-1])
    return {
        **{name: p50_ms(each) for name, each in found.items()},
        **{f"{name} cpu": p50_ms(each) for name, each in cpu.items()},
    }


def _cases(snapshots: bool) -> list[Case]:
    suffix = "" if snapshots else " (events)"
    return [
        (f"tree{suffix}", TREE, snapshots),
        (f"dashboard{suffix}", DASHBOARD, snapshots),
        (f"rollup{suffix}", ROLLUP, snapshots),
    ]


async def child(schema: str) -> None:
    """`python -m bench.operational <schema>`: one round in this process (whichever planapi
    is first on its path), its p50s printed as JSON. `BENCH_SNAPSHOTS=0`: without snapshots."""
    snapshots = os.environ.get("BENCH_SNAPSHOTS", "1") == "1"
    engine = create_engine(URL, connect_args={"server_settings": {"search_path": schema}})
    cases = [(name, query, snapshots) for name, query, _ in _cases(True)]
    try:
        if snapshots:
            await _reseal(engine)
        print(json.dumps(await _round(engine, cases, SAMPLES)))
    finally:
        await engine.dispose()


async def _reseal(engine: object) -> None:
    """The stored snapshots written again by this process's planapi, in the format it writes:
    a tree that does not read the other's format would fold from the events instead. A snapshot
    is a cache of its version, so replacing it changes no answer."""
    folded, keyed = service(engine, snapshots=False), service(engine)  # type: ignore[arg-type]
    for plan in ("action", "ops"):
        for version in await keyed.snapshots.versions(f"plan:{plan}"):
            found = await folded.require(plan, version)
            await keyed.snapshots.save(f"plan:{plan}", found.state, found.amendment.hash)


def _in_process(src: str, schema: str, snapshots: bool) -> dict[str, float]:
    env = {
        **os.environ,
        "PYTHONPATH": f"{src}{os.pathsep}{ROOT}",
        "BENCH_SNAPSHOTS": "1" if snapshots else "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.operational", schema],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


async def main() -> None:
    print(
        f"Operational dashboard, cold (PostgreSQL, {ACTIVITIES} activities x 4 years, "
        f"{KPIS:,} KPIs)"
    )
    base = os.environ.get("BENCH_BASE_SRC")
    async with scratch_schema() as (engine, schema):
        plans = service(engine)  # with snapshots, as deployed: its writes save them
        await build(plans, ExecutionService(SqlExecutionStore(engine, SystemClock()), plans))
        stored = (
            await plans.snapshots.versions("plan:action"),
            await plans.snapshots.versions("plan:ops"),
        )
        here = await _round(engine, _cases(True) + _cases(False), SAMPLES)
        if base:
            this = str(ROOT / "src")
            rounds: dict[str, list[dict[str, float]]] = {"base": [], "this": []}
            for _ in range(ROUNDS):  # interleaved: the load drifts alike for both
                rounds["base"].append(await asyncio.to_thread(_in_process, base, schema, BASE_SNAP))
                rounds["this"].append(await asyncio.to_thread(_in_process, this, schema, True))
    print(f"  snapshots stored: action plan at versions {stored[0]}, operational plan {stored[1]}")
    _report(here, rounds if base else None)


def _report(here: dict[str, float], rounds: dict[str, list[dict[str, float]]] | None) -> None:
    tree = here["tree (events)"]
    print("  (p50 wall time; in brackets this process's CPU time, p50)")
    for key, label in (
        ("tree (events)", "tree read of both plans, folded from events (baseline)"),
        ("tree", "tree read of both plans, from snapshots"),
    ):
        row(label, f"{here[key]:,.2f} ms ({here[key + ' cpu']:,.1f})")
    labels = (("dashboard", "dashboard: budget x2 + implementation"), ("rollup", ROLLUP_LABEL))
    for name, label in labels:
        for key, how in ((f"{name} (events)", "from events"), (name, "from snapshots")):
            row(
                f"{label}, {how}",
                f"{here[key]:,.2f} ms ({here[key + ' cpu']:,.1f})",
                f"{here[key] / tree:,.2f}x the tree read",
                "target <= 20 ms: " + ("met" if here[key] <= 20 else "NOT met"),
            )
    if rounds:
        base = "with" if BASE_SNAP else "without"
        print(
            f"  A/B, {ROUNDS} interleaved rounds of {SAMPLES} samples, medians of their p50s "
            f"(base {base} snapshots, this tree with them; CPU in brackets):"
        )
        for name in ("tree", "dashboard", "rollup"):
            before, after = (
                statistics.median(r[name] for r in rounds[side]) for side in ("base", "this")
            )
            cpu = [statistics.median(r[f"{name} cpu"] for r in rounds[s]) for s in ("base", "this")]
            row(
                f"{name}: base -> this tree",
                f"{before:,.2f} -> {after:,.2f} ms",
                f"{after / before:.2f}x ({cpu[0]:,.1f} -> {cpu[1]:,.1f} ms CPU)",
                "target <= 20 ms: " + ("met" if after <= 20 else "NOT met")
                if name != "tree"
                else "",
            )
    print(
        f"  collector: thresholds {gc.get_threshold()} ({GC}); load average: "
        f"{os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(child(sys.argv[1]))
