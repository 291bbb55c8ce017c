"""Small builders shared by the storage contract suite: events, commands, a clock, raw rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from planapi.adapters.tables import events
from planapi.application.plans import AmendPlan, CreatePlan
from planapi.domain.changes import (
    AddNode,
    Change,
    LinkNodes,
    MoveNode,
    RemoveNode,
    UnlinkNodes,
    UpdateNode,
)
from planapi.domain.events import (
    AmendmentInfo,
    Authority,
    NodeAdded,
    NodesLinked,
    PlanAmended,
    PlanCreated,
)
from planapi.domain.links import Link, LinkRelation
from planapi.domain.nodes import (
    Dimension,
    Direction,
    Measure,
    Measurement,
    Node,
    NodeKind,
    Reference,
    ReferenceVocabulary,
    Region,
)

T0 = dt.datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=dt.UTC)


class FakeClock:
    """A clock the test moves by hand, forwards or backwards."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.instant = start

    def now(self) -> dt.datetime:
        return self.instant

    def set(self, instant: dt.datetime) -> dt.datetime:
        self.instant = instant
        return instant

    def advance(self, **delta: float) -> dt.datetime:
        self.instant += dt.timedelta(**delta)
        return self.instant


# -- events, written straight to the store -------------------------------------------------
def info(actor: str = "alice", rationale: str = "TDAG decision 3") -> AmendmentInfo:
    return AmendmentInfo(
        actor=actor,
        authority=Authority.TDAG,
        rationale=rationale,
        reference="TDAG-26/3",
        effective_from=dt.date(2026, 1, 1),
    )


def created(plan_id: str = "baku-2026") -> PlanCreated:
    return PlanCreated(plan_id, f"Action plan {plan_id}", 2026, 2029, None, ())


def amended(number: int) -> PlanAmended:
    section = Node(id=f"section-{number}", kind=NodeKind.SECTION, title=f"Section {number}")
    return PlanAmended((NodeAdded(section, 0),))


async def append_versions(store: Any, stream_id: str, count: int) -> list[Any]:
    """Versions 1..count of one stream: a creation, then amendments."""
    recorded = [await store.append(stream_id, 0, created(), info())]
    for version in range(2, count + 1):
        recorded.append(await store.append(stream_id, version - 1, amended(version), info()))
    return recorded


def rich_created() -> PlanCreated:
    """A creation using every kind of field value the codec has to carry."""
    kpi = Node(
        id="kpi-1",
        kind=NodeKind.KPI,
        title="Share of individuals using the Internet",
        parent_id="outcome-1",
        code="1.1.1",
        unit="%",
        measure=Measure.PERCENTAGE,
        direction=Direction.INCREASE,
        baseline=Measurement("2025", Decimal("67.4")),
        targets=(Measurement("2027", Decimal("72.25")), Measurement("2029", Decimal("80"))),
        dimensions=(Dimension("sex", ("female", "male")), Dimension("area", ("urban",))),
        references=(
            Reference(ReferenceVocabulary.SDG_INDICATOR, "17.8.1", "https://unstats.un.org/"),
            Reference(ReferenceVocabulary.WSIS_ACTION_LINE, "C2"),
        ),
    )
    initiative = Node(
        id="asp1",
        kind=NodeKind.REGIONAL_INITIATIVE,
        title="Meaningful connectivity — «Asia-Pacific» 🌏",
        code="ASP1",
        region=Region.ASIA_PACIFIC,
        objective="Connect the unconnected",
        expected_results=("Policies adopted", "Skills built"),
    )
    changes = (
        NodeAdded(Node(id="priority-1", kind=NodeKind.PRIORITY, title="Connectivity"), 0),
        NodeAdded(
            Node(id="outcome-1", kind=NodeKind.OUTCOME, title="More use", parent_id="priority-1"),
            0,
        ),
        NodeAdded(kpi, 0),
        NodeAdded(initiative, 1),
        NodesLinked(Link("asp1", "priority-1", LinkRelation.CONTRIBUTES_TO)),
    )
    return PlanCreated("rich", "Plan «rich»", 2026, 2029, "Described\nover lines", changes)


# -- commands, through PlanService ----------------------------------------------------------
def create_command(plan_id: str = "baku-2026", title: str = "Baku Action Plan") -> CreatePlan:
    return CreatePlan(
        plan_id=plan_id,
        title=title,
        period_start=2026,
        period_end=2029,
        authority=Authority.WTDC,
        rationale="Adopted by WTDC-25",
        effective_from=dt.date(2026, 1, 1),
        changes=(AddNode(NodeKind.SECTION, "Introduction", id="intro"),),
    )


