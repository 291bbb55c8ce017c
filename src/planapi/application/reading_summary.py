"""Each plan's current readings of the total series, held in this process for dashboards.

A dashboard asks every KPI of a plan for its latest reading and its progress. Both read only the
current reading of each period of the total series (no disaggregation), so this process keeps
exactly that per plan (of each period its id and value; the whole reading only of the latest,
read by id): built once from the plan's total series, then caught up on every use with the
batches committed after the last one it applied — one statement returning the readings head
and those batches' rows, usually none. Batches are written one after another and become
visible in id order, so "after the last applied id, up to the head" never skips one; and the
head is read on every use, so an answer is never older than the heads the caller read before
(read-your-writes holds as for the query path). A correction is simply a later reading of the
same period: it replaces the one it supersedes.

Each catch-up that changes anything makes a new `PlanReadings` (copy on write, per KPI), so a
request holds one consistent snapshot however long it runs. Progress is computed once per KPI
state and KPI definition. Readings known at an earlier time (`asOf`), superseded readings and
disaggregated series are not here: those questions keep the query path.

Built in the background at start-up (`warm`: the plans that have readings, newest batch first),
not by the first dashboard read: a read that comes while its plan is being built waits for it
(the same lock as a catch-up) and then catches up from where the build left, so it is never
older than its heads. A build applies its readings, computes progress and reads the KPIs' latest
readings a slice at a time (each ~2 ms), yielding to the event loop between slices, so other
requests are not held up behind a large plan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from planapi.application.cache import LruCache
from planapi.application.ports import CurrentValue, TotalSeriesSource
from planapi.domain.nodes import Node, NodeKind
from planapi.domain.periods import Period, parse_period
from planapi.domain.plan import PlanState
from planapi.domain.progress import Observation, TargetProgress, assess
from planapi.domain.readings import Reading, ReadingVersion
from planapi.domain.rollups import KpiStanding, ProgressCounts, count, count_every, standing

log = logging.getLogger("planapi.readings")

# The KPIs of a plan's latest version, whose progress a warm-up computes ahead of the first read.
KpisOf = Callable[[str], Awaitable[Iterable[Node]]]

# Work done between two yields to the event loop while a summary is built, so a request that
# arrives meanwhile waits at most about a slice (docs/architecture.md, "Current readings for
# dashboards"): readings applied (about 2 ms on the 2-core machine, unloaded) ...
SLICE = 1_000
# ... and KPIs whose progress and standing are computed (each folds its ~48 periods: ~2 ms).
KPI_SLICE = 50
# ... and KPIs whose latest reading is read whole and decoded (~2 ms).
LATEST_SLICE = 250


@dataclass(slots=True)
class KpiReadings:
    """One KPI's current readings of the total, by period. Never changed once shared: new
    readings make a new one (without the progress computed from the old)."""

    periods: dict[str, CurrentValue]
    newest: CurrentValue | None = None  # the latest, in `latest`'s order
    latest: Reading | None = None  # the whole of `newest`, read by id once it is known
    _assessed: tuple[Node, list[TargetProgress]] | None = field(
        default=None, repr=False, compare=False
    )
    _standing: tuple[Node, KpiStanding] | None = field(default=None, repr=False, compare=False)

    def is_news(self, reading: CurrentValue) -> bool:
        """Whether `reading` is newer than what this KPI holds for its period."""
        held = self.periods.get(reading.period)
        return held is None or held.id < reading.id

    def take(self, reading: CurrentValue) -> None:
        """Only on a copy not yet shared (`PlanReadings.after` makes one per KPI it changes)."""
        if not self.is_news(reading):
            return
        self.periods[reading.period] = reading
        newest = self.newest
        if newest is None or _rank(reading) > _rank(newest):
            self.newest = reading

    def progress(self, kpi: Node) -> list[TargetProgress]:
        assessed = self._assessed
        if assessed is not None and (assessed[0] is kpi or assessed[0] == kpi):
            return assessed[1]
        observations = [
            Observation(parse_period(r.period), r.value)
            for r in self.periods.values()
            if r.value is not None
        ]
        found = assess(kpi, observations)
        self._assessed = (kpi, found)
        return found

    def standing(self, kpi: Node) -> KpiStanding:
        newest = self.newest
        if newest is None:
            # Without data whatever its targets: nothing to assess. Every KPI without readings
            # shares one empty summary, whose memo below would hold only the last of them.
            return _WITHOUT_DATA
        held = self._standing
        if held is not None and (held[0] is kpi or held[0] == kpi):
            return held[1]
        found = KpiStanding(
            standing(self.progress(kpi), has_data=True), parse_period(newest.period)
        )
        self._standing = (kpi, found)
        return found


# (plan, version, expected period) rollups a summary keeps: a dashboard's few, and room for
# several clients each reading another version or period.
ROLLUPS_KEPT = 64
_EMPTY = KpiReadings({})
_WITHOUT_DATA = KpiStanding(standing([], has_data=False), None)


def _rank(reading: CurrentValue) -> tuple[object, int]:
    """`latest`'s order: the most recent period, then the most recent reading."""
    return parse_period(reading.period).end, reading.id


