"""Integrity verdicts: re-read what is stored now, one run at a time, never a stale answer.

`PlanService.verify` re-computes a plan's hash chain, then checks what is stored beside the log
against it (`stored_findings`): every snapshot re-folded from the events, and the node index.
`IntegrityService` adds the readings and runs one verification at a time per process: a caller
shares a run only if that run had not started when the caller asked (it then reads the bytes
stored after the question), never an earlier verdict. Every long loop is paced
(`application.pacing`), so other requests keep being answered meanwhile.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from planapi.application.pacing import Pacer
from planapi.application.ports import (
    EventStore,
    Finding,
    IntegrityReport,
    ReadingsIntegrity,
    ReadingStore,
    Recorded,
    SnapshotStore,
)
from planapi.domain.plan import PlanState, fold

if TYPE_CHECKING:
    from planapi.application.plans import PlanService

T = TypeVar("T")
# Events read (and folded) at a time when re-folding snapshots.
_FOLD_CHUNK = 200
# Findings reported per plan at most: enough to act on, bounded whatever was tampered with.
MAX_FINDINGS = 100


async def stored_findings(
    events: EventStore, snapshots: SnapshotStore, stream_id: str
) -> tuple[Finding, ...]:
    """Snapshots and index entries that disagree with the (verified) events, by version."""
    found = await _snapshot_findings(events, snapshots, stream_id)
    found += await events.verify_index(stream_id)
    found.sort(key=lambda f: (f.version, f.kind, f.node_id or ""))
    return tuple(found[:MAX_FINDINGS])


async def _snapshot_findings(
    events: EventStore, snapshots: SnapshotStore, stream_id: str
) -> list[Finding]:
    versions = await snapshots.versions(stream_id)
    if not versions:
        return []
    wanted, last = set(versions), versions[-1]
    findings: list[Finding] = []
    state: PlanState | None = None
    after, pacer = 0, Pacer()
    while after < last:
        records = await events.read(stream_id, after, min(after + _FOLD_CHUNK, last))
        if not records:
            break
        segment: list[Recorded] = []
        for record in records:
            segment.append(record)
            if record.version not in wanted:
                continue
            state = fold((r.event for r in segment), state)
            segment = []
            problem = await snapshots.check(stream_id, state, record.hash)
            if problem is not None:
                findings.append(Finding("snapshot", record.version, None, problem))
            await pacer.tick()
        if segment:
            state = fold((r.event for r in segment), state)
        after = records[-1].version
    findings += [
        Finding("snapshot", version, None, "a snapshot of a version the log does not have")
        for version in versions
        if version > after
    ]
    return findings


@dataclass(frozen=True, slots=True)
class PlanIntegrity:
    plan: IntegrityReport
    readings: ReadingsIntegrity
    # "plan": the plan's own batches of readings; "all": the whole chain of batches.
    readings_scope: str
    # When the run began reading: what it vouches for was stored at that moment.
    checked_at: dt.datetime

    @property
    def ok(self) -> bool:
        return self.plan.ok and self.readings.ok


class IntegrityService:
    def __init__(self, plans: PlanService, readings: ReadingStore) -> None:
        self.plans = plans
        self.readings = readings
        self.runs = Coalescer()

    async def verify_plan(self, plan_id: str, all_readings: bool = False) -> PlanIntegrity:
        """The plan's chain, snapshots and index, and its own batches of readings (every
        batch, whatever the plan, with `all_readings`)."""
        return await self.runs.run(
            ("plan", plan_id, all_readings), lambda: self._verify_plan(plan_id, all_readings)
        )

    async def verify_readings(self) -> ReadingsIntegrity:
        return await self.runs.run(("readings",), self.readings.verify)

    async def _verify_plan(self, plan_id: str, all_readings: bool) -> PlanIntegrity:
        checked_at = dt.datetime.now(dt.UTC)
        plan = await self.plans.verify(plan_id)
        readings = await self.readings.verify(None if all_readings else plan_id)
        return PlanIntegrity(plan, readings, "all" if all_readings else "plan", checked_at)


class Coalescer:
    """One run at a time; a caller joins a run of the same question only while it waits to
    start (so it starts after the caller asked), never one already under way."""

    def __init__(self) -> None:
        self._one_at_a_time = asyncio.Lock()
        self._waiting: dict[Hashable, asyncio.Task[Any]] = {}
        self.started = 0  # runs begun: for tests and metrics

    async def run(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> T:
        task = self._waiting.get(key)
        if task is None:
            task = asyncio.ensure_future(self._start(key, work))
            self._waiting[key] = task
        # A caller that goes away does not cancel the run others wait for.
        result: T = await asyncio.shield(task)
        return result

    async def _start(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> T:
        async with self._one_at_a_time:
            # From now on the run reads what is stored: later callers need a run of their own.
            if self._waiting.get(key) is asyncio.current_task():
                del self._waiting[key]
            self.started += 1
            return await work()
