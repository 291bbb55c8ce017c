"""What every resolver can reach: the use cases, the caller, and per-request loaders."""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from planapi.application.access import Principal
from planapi.application.execution import ExecutionService, Implementation, implementation_of
from planapi.application.feed import EventFeed
from planapi.application.live import LiveUpdates
from planapi.application.operational import implementing
from planapi.application.plans import PlanService
from planapi.application.proposals import ProposalService
from planapi.application.reading_summary import PlanReadings
from planapi.application.readings import ReadingService
from planapi.application.search import SearchService
from planapi.application.transparency import Transparency
from planapi.domain.execution import ActivityExecution
from planapi.domain.ledger import Ledger
from planapi.domain.nodes import NodeKind
from planapi.domain.plan import PlanState
from planapi.domain.readings import ReadingQuery, ReadingVersion

T = TypeVar("T")

# Set by the HTTP middleware; read by logging and error masking.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

ReadingKey = tuple[str, str, ReadingQuery]  # (plan id, KPI id, what is asked)
ExecutionKey = tuple[str, dt.datetime | None]  # (plan id, asOf)
# (plan id, version, year, asOf): implementation figures computed once a request.
FiguresKey = tuple[str, int, int | None, dt.datetime | None]


@dataclass
class Context:
    plans: PlanService
    readings: ReadingService
    actor: str | None = None
    request_id: str = "-"
    # The event feed and live updates (subscriptions); None where a caller needs neither.
    feed: EventFeed | None = None
    live: LiveUpdates | None = None
    transparency: Transparency | None = None  # the Merkle logs (api/types/log_fields.py)
    execution: ExecutionService | None = None  # execution records of operational plans
    proposals: ProposalService | None = None  # amendments drafted and reviewed (issue 17)
    search: SearchService | None = None  # Query.search (api/types/search.py)
    # The caller, set per request from the access middleware (docs/security.md); None: nobody,
    # refused everything. `actor` is its name wherever it writes.
    principal: Principal | None = None
    # Subscriptions outlive their request: do the credentials still hold? None: nothing to ask.
    still_valid: Callable[[], Awaitable[bool]] | None = None
    # The graphql-transport-ws `connection_init` payload (strawberry sets it); may carry a token.
    connection_params: dict[str, object] | None = None
    # Per plan, the summary of current readings this request reads (one catch-up each).
    _current: dict[str, asyncio.Future[PlanReadings]] = field(init=False)
    # Implementation figures of an operational plan version, once a request: the plan's and
    # every priority's and outcome's progressSummary and Plan.implementation share them.
    _figures: dict[FiguresKey, asyncio.Future[Implementation]] = field(init=False)
    # An operational plan version's activities made ready for budget figures, once a request:
    # Plan.budget of each basis and the implementation figures share them.
    _ledgers: dict[tuple[str, int], Ledger] = field(init=False)
    # Latest versions the query's root read, for `latest_loader` if the request makes one.
    _latest_read: dict[str, PlanState] = field(init=False)

    def __post_init__(self) -> None:
        self._current = {}
        self._figures = {}
        self._ledgers = {}
        self._latest_read = {}

    def for_operation(self) -> Context:
        """This context for one operation of a WebSocket connection: the same services and
        caller, none of the memos. strawberry makes one context per connection and runs every
        operation on it, so the memos, meant to last one request, would outlive it: a budget
        asked on a connection after the action plan moved on was priced against the version
        an earlier operation had read (`PlanSchema.stream`)."""
        return replace(self)

    def read_latest(self, plan_id: str, state: PlanState) -> None:
        """The root read `plan_id`'s latest version: an operational plan's figures beside it
        in the same query need not ask the store again. A plain dict until a loader is made:
        most requests make none, and making one cost every plan read a few microseconds."""
        self._latest_read[plan_id] = state
        if "latest_loader" in self.__dict__:
            self.latest_loader.prime(plan_id, state)

    # The loaders are made when a request first asks (most ask none: a plan's tree reads
    # memory), then kept for the rest of it. Their functions hold the services they read, never
    # this context: a context holding loaders that hold it is a reference cycle, which kept
    # every request's context and loaders until the collector ran (docs/performance.md, "The
    # soak").
    @cached_property
    def reading_loader(self) -> DataLoader[ReadingKey, list[ReadingVersion]]:
        """One loader per request, so every KPI of a tree asking the same question shares one
        query."""
        return DataLoader(load_fn=partial(_load_readings, self.readings))

    @cached_property
    def implementing_loader(self) -> DataLoader[str, list[PlanState]]:
        """Action plan id → the operational plans implementing it (latest versions), once a
        request."""
        return DataLoader(load_fn=partial(_load_implementing, self.plans))

    @cached_property
    def latest_loader(self) -> DataLoader[str, PlanState | None]:
        """Plan id → its latest version, once a request (an operational plan's action plan,
        read by the budget and the implementation figures side by side)."""
        loader: DataLoader[str, PlanState | None] = DataLoader(
            load_fn=partial(_load_latest, self.plans)
        )
        for plan_id, state in self._latest_read.items():
            loader.prime(plan_id, state)
        return loader

    @cached_property
    def execution_loader(self) -> DataLoader[ExecutionKey, dict[str, ActivityExecution]]:
        """(plan id, asOf) → what its execution records say, once a request (every activity
        asks)."""
        return DataLoader(load_fn=partial(_load_execution, self.execution))

    def ledger(self, state: PlanState) -> Ledger:
        """`state`'s activities (an operational plan's version) ready for budget figures, made
        once this request."""
        key = (state.id, state.version)
        found = self._ledgers.get(key)
        if found is None:
            found = self._ledgers[key] = Ledger(state.children_of(None, NodeKind.ACTIVITY))
        return found

    async def implementation(
        self, state: PlanState, year: int | None, as_of: dt.datetime | None = None
    ) -> Implementation:
        """`state`'s figures (an operational plan's version), computed once this request."""
        key = (state.id, state.version, year, as_of)
        found = self._figures.get(key)
        if found is None:
            found = self._figures[key] = asyncio.ensure_future(self._figured(state, year, as_of))
        elif found.done() and not found.cancelled():
            return found.result()  # every summary after the first: no shield to wrap it in
        return await asyncio.shield(found)

    def implementation_now(self, state: PlanState, year: int | None) -> Implementation | None:
        """`implementation(state, year)` without an await, when what it reads is read already
        (`preload_figures`): computed now if need be; None when a read is still to be made."""
        key = (state.id, state.version, year, None)
        found = self._figures.get(key)
        if found is not None:
            return _result(found)
        seen = _result(self.execution_loader.cache_map.get((state.id, None)))
        if seen is None:
            return None
        action = None
        if state.implements:
            held = self.latest_loader.cache_map.get(state.implements)
            if held is None or not _ok(held):
                return None
            action = held.result()
        done = asyncio.get_running_loop().create_future()
        done.set_result(implementation_of(state, action, seen, year, self.ledger(state)))
        self._figures[key] = done
        return done.result()  # type: ignore[no-any-return]

    def implementing_now(self, plan_id: str) -> list[PlanState] | None:
        """What `implementing_loader` has already loaded for `plan_id`, if it has."""
        return _result(self.implementing_loader.cache_map.get(plan_id))

    async def preload_figures(self, state: PlanState, operational: bool) -> None:
        """The reads `state`'s implementation figures need (the operational plans counted:
        itself, or those implementing it; each one's execution records and action plan), made
        before its tree resolves: then every progressSummary's figures answer at once."""
        plans = [state] if operational else await self.implementing_loader.load(state.id)
        loads: list[Awaitable[object]] = []
        for each in plans:
            loads.append(self.execution_loader.load((each.id, None)))
            if each.implements:
                loads.append(self.latest_loader.load(each.implements))
        await asyncio.gather(*loads)

    async def _figured(
        self, state: PlanState, year: int | None, as_of: dt.datetime | None
    ) -> Implementation:
        # Both loads asked before either is awaited: the two reads overlap.
        seen = self.execution_loader.load((state.id, as_of))
        action = await self.latest_loader.load(state.implements) if state.implements else None
        return implementation_of(state, action, await seen, year, self.ledger(state))

    async def current_readings(self, plan_id: str) -> PlanReadings | None:
        """The plan's current readings of the total, caught up once for this request, or None
        where the service keeps none (then ask `reading_loader`)."""
        service = self.readings.current
        if service is None:
            return None
        found = self._current.get(plan_id)
        if found is None:
            found = self._current[plan_id] = asyncio.ensure_future(service.plan(plan_id))
        return await asyncio.shield(found)

    def current_readings_now(self, plan_id: str) -> PlanReadings | None:
        """The summary `current_readings` has already caught up for this request, if any: what
        lets thousands of KPI fields answer without an await each."""
        found = self._current.get(plan_id)
        if found is None or not found.done() or found.cancelled() or found.exception():
            return None
        return found.result()