@dataclass(frozen=True, slots=True)
class PlanReadings:
    """A plan's current readings of the total as of batch `applied`."""

    applied: int
    kpis: Mapping[str, KpiReadings]
    reported: Period | None  # the latest period any KPI has a reading for
    # Rollups asked of this snapshot, by plan, version and expected period, then node: a
    # dashboard read again before the next batch counts nothing again. The least recently
    # asked go beyond ROLLUPS_KEPT, so a client scanning versions or periods holds no more.
    _rollups: OrderedDict[tuple[str, int, Period | None], dict[str | None, ProgressCounts]] = field(
        default_factory=OrderedDict, compare=False, repr=False
    )

    def latest(self, kpi_id: str) -> ReadingVersion | None:
        found = self.kpis.get(kpi_id, _EMPTY).latest
        return ReadingVersion(found, None) if found is not None else None

    def progress(self, kpi: Node) -> list[TargetProgress]:
        return self.kpis.get(kpi.id, _EMPTY).progress(kpi)

    def standing(self, kpi: Node) -> KpiStanding:
        return self.kpis.get(kpi.id, _EMPTY).standing(kpi)

    def rollup(self, plan: PlanState, under: str | None, expected: Period | None) -> ProgressCounts:
        """The KPIs under node `under` (None: the whole plan) of this version, counted;
        `expected` defaults to the latest period reported. The first asked of a version counts
        under every node in one walk: a dashboard asks the plan's, each priority's and each
        outcome's, which one by one walked each KPI once per level."""
        counted = self._counted(plan, expected)
        found = counted.get(under)
        if found is None:  # no KPI under `under`
            kpis = (node for node in plan.walk(under) if node.kind is NodeKind.KPI)
            found = count((self.standing(kpi) for kpi in kpis), expected or self.reported)
            counted[under] = found
        return found

    def _counted(
        self, plan: PlanState, expected: Period | None
    ) -> dict[str | None, ProgressCounts]:
        key = (plan.id, plan.version, expected)
        kept = self._rollups.get(key)
        if kept is not None:
            self._rollups.move_to_end(key)
            return kept
        nodes = plan.nodes
        kpis = (
            (node.parent_id, self.standing(node))
            for node in plan.walk()
            if node.kind is NodeKind.KPI
        )
        every = count_every(
            kpis, lambda node_id: nodes[node_id].parent_id, expected or self.reported
        )
        counted = dict(every)
        counted.setdefault(None, count((), expected or self.reported))  # a plan without KPIs
        self._rollups[key] = counted
        if len(self._rollups) > ROLLUPS_KEPT:
            self._rollups.popitem(last=False)
        return counted

    def after(
        self, head: int, readings: Iterable[CurrentValue]
    ) -> tuple[PlanReadings, list[KpiReadings]]:
        """This summary with `readings` (in recording order) applied, as of batch `head`, and
        the KPIs it changed (whose `latest` the caller reads before sharing them)."""
        changed: dict[str, KpiReadings] = {}
        reported = self.reported
        for reading in readings:
            held = changed.get(reading.kpi_id)
            if held is None:
                shared = self.kpis.get(reading.kpi_id, _EMPTY)
                if not shared.is_news(reading):
                    continue
                held = changed[reading.kpi_id] = KpiReadings(
                    dict(shared.periods), shared.newest, shared.latest
                )
            held.take(reading)
            period = parse_period(reading.period)
            if reported is None or (period.end, period.start) > (reported.end, reported.start):
                reported = period
        if not changed:
            if head <= self.applied:
                return self, []
            return PlanReadings(head, self.kpis, reported, self._rollups), []
        kpis = {**self.kpis, **changed}
        return PlanReadings(max(head, self.applied), kpis, reported), list(changed.values())


