"""A proposal's preview and diff (what `Proposal.preview` and `Proposal.diff` compute, cold: no
merge cached) for a 200-change proposal on a plan of 1,000 KPIs — on the version it was drafted
against, and rebased onto a version that moved meanwhile. Baseline, same run: the same 200
changes decided as a direct amendment and diffed (what amendPlan and planDiff do), the floor a
preview cannot go below. Target: ≤ 20 ms."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

from bench.common import row
from planapi.domain.changes import AddNode, Change, UpdateNode
from planapi.domain.decide import decide_amendment, decide_creation
from planapi.domain.diff import diff
from planapi.domain.events import AmendmentInfo, Authority
from planapi.domain.merge import merge
from planapi.domain.nodes import Measurement, NodeKind
from planapi.domain.plan import PlanState, fold

INFO = AmendmentInfo("bench", Authority.TDAG, "bench")
RUNS = 30
TARGET_MS = 20.0


def plan_of_1000_kpis() -> PlanState:
    """10 priorities, 10 outcomes each, 10 KPIs each (an amendment holds at most 1,000 changes)."""
    skeleton: list[Change] = []
    kpis: list[Change] = []
    for p in range(10):
        skeleton.append(
            AddNode(NodeKind.PRIORITY, f"Priority {p}", f"p{p}", values={"code": f"{p}"})
        )
        for o in range(10):
            outcome = f"o{p}-{o}"
            skeleton.append(AddNode(NodeKind.OUTCOME, f"Outcome {p}.{o}", outcome, f"p{p}"))
            for k in range(10):
                values = {"code": f"{p}.{o}.{k}", "unit": "%", "targets": (target("2027", k),)}
                kpis.append(
                    AddNode(
                        NodeKind.KPI, f"KPI {p}.{o}.{k}", f"k{p}-{o}-{k}", outcome, values=values
                    )
                )
    created = fold([decide_creation(INFO, "bench", "Bench", 2026, 2029, None, skeleton)])
    return fold([decide_amendment(created, INFO, kpis)], created)


def target(period: str, value: int) -> Measurement:
    return Measurement(period, Decimal(value))


def proposal() -> list[Change]:
    """200 changes: retitled KPIs, new targets, and some new KPIs."""
    out: list[Change] = []
    for i in range(150):
        p, o, k = i % 10, (i // 10) % 10, i // 100
        out.append(
            UpdateNode(
                f"k{p}-{o}-{k}", {"title": f"Revised KPI {i}", "targets": (target("2029", i),)}
            )
        )
    for i in range(50):
        out.append(AddNode(NodeKind.KPI, f"New KPI {i}", f"new-{i}", f"o{i % 10}-9"))
    return out


def cold_ms(action: Callable[[], object]) -> tuple[float, float]:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


async def main() -> None:
    load = ", ".join(f"{figure:.1f}" for figure in os.getloadavg())
    print(f"A proposal's preview and diff (200 changes, 1,000-KPI plan, cold; load {load})")
    base = plan_of_1000_kpis()
    changes = proposal()
    # The plan moved meanwhile: another amendment on nodes the proposal leaves alone.
    moved = fold([decide_amendment(base, INFO, [UpdateNode("p9", {"title": "Moved on"})])], base)

    def direct() -> None:
        after = fold([decide_amendment(base, INFO, changes)], base)
        diff(base, after)

    def preview(current: PlanState) -> Callable[[], None]:
        def run() -> None:
            merged = merge(base, current, changes, INFO)
            assert merged.state is not None, merged.conflicts
            diff(current, merged.state)

        return run

    floor, _ = cold_ms(direct)
    same, same_max = cold_ms(preview(base))
    rebased, rebased_max = cold_ms(preview(moved))
    baseline = f"direct amend+diff {floor:.1f} ms"
    for name, p50, worst in (
        ("preview + diff, on its base", same, same_max),
        ("preview + diff, rebased (three-way merge)", rebased, rebased_max),
    ):
        verdict = "ok" if p50 <= TARGET_MS else f"over {TARGET_MS:.0f} ms"
        row(name, f"p50 {p50:.1f} ms (max {worst:.1f})", baseline, verdict)