def amend_command(plan_id: str, expected_version: int, changes: Sequence[Change]) -> AmendPlan:
    return AmendPlan(
        plan_id=plan_id,
        expected_version=expected_version,
        authority=Authority.TDAG,
        rationale="Agreed at TDAG",
        changes=tuple(changes),
    )


def twelve_amendments() -> list[list[Change]]:
    """Twelve amendments that touch every part of a plan's state: nodes of several kinds, KPI
    definitions, sibling order, moves, links, removals (retired ids) and plain edits."""
    kpi_values: dict[str, object] = {
        "code": "1.1.1",
        "unit": "%",
        "measure": Measure.PERCENTAGE,
        "direction": Direction.INCREASE,
        "baseline": Measurement("2025", Decimal("67.4")),
        "targets": (Measurement("2027", Decimal("72.5")),),
        "dimensions": (Dimension("sex", ("female", "male")),),
        "references": (Reference(ReferenceVocabulary.SDG_INDICATOR, "17.8.1"),),
    }
    return [
        [
            AddNode(NodeKind.PRIORITY, "Affordable connectivity", id="p1", values={"code": "1"}),
            AddNode(NodeKind.PRIORITY, "Digital transformation", id="p2", values={"code": "2"}),
        ],
        [
            AddNode(NodeKind.OUTCOME, "More people online", id="o1", parent_id="p1"),
            AddNode(NodeKind.KPI, "Internet use", id="k1", parent_id="o1", values=kpi_values),
        ],
        [
            AddNode(NodeKind.OUTPUT, "Model policies", id="out1"),
            LinkNodes("out1", "p1", LinkRelation.SERVES),
            LinkNodes("out1", "p2", LinkRelation.SERVES),
        ],
        [
            AddNode(NodeKind.SECTION, "Terminology", id="terms", position=0),
            AddNode(NodeKind.SECTION, "Definitions", id="defs", parent_id="intro"),
        ],
        # version 6, just above the first snapshot
        [RemoveNode("p2")],
        [MoveNode("defs", None, 1), UpdateNode("k1", {"targets": ()})],
        [
            AddNode(
                NodeKind.REGIONAL_INITIATIVE,
                "Asia-Pacific connectivity",
                id="asp1",
                values={"code": "ASP1", "region": Region.ASIA_PACIFIC},
            ),
            LinkNodes("asp1", "o1", LinkRelation.CONTRIBUTES_TO),
        ],
        [UpdateNode("p1", {"title": "Affordable, meaningful connectivity"})],
        [UnlinkNodes("out1", "p1", LinkRelation.SERVES)],
        [AddNode(NodeKind.ENABLER, "Efficiency", id="e1")],
        [UpdateNode("intro", {"description": "Why this plan exists"})],
        [RemoveNode("o1", cascade=True)],
    ]


async def build_history(service: Any, plan_id: str = "baku-2026") -> int:
    """Create a plan and amend it twelve times: versions 1..13. Returns the latest version."""
    await service.create_plan(create_command(plan_id))
    version = 1
    for changes in twelve_amendments():
        version = (await service.amend_plan(amend_command(plan_id, version, changes))).state.version
    return version


# -- raw rows and the guards around them --------------------------------------------------
async def raw_rows(engine: AsyncEngine, stream_id: str) -> list[dict[str, Any]]:
    query = select(events).where(events.c.stream_id == stream_id).order_by(events.c.version)
    async with engine.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(query)]


@asynccontextmanager
async def guards_lifted(
    engine: AsyncEngine, table: str = "events"
) -> AsyncIterator[AsyncConnection]:
    """One transaction in which the table's append-only triggers do not fire, as a tamperer
    with owner rights could arrange; the triggers are back, unchanged, when it commits."""
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            yield conn
            await conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
            return
        found = await conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = :table ORDER BY name"
            ),
            {"table": table},
        )
        triggers = [(row.name, row.sql) for row in found]
        assert triggers, f"{table} has its guards"
        if table == "events":
            assert [name for name, _ in triggers] == ["events_no_delete", "events_no_update"]
        for name, _ in triggers:
            await conn.execute(text(f"DROP TRIGGER {name}"))
        yield conn
        for _, sql in triggers:  # the very statements the migration ran
            await conn.execute(text(sql))
