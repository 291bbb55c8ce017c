"""An operational plan's activities as GraphQL types, read from its PlanState."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from planapi.api.types.execution import ActivityExecutionType, activity_execution
from planapi.api.types.kpi import Kpi
from planapi.api.types.nodes import PlanNode, node_type
from planapi.domain.activity_values import ActivityStatus, BudgetLine, FundingSource, Milestone
from planapi.domain.nodes import NodeKind, Region


@strawberry.type(name="Milestone", description="A step of an activity, due on a date.")
class MilestoneType:
    key: str
    title: str
    due: dt.date

    @classmethod
    def of(cls, milestone: Milestone) -> MilestoneType:
        return cls(key=milestone.key, title=milestone.title, due=milestone.due)


@strawberry.type(name="BudgetLine", description="CHF planned for one year and funding source.")
class BudgetLineType:
    year: int
    source: FundingSource
    amount: Decimal

    @classmethod
    def of(cls, line: BudgetLine) -> BudgetLineType:
        return cls(year=line.year, source=line.source, amount=line.amount)


@strawberry.type(name="AllocationShare")
class AllocationShare:
    key: str
    weight: Decimal


@node_type(NodeKind.ACTIVITY)
@strawberry.type(
    description="A unit of work of an operational plan: what it delivers and serves in the "
    "action plan it implements (by that plan's node ids), where, when, and with what budget."
)
class Activity(PlanNode):
    @strawberry.field(description="The action plan's outputs it delivers (node ids).")
    def output_ids(self) -> list[strawberry.ID]:
        return [strawberry.ID(each) for each in self.node.output_ids]

    @strawberry.field(description="The action plan's priorities and outcomes it serves.")
    def serves_ids(self) -> list[strawberry.ID]:
        return [strawberry.ID(each) for each in self.node.serves_ids]

    @strawberry.field(description="The action plan's regional initiatives it serves.")
    def initiative_ids(self) -> list[strawberry.ID]:
        return [strawberry.ID(each) for each in self.node.initiative_ids]

    @strawberry.field
    def responsible_unit(self) -> str | None:
        return self.node.responsible_unit

    @strawberry.field
    def regions(self) -> list[Region]:
        return list(self.node.regions)

    @strawberry.field(description="ISO 3166-1 alpha-3 codes.")
    def countries(self) -> list[str]:
        return list(self.node.countries)

    @strawberry.field
    def start(self) -> dt.date | None:
        return self.node.start

    @strawberry.field
    def end(self) -> dt.date | None:
        return self.node.end

    @strawberry.field(description="As planned by amendments (PLANNED when none was set).")
    def status(self) -> ActivityStatus:
        return self.node.status or ActivityStatus.PLANNED

    @strawberry.field
    def milestones(self) -> list[MilestoneType]:
        return [MilestoneType.of(each) for each in self.node.milestones]

    @strawberry.field(description="Budget lines, of one year if given.")
    def budget(self, year: int | None = None) -> list[BudgetLineType]:
        lines = self.node.budget
        return [BudgetLineType.of(line) for line in lines if year is None or line.year == year]

    @strawberry.field(description="Explicit allocation weights (others share equally).")
    def shares(self) -> list[AllocationShare]:
        return [AllocationShare(key=s.key, weight=s.weight) for s in self.node.shares]

    execution: ActivityExecutionType = strawberry.field(
        resolver=activity_execution,
        description="What execution records say of it, as recorded by `asOf` (now if omitted).",
    )

    @strawberry.field(description="Output KPIs measured on this activity.")
    def kpis(self) -> list[Kpi]:
        return self._children(NodeKind.KPI)  # type: ignore[return-value]
