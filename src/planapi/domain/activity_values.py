"""The values an activity of an operational plan carries: status, milestones, budget lines and
allocation shares. Amounts are Swiss francs as exact decimals, never floats."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal


class ActivityStatus(enum.Enum):
    PLANNED = "PLANNED"
    ONGOING = "ONGOING"
    COMPLETED = "COMPLETED"
    POSTPONED = "POSTPONED"
    CANCELLED = "CANCELLED"


# What an amendment may set; ONGOING and COMPLETED are facts of execution, recorded by the
# integrations that observe them.
AMENDABLE_STATUSES = frozenset(
    {ActivityStatus.PLANNED, ActivityStatus.POSTPONED, ActivityStatus.CANCELLED}
)


class FundingSource(enum.Enum):
    REGULAR_BUDGET = "REGULAR_BUDGET"
    EXTRA_BUDGETARY = "EXTRA_BUDGETARY"
    ICT_DEVELOPMENT_FUND = "ICT_DEVELOPMENT_FUND"
    IN_KIND = "IN_KIND"


class AllocationBasis(enum.Enum):
    """What a budget is broken down by."""

    PRIORITY = "PRIORITY"
    OUTPUT = "OUTPUT"
    SOURCE = "SOURCE"
    REGION = "REGION"


@dataclass(frozen=True, slots=True)
class Milestone:
    key: str
    title: str
    due: dt.date


@dataclass(frozen=True, slots=True)
class BudgetLine:
    year: int
    source: FundingSource
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Share:
    """An explicit weight for one priority, output or region (its id or name) among those an
    activity serves; its budget is split in proportion, and one without a weight weighs 1."""

    key: str
    weight: Decimal
