"""Plans as tables for spreadsheets: an operational plan as a sheet per year (its activities
with their budget lines) and a sheet of KPIs; an action plan's KPI framework; a KPI's
readings. Plain rows of cells here; the API writes them as XLSX or CSV."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from planapi.domain.activity_values import ActivityStatus
from planapi.domain.nodes import Node, NodeKind
from planapi.domain.plan import PlanState
from planapi.domain.plan_kinds import PlanKind
from planapi.domain.readings import ReadingVersion

Cell = str | int | Decimal | None


@dataclass(frozen=True, slots=True)
class Sheet:
    name: str
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)


_ACTIVITY_HEADER = (
    "Activity id",
    "Code",
    "Title",
    "Status",
    "Responsible unit",
    "Start",
    "End",
    "Outputs",
    "Serves",
    "Regions",
    "Countries",
    "Funding source",
    "Amount (CHF)",
)
_KPI_HEADER = (
    "KPI id",
    "Code",
    "Title",
    "Under",
    "Unit",
    "Measure",
    "Direction",
    "Baseline period",
    "Baseline",
    "Targets",
)


def plan_sheets(state: PlanState) -> list[Sheet]:
    """An operational plan: a sheet per year of its period, then its KPIs; an action plan: its
    KPI framework."""
    if state.plan_kind is PlanKind.ACTION_PLAN:
        return [kpi_sheet(state, "KPI framework")]
    activities = state.children_of(None, NodeKind.ACTIVITY)
    years = [
        _year_sheet(year, activities) for year in range(state.period_start, state.period_end + 1)
    ]
    return [*years, kpi_sheet(state, "KPIs")]


def _year_sheet(year: int, activities: Iterable[Node]) -> Sheet:
    sheet = Sheet(str(year), _ACTIVITY_HEADER)
    for node in activities:
        lines = sorted((b for b in node.budget if b.year == year), key=lambda b: b.source.value)
        for line in lines:
            sheet.rows.append((*_activity_cells(node), line.source.value, line.amount))
    return sheet


def _activity_cells(node: Node) -> tuple[Cell, ...]:
    return (
        node.id,
        node.code,
        node.title,
        (node.status or ActivityStatus.PLANNED).value,
        node.responsible_unit,
        node.start.isoformat() if node.start else None,
        node.end.isoformat() if node.end else None,
        ", ".join(node.output_ids),
        ", ".join(node.serves_ids),
        ", ".join(region.value for region in node.regions),
        ", ".join(node.countries),
    )


def kpi_sheet(state: PlanState, name: str) -> Sheet:
    sheet = Sheet(name, _KPI_HEADER)
    for kpi in state.of_kind(NodeKind.KPI):
        parent = state.node(kpi.parent_id) if kpi.parent_id else None
        sheet.rows.append(
            (
                kpi.id,
                kpi.code,
                kpi.title,
                parent.id if parent else None,
                kpi.unit,
                kpi.measure.value if kpi.measure else None,
                kpi.direction.value if kpi.direction else None,
                kpi.baseline.period if kpi.baseline else None,
                kpi.baseline.value if kpi.baseline else None,
                "; ".join(f"{t.period}: {t.value}" for t in kpi.targets),
            )
        )
    return sheet


_READING_HEADER = (
    "Reading id",
    "Period",
    "Series",
    "Status",
    "Value",
    "Text",
    "Numerator",
    "Denominator",
    "Source",
    "Note",
    "Recorded at",
    "Superseded by",
)


def readings_sheet(kpi: Node, readings: Iterable[ReadingVersion]) -> Sheet:
    sheet = Sheet(f"Readings {kpi.code or kpi.id}"[:31], _READING_HEADER)
    for version in readings:
        r = version.reading
        sheet.rows.append(
            (
                r.id,
                r.period,
                r.series,
                r.status.value,
                r.value,
                r.text,
                r.numerator,
                r.denominator,
                r.source.integration if r.source else None,
                r.note,
                r.recorded_at.isoformat(),
                version.superseded_by.id if version.superseded_by else None,
            )
        )
    return sheet
