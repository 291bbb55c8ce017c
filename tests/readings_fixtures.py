"""Builders shared by the readings tests: one small plan with KPIs of every measure, readings as
integrations send them, and stored readings as the store hands them back.

The same plan exists three ways: as domain nodes (unit tests), as a `CreatePlan` command (the
storage contract) and as a `createPlan` GraphQL input (end to end).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from planapi.application.plans import CreatePlan
from planapi.domain.changes import AddNode
from planapi.domain.events import Authority
from planapi.domain.nodes import Dimension, Direction, Measure, Measurement, Node, NodeKind
from planapi.domain.periods import PeriodType
from planapi.domain.readings import (
    NewReading,
    Reading,
    ReadingSource,
    ReadingStatus,
    series_key,
)

PLAN_ID = "readings-2026"
T0 = dt.datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=dt.UTC)

FINAL = ReadingStatus.FINAL
PROVISIONAL = ReadingStatus.PROVISIONAL

# kpi-1: share of individuals online, yearly, by sex and region; rises from 60 (2025) to 80.
INTERNET_USE: dict[str, object] = {
    "code": "1.1.1",
    "unit": "%",
    "measure": Measure.PERCENTAGE,
    "direction": Direction.INCREASE,
    "baseline": Measurement("2025", Decimal("60")),
    "targets": (Measurement("2027", Decimal("70")), Measurement("2029", Decimal("80"))),
    "dimensions": (
        Dimension("sex", ("female", "male")),
        Dimension("region", ("Africa", "Europe")),
    ),
    "period_types": (PeriodType.YEAR,),
}
# kpi-2: mobile broadband price as a share of income, quarterly; should fall to 2.
PRICE: dict[str, object] = {
    "code": "1.1.2",
    "unit": "% of GNI per capita",
    "measure": Measure.RATIO,
    "direction": Direction.DECREASE,
    "baseline": Measurement("2025", Decimal("5")),
    "targets": (Measurement("2029", Decimal("2")),),
    "period_types": (PeriodType.QUARTER, PeriodType.YEAR),
}
# kpi-3: a narrative KPI, any period.
POLICY: dict[str, object] = {"code": "1.1.3", "measure": Measure.QUALITATIVE}
# kpi-4: people trained, any period type: room for thousands of distinct periods.
TRAINED: dict[str, object] = {"code": "1.1.4", "unit": "people", "measure": Measure.UNIT}

KPIS = {
    "kpi-1": ("Individuals using the Internet", INTERNET_USE),
    "kpi-2": ("Mobile broadband price", PRICE),
    "kpi-3": ("National broadband policy", POLICY),
    "kpi-4": ("People trained", TRAINED),
}


def kpi(node_id: str = "kpi-1") -> Node:
    """A KPI node as the plan holds it, for the domain's own tests."""
    title, values = KPIS[node_id]
    return Node(id=node_id, kind=NodeKind.KPI, title=title, parent_id="o1", **values)  # type: ignore[arg-type]


def kpi_map() -> dict[str, Node | None]:
    return {node_id: kpi(node_id) for node_id in KPIS}


def create_plan_command(plan_id: str = PLAN_ID, period_end: int = 2029) -> CreatePlan:
    """`period_end`: a later year for tests that record thousands of distinct monthly periods of
    one KPI, which a plan's years must hold (readings outside them are refused)."""
    return CreatePlan(
        plan_id=plan_id,
        title="Connectivity results",
        period_start=2026,
        period_end=period_end,
        authority=Authority.WTDC,
        rationale="Adopted by WTDC-25",
        effective_from=dt.date(2026, 1, 1),
        changes=(
            AddNode(NodeKind.PRIORITY, "Affordable connectivity", id="p1", values={"code": "1"}),
            AddNode(NodeKind.OUTCOME, "More people online", id="o1", parent_id="p1"),
            *(
                AddNode(NodeKind.KPI, title, id=node_id, parent_id="o1", values=values)
                for node_id, (title, values) in KPIS.items()
            ),
        ),
    )


def reading(
    period: str,
    value: str | Decimal | None = None,
    *,
    kpi_id: str = "kpi-1",
    status: ReadingStatus = FINAL,
    source: tuple[str, str | None] | None = None,
    **fields: Any,
) -> NewReading:
    """A reading as an integration sends it; `value` as text so its scale is the one written."""
    return NewReading(
        kpi_id=kpi_id,
        period=period,
        status=status,
        value=Decimal(value) if isinstance(value, str) else value,
        source=ReadingSource(*source) if source else None,
        **fields,
    )


def stored(
    id: int,
    period: str,
    value: str = "1",
    *,
    series: tuple[tuple[str, str], ...] = (),
    recorded_at: dt.datetime | None = None,
    kpi_id: str = "kpi-1",
) -> Reading:
    """A reading as the store returns it; by default recorded `id` seconds after T0."""
    return Reading(
        id=id,
        batch_id=id,
        plan_id=PLAN_ID,
        kpi_id=kpi_id,
        period=period,
        series=series_key(series),
        status=FINAL,
        value=Decimal(value),
        text=None,
        numerator=None,
        denominator=None,
        source=None,
        note=None,
        recorded_at=recorded_at or T0 + dt.timedelta(seconds=id),
    )


# -- GraphQL ---------------------------------------------------------------------------------
def _period_value(measurement: object) -> dict[str, str]:
    assert isinstance(measurement, Measurement)
    return {"period": measurement.period, "value": str(measurement.value)}


def _add_kpi_input(node_id: str, title: str, values: dict[str, object]) -> dict[str, Any]:
    given: dict[str, Any] = {"kind": "KPI", "id": node_id, "parentId": "o1", "title": title}
    for name, value in values.items():
        if name == "baseline":
            given["baseline"] = _period_value(value)
        elif name == "targets":
            given["targets"] = [_period_value(t) for t in value]  # type: ignore[attr-defined]
        elif name == "dimensions":
            given["dimensions"] = [
                {"name": d.name, "values": list(d.values)}
                for d in value  # type: ignore[attr-defined]
            ]
        elif name == "period_types":
            given["periodTypes"] = [p.value for p in value]  # type: ignore[attr-defined]
        else:
            given[name] = value.value if hasattr(value, "value") else value
    return {"addNode": given}


def create_plan_input(plan_id: str = PLAN_ID, period_end: int = 2029) -> dict[str, Any]:
    """The same plan as `create_plan_command`, as a front-end would send `createPlan`."""
    return {
        "id": plan_id,
        "title": "Connectivity results",
        "periodStart": 2026,
        "periodEnd": period_end,
        "authority": "WTDC",
        "rationale": "Adopted by WTDC-25",
        "effectiveFrom": "2026-01-01",
        "changes": [
            {"addNode": {"kind": "PRIORITY", "id": "p1", "title": "Affordable connectivity"}},
            {"addNode": {"kind": "OUTCOME", "id": "o1", "parentId": "p1", "title": "More online"}},
            *(_add_kpi_input(node_id, title, values) for node_id, (title, values) in KPIS.items()),
        ],
    }
