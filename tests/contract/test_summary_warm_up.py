"""The summaries of current readings are built in the background at start-up, not by the first
dashboard read: a read that comes during the build waits for it and still sees every batch
committed before it asked; a build that fails leaves the first read to build it; a build in
slices (the event loop served between them) gives what one built at once does, and on a grown
plan no turn of the loop during the build does more than one slice of work (counted, not
timed). SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest

from planapi.adapters import current_readings
from planapi.adapters.clock import SystemClock
from planapi.adapters.current_readings import SqlTotalSeries
from planapi.adapters.heads import SqlHeads
from planapi.adapters.readings_store import SqlReadingStore
from planapi.application import reading_summary
from planapi.application.heads_tracker import HeadsTracker
from planapi.application.plans import CreatePlan, PlanService
from planapi.application.ports import CurrentValue
from planapi.application.reading_summary import CurrentReadings, KpiReadings
from planapi.application.readings import ReadingService, RecordReadings
from planapi.domain.changes import AddNode
from planapi.domain.events import Authority
from planapi.domain.nodes import Node, NodeKind
from planapi.domain.readings import Reading
from planapi.domain.rollups import Standing
from tests.readings_fixtures import TRAINED, create_plan_command, reading


class Gated:
    """The total series source, its first read held until `release` is set."""

    def __init__(self, inner: SqlTotalSeries, fail: bool = False) -> None:
        self.inner = inner
        self.fail = fail
        self.reads: list[tuple[str, int]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def total_series(self, plan_id: str, after_batch: int) -> tuple[int, list[CurrentValue]]:
        self.reads.append((plan_id, after_batch))
        if len(self.reads) == 1:
            self.started.set()
            await self.release.wait()
            if self.fail:
                raise ConnectionError("the database went away")
        return await self.inner.total_series(plan_id, after_batch)

    async def readings(self, ids: Sequence[int]) -> list[Reading]:
        return await self.inner.readings(ids)


async def _readings(engine: Any, service: PlanService, *plan_ids: str) -> ReadingService:
    for plan_id in plan_ids:
        await service.create_plan(create_plan_command(plan_id))
    return ReadingService(SqlReadingStore(engine, SystemClock()), service)


def _value(summary: reading_summary.PlanReadings, kpi_id: str) -> Decimal | None:
    found = summary.latest(kpi_id)
    return None if found is None else found.reading.value


async def test_a_read_during_the_build_waits_and_sees_a_batch_committed_meanwhile(
    engine: Any, service: PlanService
) -> None:
    readings = await _readings(engine, service, "warmed")
    await readings.record(RecordReadings("warmed", [reading("2027", "71")]))
    source = Gated(SqlTotalSeries(engine))
    current = CurrentReadings(source)
    warming = current.warm(["warmed"])
    await source.started.wait()  # the build has read nothing yet
    assert not current.held("warmed")
    # A correction committed while the build runs, then a dashboard read: it must see 61.
    await readings.record(RecordReadings("warmed", [reading("2027", "61")]))
    read = asyncio.create_task(current.plan("warmed"))
    await asyncio.sleep(0.01)
    assert not read.done()  # waiting for the build, not answering without it
    source.release.set()
    summary = await read
    await warming
    assert _value(summary, "kpi-1") == Decimal("61")
    assert summary.applied == 2
    await current.close()


async def test_the_plans_with_readings_are_built_before_any_read_newest_first(
    engine: Any, service: PlanService
) -> None:
    readings = await _readings(engine, service, "older", "newer", "empty")
    await readings.record(RecordReadings("older", [reading("2026", "65")]))
    await readings.record(RecordReadings("newer", [reading("2028", "75")]))
    heads = HeadsTracker(SqlHeads(engine))
    await heads.catch_up()
    assert heads.plans_with_readings() == ["newer", "older"]  # "empty" has none
    source = Gated(SqlTotalSeries(engine))
    source.release.set()
    current = CurrentReadings(source)
    asked: list[str] = []

    async def kpis(plan_id: str) -> list[Node]:  # the latest version's, as start-up passes
        asked.append(plan_id)
        state = (await service.plan(plan_id)).state  # type: ignore[union-attr]
        return [node for node in state.walk() if node.kind is NodeKind.KPI]

    await current.warm(heads.plans_with_readings(), kpis)
    assert asked == ["newer", "older"]
    assert [plan_id for plan_id, _ in source.reads] == ["newer", "older"]
    assert [current.held(p) for p in ("newer", "older", "empty")] == [True, True, False]
    # The first read only catches up, from the batch the build reached.
    assert _value(await current.plan("older"), "kpi-1") == Decimal("65")
    assert source.reads[-1] == ("older", 2)
    kpi = (await service.plan("older")).state.node("kpi-1")  # type: ignore[union-attr]
    assert kpi is not None
    # 65 in 2026 against 70 by 2027 from 60 in 2025: ahead of the line, on track.
    assert (await current.plan("older")).standing(kpi).standing is Standing.ON_TRACK


async def test_a_failed_build_is_logged_and_the_first_read_builds_the_summary(
    engine: Any, service: PlanService, caplog: pytest.LogCaptureFixture
) -> None:
    readings = await _readings(engine, service, "unlucky")
    await readings.record(RecordReadings("unlucky", [reading("2029", "80")]))
    source = Gated(SqlTotalSeries(engine), fail=True)
    source.release.set()
    current = CurrentReadings(source)
    await current.warm(["unlucky"])
    assert "building the summary of unlucky failed" in caplog.text
    assert not current.held("unlucky")
    assert _value(await current.plan("unlucky"), "kpi-1") == Decimal("80")


async def test_a_summary_built_in_slices_is_the_one_built_at_once(
    engine: Any, service: PlanService, monkeypatch: pytest.MonkeyPatch
) -> None:
    readings = await _readings(engine, service, "sliced")
    years = ["2026", "2027", "2028", "2029"]
    await readings.record(RecordReadings("sliced", [reading(y, "60") for y in years]))
    months = [f"{y}-{m:02d}" for y in years for m in range(1, 13)]
    trained = [reading(month, str(n), kpi_id="kpi-4") for n, month in enumerate(months)]
    await readings.record(RecordReadings("sliced", trained))
    corrected = [reading("2029", "90"), reading("2027-05", "7", kpi_id="kpi-4")]
    await readings.record(RecordReadings("sliced", corrected))
    at_once = await CurrentReadings(SqlTotalSeries(engine)).plan("sliced")
    monkeypatch.setattr(reading_summary, "SLICE", 5)
    sliced = await CurrentReadings(SqlTotalSeries(engine)).plan("sliced")
    assert sliced.kpis == at_once.kpis
    assert sliced.applied == at_once.applied == 3
    assert sliced.reported == at_once.reported
    assert _value(sliced, "kpi-1") == Decimal("90")
    assert _value(sliced, "kpi-4") == _value(at_once, "kpi-4")
    assert sliced.kpis["kpi-4"].periods["2027-05"].value == Decimal("7")


async def test_a_summary_whose_latest_readings_are_read_in_slices_is_the_one_read_at_once(
    engine: Any, service: PlanService, monkeypatch: pytest.MonkeyPatch
) -> None:
    readings = await _readings(engine, service, "latest")
    await readings.record(RecordReadings("latest", [reading("2027", "64"), reading("2028", "66")]))
    await readings.record(RecordReadings("latest", [reading("2026-Q3", "4.1", kpi_id="kpi-2")]))
    at_once = await CurrentReadings(SqlTotalSeries(engine)).plan("latest")
    monkeypatch.setattr(reading_summary, "LATEST_SLICE", 1)  # one KPI's latest per statement
    sliced = await CurrentReadings(SqlTotalSeries(engine)).plan("latest")
    assert sliced.latest("kpi-1") == at_once.latest("kpi-1")
    assert sliced.latest("kpi-2") == at_once.latest("kpi-2")
    assert _value(sliced, "kpi-1") == Decimal("66")
    assert _value(sliced, "kpi-2") == Decimal("4.1")


# A plan grown past every slice of a build: more KPIs than one slice of progress or of latest
# readings, more total-series readings than one slice of them or one part of the rows.
GROWN_KPIS, GROWN_MONTHS = 300, [f"{y}-{m:02d}" for y in (2026, 2027) for m in range(1, 13)]


# The most a build may do in one turn of the loop, of each kind of work: each about 2 ms on the
# 2-core machine unloaded (a request arriving meanwhile waits that long, ~10 ms at a load of 4).
TURN = {
    "rows converted": 1_000,
    "readings applied": 1_000,
    "KPIs assessed": 50,
    "latest readings decoded": 250,
}


def _grown_plan(plan_id: str) -> CreatePlan:
    kpis = (
        AddNode(
            NodeKind.KPI,
            f"Trained {n}",
            id=f"kpi-{n}",
            parent_id="o1",
            values={**TRAINED, "code": f"1.1.{n}"},
        )
        for n in range(GROWN_KPIS)
    )
    return CreatePlan(
        plan_id=plan_id,
        title="Grown",
        period_start=2026,
        period_end=2029,
        authority=Authority.WTDC,
        rationale="grown",
        effective_from=dt.date(2026, 1, 1),
        changes=(
            AddNode(NodeKind.PRIORITY, "P", id="p1"),
            AddNode(NodeKind.OUTCOME, "O", id="o1", parent_id="p1"),
            *kpis,
        ),
    )


def _counting(work: Counter[str], kind: str, inner: Callable[..., Any]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        work[kind] += 1
        return inner(*args, **kwargs)

    return counted


async def test_a_build_on_a_grown_plan_does_at_most_one_slice_of_work_per_turn_of_the_loop(
    engine: Any, service: PlanService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a request arriving during the start-up build waits for is one turn of the loop:
    the work done in each turn is counted by kind — rows converted, readings applied, KPIs
    assessed, latest readings decoded — and no turn may do more than one slice of them in
    all (each kind as a share of its slice, summed)."""
    await service.create_plan(_grown_plan("grown"))
    readings = ReadingService(SqlReadingStore(engine, SystemClock()), service)
    for half in (GROWN_MONTHS[:12], GROWN_MONTHS[12:]):
        given = [reading(m, str(n), kpi_id=f"kpi-{n}") for n in range(GROWN_KPIS) for m in half]
        await readings.record(RecordReadings("grown", given))

    # More than one slice of each kind of work.
    assert GROWN_KPIS * len(GROWN_MONTHS) > 2 * TURN["readings applied"]
    assert TURN["latest readings decoded"] < GROWN_KPIS
    work: Counter[str] = Counter()
    monkeypatch.setattr(
        current_readings,
        "CurrentValue",
        _counting(work, "rows converted", current_readings.CurrentValue),
    )
    monkeypatch.setattr(KpiReadings, "take", _counting(work, "readings applied", KpiReadings.take))
    monkeypatch.setattr(
        reading_summary, "assess", _counting(work, "KPIs assessed", reading_summary.assess)
    )
    monkeypatch.setattr(
        current_readings,
        "reading_of_values",
        _counting(work, "latest readings decoded", current_readings.reading_of_values),
    )
    turns: list[Counter[str]] = []

    async def probe() -> None:  # runs once per turn of the loop, and notes the work so far
        while True:
            turns.append(work.copy())
            await asyncio.sleep(0)

    async def kpis(plan_id: str) -> list[Node]:
        state = (await service.plan(plan_id)).state  # type: ignore[union-attr]
        return [node for node in state.walk() if node.kind is NodeKind.KPI]

    await service.plan("grown")  # the version read (and cached) before the build
    probing = asyncio.create_task(probe())
    await asyncio.sleep(0)
    await CurrentReadings(SqlTotalSeries(engine)).warm(["grown"], kpis)
    turns.append(work.copy())
    probing.cancel()
    done = GROWN_KPIS * len(GROWN_MONTHS)
    assert work["rows converted"] == work["readings applied"] == done
    assert work["KPIs assessed"] == work["latest readings decoded"] == GROWN_KPIS
    shares = [
        sum((after[kind] - before[kind]) / size for kind, size in TURN.items())
        for before, after in itertools.pairwise(turns)
    ]
    assert max(shares) <= 1.0, max(shares)
