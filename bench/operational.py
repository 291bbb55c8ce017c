"""The operational dashboard, cold, in-process on PostgreSQL: one GraphQL query for an
operational plan of 500 activities over 4 years (budget by priority and by source, and the
implementation figures per priority and output) beside an action plan of 1,000 KPIs. Every
sample uses new services (no cached version, no cached answer: the response cache is an HTTP
layer this bypasses). Baseline, same run: the plain tree read of both plans, cold too."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from bench.common import p50_ms, row, scratch_schema, service
from planapi.adapters.clock import SystemClock
from planapi.adapters.execution_store import SqlExecutionStore
from planapi.adapters.readings_store import SqlReadingStore
from planapi.api.schema import build_schema
from planapi.api.types.context import Context
from planapi.application.access import system
from planapi.application.execution import ExecutionService
from planapi.application.plans import AmendPlan, CreatePlan, PlanService
from planapi.application.readings import ReadingService
from planapi.domain.activity_values import ActivityStatus, BudgetLine, FundingSource
from planapi.domain.changes import AddNode
from planapi.domain.events import Authority
from planapi.domain.execution import ExecutionKind, ExecutionRecord
from planapi.domain.nodes import NodeKind, Region
from planapi.domain.plan_kinds import PlanKind

ACTIVITIES = 500
KPIS = 1_000
SAMPLES = 30
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


async def _sample(engine: object, schema: object, query: str) -> float:
    clock = SystemClock()
    plans = service(engine)  # type: ignore[arg-type]  # new: nothing cached
    context = Context(
        plans=plans,
        readings=ReadingService(SqlReadingStore(engine, clock), plans),  # type: ignore[arg-type]
        execution=ExecutionService(SqlExecutionStore(engine, clock), plans),  # type: ignore[arg-type]
        principal=system("bench"),
    )
    start = time.perf_counter()
    result = await schema.execute(query, context_value=context)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - start
    assert not result.errors, result.errors
    return elapsed


async def main() -> None:
    print(
        f"Operational dashboard, cold (PostgreSQL, {ACTIVITIES} activities x 4 years, "
        f"{KPIS:,} KPIs)"
    )
    async with scratch_schema() as (engine, _):
        plans = service(engine)
        await build(plans, ExecutionService(SqlExecutionStore(engine, SystemClock()), plans))
        schema = build_schema()
        for query in (DASHBOARD, TREE):  # warm the parser and validation caches, not the data
            await _sample(engine, schema, query)
        dashboard, tree = [], []
        for _ in range(SAMPLES):
            dashboard.append(await _sample(engine, schema, DASHBOARD))
            tree.append(await _sample(engine, schema, TREE))
    row("plain tree read of both plans, cold (baseline)", f"{p50_ms(tree):,.2f} ms p50")
    row(
        "dashboard: budget x2 + implementation, cold",
        f"{p50_ms(dashboard):,.2f} ms p50",
        f"{p50_ms(dashboard) / p50_ms(tree):,.2f}x the tree read",
        "target <= 20 ms: " + ("met" if p50_ms(dashboard) <= 20 else "NOT met"),
    )