def _ok(found: asyncio.Future[Any]) -> bool:
    return found.done() and not found.cancelled() and found.exception() is None


def _result(found: asyncio.Future[T] | None) -> T | None:
    """A future's result when it has one, else None (not done, failed: the field awaits it)."""
    return found.result() if found is not None and _ok(found) else None


async def _load_readings(
    readings: ReadingService, keys: list[ReadingKey]
) -> list[list[ReadingVersion]]:
    groups: defaultdict[tuple[str, ReadingQuery], list[str]] = defaultdict(list)
    for plan_id, kpi_id, query in keys:
        groups[plan_id, query].append(kpi_id)
    found: dict[ReadingKey, list[ReadingVersion]] = {}
    for (plan_id, query), kpi_ids in groups.items():
        per_kpi = await readings.readings(plan_id, kpi_ids, query)
        found.update({(plan_id, kpi_id, query): per_kpi[kpi_id] for kpi_id in kpi_ids})
    return [found[key] for key in keys]


async def _load_execution(
    execution: ExecutionService | None, keys: list[ExecutionKey]
) -> list[dict[str, ActivityExecution]]:
    assert execution is not None, "execution records need the database"
    return [await execution.execution(plan_id, as_of) for plan_id, as_of in keys]


async def _load_implementing(plans: PlanService, plan_ids: list[str]) -> list[list[PlanState]]:
    return await implementing(plans.plans, plan_ids)


async def _load_latest(plans: PlanService, plan_ids: list[str]) -> list[PlanState | None]:
    found = [await plans.plan(plan_id) for plan_id in plan_ids]
    return [each.state if each else None for each in found]
