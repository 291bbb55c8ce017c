"""An operational plan's activities in its document: what each delivers and serves in the action
plan (by that plan's node ids), where, when, its milestones and its budget lines in CHF."""

from __future__ import annotations

from typing import TYPE_CHECKING

from planapi.domain.activity_values import ActivityStatus
from planapi.domain.nodes import Node, NodeKind
from planapi.domain.plan import PlanState
from planapi.domain.plan_kinds import PlanKind

if TYPE_CHECKING:
    from planapi.application.document import _Writer


def chf(amount: object) -> str:
    """`120000.5` as `CHF 120,000.50`: exact, grouped, to the centime."""
    return f"CHF {amount:,.2f}"


def write_activities(writer: _Writer, nodes: list[Node], level: int) -> None:
    for node in nodes:
        writer.heading(
            level, f"Activity {node.code} {node.title}" if node.code else node.title, node
        )
        writer.text(node.description, node)
        for line in _facts(node):
            writer.item(line, 0, node)
        for milestone in node.milestones:
            writer.item(
                f"Milestone {milestone.key}, due {milestone.due}: {milestone.title}", 1, node
            )
        for budget in sorted(node.budget, key=lambda b: (b.year, b.source.value)):
            source = budget.source.value.replace("_", " ").lower()
            writer.item(f"Budget {budget.year}, {source}: {chf(budget.amount)}", 1, node)
        for kpi in writer.state.children_of(node.id, NodeKind.KPI):
            writer.kpi(kpi, level + 1)


def kind_line(state: PlanState) -> str | None:
    """The header line of an operational plan's documents; None for an action plan."""
    if state.plan_kind is not PlanKind.OPERATIONAL_PLAN:
        return None
    edition = f", edition {state.edition}" if state.edition else ", no edition approved yet"
    return f"Operational plan implementing {state.implements}{edition}"


def _facts(node: Node) -> list[str]:
    status = node.status or ActivityStatus.PLANNED
    facts = [f"Status: {status.value.lower()}"]
    named = (
        ("Delivers outputs", node.output_ids),
        ("Serves", node.serves_ids),
        ("Regional initiatives", node.initiative_ids),
        ("Regions", tuple(region.value for region in node.regions)),
        ("Countries", node.countries),
    )
    facts += [f"{name}: {', '.join(values)}" for name, values in named if values]
    if node.responsible_unit:
        facts.append(f"Responsible unit: {node.responsible_unit}")
    if node.start or node.end:
        facts.append(f"From {node.start or '…'} to {node.end or '…'}")
    return facts
