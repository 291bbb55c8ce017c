"""Execution of operational plans: record what integrations observed (all of a request or
none, idempotent by each record's key), and read it back as of an instant, with the
implementation figures dashboards show: activities completed against planned, budget executed
against planned, per activity, output, priority and year."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from planapi.application.access import ANY, Scope, check_reading_scope
from planapi.application.plans import PlanService
from planapi.application.ports import ExecutionStore
from planapi.domain.activity_values import AllocationBasis
from planapi.domain.errors import PlanNotFoundError, Problem, ValidationError
from planapi.domain.execution import (
    ActivityExecution,
    ExecutionIntegrity,
    ExecutionRecord,
    StoredExecution,
    fold_facts,
    record_problems,
)
from planapi.domain.implementation import Figures, Tallied
from planapi.domain.ledger import Ledger, Served
from planapi.domain.nodes import NodeKind
from planapi.domain.plan import PlanState
from planapi.domain.plan_kinds import PlanKind

MAX_RECORDS = 10_000


@dataclass(frozen=True, slots=True)
class Recorded:
    stored: list[StoredExecution]
    duplicates: int


class Implementation:
    """A plan's figures: overall, and per activity, output, and priority and outcome of the
    action plan it implements — each worked out when first read (a dashboard reads some, not
    all), then kept with it: a request reads them all from one `Implementation`."""

    def __init__(self, tallied: Tallied, action: PlanState | None) -> None:
        self._tallied = tallied
        self._action = action
        self.total: Figures = tallied.total

    @cached_property
    def activities(self) -> dict[str, Figures]:
        return self._tallied.activities()

    @property
    def outputs(self) -> dict[str | None, Figures]:
        return self._tallied.by(AllocationBasis.OUTPUT, Served(None))

    @property
    def priorities(self) -> dict[str | None, Figures]:
        return self._tallied.by(AllocationBasis.PRIORITY, Served(self._action))

    @property
    def outcomes(self) -> dict[str | None, Figures]:
        """Per outcome of the action plan: the activities naming it among those they serve,
        each counted whole, its money split among the outcomes it names (explicit shares by
        outcome id, else equally); what names no outcome is under None."""
        return self._tallied.by(AllocationBasis.PRIORITY, Served(self._action, outcomes=True))


class ExecutionService:
    def __init__(self, store: ExecutionStore, plans: PlanService) -> None:
        self.store = store
        self.plans = plans

    async def record(
        self,
        plan_id: str,
        records: Sequence[ExecutionRecord],
        actor: str | None = None,
        scope: Scope = ANY,
    ) -> Recorded:
        who = actor or self.plans.default_actor
        check_reading_scope(scope, who, plan_id, [])
        found = await self.plans.plan(plan_id)
        if found is None:
            raise PlanNotFoundError(plan_id)
        problems = _problems(found.state, records)
        if problems:
            raise ValidationError(problems)
        stored, duplicates = await self.store.append(plan_id, who, records)
        return Recorded(stored, duplicates)

    async def execution(
        self, plan_id: str, as_of: dt.datetime | None = None
    ) -> dict[str, ActivityExecution]:
        """Activity id → what its records say, as recorded by `as_of` (now when None)."""
        return fold_facts(await self.store.facts(plan_id, as_of))

    async def implementation(
        self,
        state: PlanState,
        action: PlanState | None,
        year: int | None,
        as_of: dt.datetime | None = None,
    ) -> Implementation:
        """The figures of an operational plan's version `state` (`action`: the action plan it
        implements, for the priorities its outcomes belong to), with execution as recorded by
        `as_of`."""
        return implementation_of(state, action, await self.execution(state.id, as_of), year)

    async def verify(self, plan_id: str) -> ExecutionIntegrity:
        return await self.store.verify(plan_id)


def implementation_of(
    state: PlanState,
    action: PlanState | None,
    seen: dict[str, ActivityExecution],
    year: int | None,
    ledger: Ledger | None = None,
) -> Implementation:
    """The figures of `state`'s activities given what execution recorded (`seen`); `ledger`:
    its activities as the request made them ready (`Ledger`), if it did."""
    ready = ledger or Ledger(state.children_of(None, NodeKind.ACTIVITY))
    return Implementation(Tallied(ready, seen, year), action)


def _problems(state: PlanState, records: Sequence[ExecutionRecord]) -> list[Problem]:
    if state.plan_kind is not PlanKind.OPERATIONAL_PLAN:
        return [Problem(("plan_id",), "execution is recorded for an OPERATIONAL_PLAN")]
    if not 1 <= len(records) <= MAX_RECORDS:
        return [Problem(("records",), f"give 1 to {MAX_RECORDS:,} records")]
    problems: list[Problem] = []
    for index, record in enumerate(records):
        problems += record_problems(state, record, ("records", index))
    return problems
