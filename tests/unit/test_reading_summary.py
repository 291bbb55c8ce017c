"""A plan's summary of current readings keeps the rollups it counted for a bounded number of
(version, expected period) pairs: a client scanning versions or periods holds no more."""

from __future__ import annotations

from planapi.application.reading_summary import ROLLUPS_KEPT, PlanReadings
from planapi.domain.events import NodeAdded, PlanCreated
from planapi.domain.nodes import Node, NodeKind
from planapi.domain.periods import parse_period
from planapi.domain.plan import PlanState, fold


def _plan() -> PlanState:
    priority = Node(id="p1", kind=NodeKind.PRIORITY, title="P", code="1")
    outcome = Node(id="o1", kind=NodeKind.OUTCOME, title="O", code="1.1", parent_id="p1")
    kpis = [
        Node(id=f"k{i}", kind=NodeKind.KPI, title=f"K{i}", code=f"1.1.{i}", parent_id="o1")
        for i in range(3)
    ]
    added = tuple(NodeAdded(node, 0) for node in (priority, outcome, *kpis))
    return fold([PlanCreated("p", "Plan", 2026, 2029, None, added)])


def test_rollups_are_kept_for_a_bounded_number_of_periods_and_stay_right() -> None:
    plan = _plan()
    summary = PlanReadings(0, {}, None)
    months = [parse_period(f"{2020 + i // 12}-{i % 12 + 1:02d}") for i in range(3 * ROLLUPS_KEPT)]
    first = {node: summary.rollup(plan, node, months[0]) for node in (None, "p1", "o1", "k0")}
    for month in months:
        summary.rollup(plan, "o1", month)

    assert len(summary._rollups) == ROLLUPS_KEPT
    again = {node: summary.rollup(plan, node, months[0]) for node in (None, "p1", "o1", "k0")}
    assert again == first
    assert first[None].kpis == first["p1"].kpis == first["o1"].kpis == 3
    assert first[None].without_data == 3
    assert first["k0"].kpis == 0, "no KPI under a KPI"
