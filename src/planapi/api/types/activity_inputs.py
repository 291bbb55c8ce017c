"""The inputs an activity's fields take in `addNode` and `updateNode`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from planapi.api.types import scalars  # noqa: F401  (registers the domain enums)
from planapi.domain.activity_values import BudgetLine, FundingSource, Milestone, Share


@strawberry.input(description="A milestone of an activity; `key` is stable within it.")
class MilestoneInput:
    key: str
    title: str
    due: dt.date

    def value(self) -> Milestone:
        return Milestone(self.key, self.title, self.due)


@strawberry.input(description="CHF for one year and funding source, to the centime.")
class BudgetLineInput:
    year: int
    source: FundingSource
    amount: Decimal

    def value(self) -> BudgetLine:
        return BudgetLine(self.year, self.source, self.amount)


@strawberry.input(
    description="A weight for one output, priority (node id) or region (its name) the activity "
    "serves: its budget is split among them in proportion; one without a weight weighs 1."
)
class ShareInput:
    key: str
    weight: Decimal

    def value(self) -> Share:
        return Share(self.key, self.weight)