class CurrentReadings:
    """The summaries of the plans read lately (`capacity` of them), each caught up on use."""

    def __init__(self, source: TotalSeriesSource, capacity: int = 32) -> None:
        self.source = source
        self.capacity = capacity
        self.catch_ups = 0
        self._plans: LruCache[str, PlanReadings] = LruCache(capacity)
        self._locks: dict[str, asyncio.Lock] = {}
        self._warming: asyncio.Task[None] | None = None

    async def plan(self, plan_id: str) -> PlanReadings:
        """The plan's summary, caught up to a head read now. A caller never shares a catch-up
        that started before it asked (it could miss a batch the caller saw committed): it
        waits for the running one, then reads again — usually nothing, from where that left."""
        lock = self._locks.setdefault(plan_id, asyncio.Lock())
        async with lock:
            held = self._plans.get(plan_id) or PlanReadings(0, {}, None)
            head, found = await self.source.total_series(plan_id, held.applied)
            self.catch_ups += 1
            current, changed = await _apply(held, head, found)
            await self._read_latest(changed)
            self._plans.put(plan_id, current)
            return current

    def held(self, plan_id: str) -> bool:
        """Whether the plan's summary is built (a read then only catches up)."""
        return self._plans.peek(plan_id) is not None

    def warm(self, plan_ids: Sequence[str], kpis: KpisOf | None = None) -> asyncio.Task[None]:
        """Build the summaries of `plan_ids` (the most wanted first; as many as are kept) in
        the background, one after another, with the progress and standing of each KPI `kpis`
        gives (the latest version's); the task is cancelled by `close`."""
        wanted = list(plan_ids)[: self.capacity]
        self._warming = asyncio.create_task(self._warm(wanted, kpis), name="planapi-summaries")
        return self._warming

    async def _warm(self, plan_ids: list[str], kpis: KpisOf | None) -> None:
        for plan_id in plan_ids:
            try:
                summary = await self.plan(plan_id)
                for index, kpi in enumerate(await kpis(plan_id) if kpis else ()):
                    if index % KPI_SLICE == 0:
                        await asyncio.sleep(0)
                    summary.standing(kpi)
            except Exception as error:  # the database is away: the first read builds it
                log.warning("building the summary of %s failed (%r)", plan_id, error)

    async def close(self) -> None:
        warming, self._warming = self._warming, None
        if warming is not None:
            warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warming

    async def _read_latest(self, changed: list[KpiReadings]) -> None:
        """The whole reading of each changed KPI's newest (one statement): every other
        period keeps only what progress reads."""
        stale = {
            kpi.newest.id: kpi
            for kpi in changed
            if kpi.newest is not None and (kpi.latest is None or kpi.latest.id != kpi.newest.id)
        }
        ids = list(stale)
        for start in range(0, len(ids), LATEST_SLICE):
            # A catch-up changes a few KPIs (one statement); a build, every KPI: read and
            # decoded a slice at a time, each statement's wait serving the loop.
            for reading in await self.source.readings(ids[start : start + LATEST_SLICE]):
                stale[reading.id].latest = reading


async def _apply(
    held: PlanReadings, head: int, found: list[CurrentValue]
) -> tuple[PlanReadings, list[KpiReadings]]:
    """`held.after(head, found)`, a slice at a time with the event loop served between
    slices; the summary is complete (as of `head`) only after the last."""
    if len(found) <= SLICE:
        return held.after(head, found)
    current = held
    for start in range(0, len(found), SLICE):
        await asyncio.sleep(0)
        last = start + SLICE >= len(found)
        current, _ = current.after(head if last else current.applied, found[start : start + SLICE])
    changed = [kpi for kpi_id, kpi in current.kpis.items() if held.kpis.get(kpi_id) is not kpi]
    return current, changed
