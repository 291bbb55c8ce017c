"""The summary of current readings (`application/reading_summary.py`) against the query path it
stands in for, on SQLite and PostgreSQL: after any sequence of batches and corrections, each
KPI's latest reading and progress are exactly what reading every reading gives, whether the
summary was caught up batch by batch or built at once."""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planapi.adapters.clock import SystemClock
from planapi.adapters.current_readings import SqlTotalSeries
from planapi.adapters.database import create_engine
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.readings_store import SqlReadingStore
from planapi.adapters.snapshots import SqlSnapshotStore
from planapi.application.plans import PlanService
from planapi.application.reading_summary import CurrentReadings, PlanReadings
from planapi.application.readings import ReadingService, RecordReadings, latest, progress
from planapi.domain.readings import NewReading, ReadingQuery
from planapi.domain.rollups import Standing
from tests.readings_fixtures import KPIS, create_plan_command, reading

# Periods each KPI accepts (kpi-1 yearly, kpi-2 quarterly or yearly, kpi-4 any), some sharing
# an end date (2027-Q4 and 2027) so `latest`'s tie-break by recording order is exercised.
PERIODS = {
    "kpi-1": ["2026", "2027", "2028", "2029"],
    "kpi-2": ["2026-Q1", "2027-Q4", "2027", "2029"],
    "kpi-4": ["2026", "2026-05", "2027-Q3", "2027-09", "2029"],
}
SERIES = [(), (("sex", "female"),)]  # the total and one disaggregated series (kpi-1 only)
_PLANS = itertools.count()


@st.composite
def a_reading(draw: Any) -> NewReading:
    kpi_id = draw(st.sampled_from(["kpi-1", "kpi-2", "kpi-3", "kpi-4"]))
    if kpi_id == "kpi-3":  # qualitative: text, no value
        return reading(draw(st.sampled_from(["2027", "2028"])), kpi_id=kpi_id, text="adopted")
    period = draw(st.sampled_from(PERIODS[kpi_id]))
    series = draw(st.sampled_from(SERIES)) if kpi_id == "kpi-1" else ()
    value = Decimal(draw(st.integers(min_value=1, max_value=99)))
    return reading(period, value, kpi_id=kpi_id, disaggregation=series)


def _distinct(batch: list[NewReading]) -> list[NewReading]:
    """One reading per series and period in a batch: corrections come in later batches."""
    seen: dict[tuple[str, str, str], NewReading] = {}
    for item in batch:
        seen[(item.kpi_id, item.series, item.period)] = item
    return list(seen.values())


BATCHES = st.lists(
    st.lists(a_reading(), min_size=1, max_size=6).map(_distinct), min_size=1, max_size=5
)


async def _agree(summary: PlanReadings, readings: ReadingService, plan_id: str) -> None:
    state = (await readings.plans.plan(plan_id)).state  # type: ignore[union-attr]
    per_kpi = await readings.readings(plan_id, list(KPIS), ReadingQuery(disaggregation=()))
    for kpi_id, versions in per_kpi.items():
        node = state.node(kpi_id)
        assert node is not None
        assert summary.latest(kpi_id) == latest(versions), kpi_id
        assert summary.progress(node) == progress(node, versions), kpi_id


async def _scenario(database: tuple[str, dict[str, object]], batches: list[Any]) -> None:
    url, options = database
    engine = create_engine(url, **options)  # type: ignore[arg-type]
    try:
        clock = SystemClock()
        plans = PlanService(
            SqlEventStore(engine, clock), SqlSnapshotStore(engine, clock), default_actor="t"
        )
        plan_id = f"summary-{next(_PLANS)}"
        await plans.create_plan(create_plan_command(plan_id))
        readings = ReadingService(SqlReadingStore(engine, clock), plans)
        kept = CurrentReadings(SqlTotalSeries(engine))  # caught up after every batch
        await kept.plan(plan_id)
        for batch in batches:
            await readings.record(RecordReadings(plan_id, batch))
            await _agree(await kept.plan(plan_id), readings, plan_id)
        built = await CurrentReadings(SqlTotalSeries(engine)).plan(plan_id)  # all at once
        await _agree(built, readings, plan_id)
        assert built.kpis == (await kept.plan(plan_id)).kpis
    finally:
        await engine.dispose()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=BATCHES)
def test_the_summary_answers_as_reading_every_reading_does(
    database: tuple[str, dict[str, object]], batches: list[list[NewReading]]
) -> None:
    asyncio.run(_scenario(database, batches))


async def test_a_correction_replaces_the_latest_and_moves_the_kpi_standing(
    engine: Any, service: PlanService
) -> None:
    await service.create_plan(create_plan_command("corrected"))
    readings = ReadingService(SqlReadingStore(engine, SystemClock()), service)
    current = CurrentReadings(SqlTotalSeries(engine))
    kpi = (await service.plan("corrected")).state.node("kpi-1")  # type: ignore[union-attr]
    assert kpi is not None
    assert (await current.plan("corrected")).standing(kpi).standing is Standing.WITHOUT_DATA

    await readings.record(RecordReadings("corrected", [reading("2027", "71")]))
    before = await current.plan("corrected")
    assert before.latest("kpi-1").reading.value == Decimal("71")  # type: ignore[union-attr]
    assert before.standing(kpi).standing is Standing.ON_TRACK  # target 2027 met, 2029 ahead

    await readings.record(RecordReadings("corrected", [reading("2027", "61")]))
    after = await current.plan("corrected")
    assert after.latest("kpi-1").reading.value == Decimal("61")  # type: ignore[union-attr]
    assert after.standing(kpi).standing is Standing.OFF_TRACK
    # The snapshot a request held before the correction is unchanged by it.
    assert before.latest("kpi-1").reading.value == Decimal("71")  # type: ignore[union-attr]


async def test_a_summary_knows_batches_other_processes_recorded(
    engine: Any, service: PlanService, database: tuple[str, dict[str, object]]
) -> None:
    """What another process records (another engine here) is read at the next use, not later."""
    await service.create_plan(create_plan_command("shared"))
    current = CurrentReadings(SqlTotalSeries(engine))
    assert (await current.plan("shared")).latest("kpi-4") is None
    url, options = database
    other = create_engine(url, **options)  # type: ignore[arg-type]
    try:
        elsewhere = ReadingService(SqlReadingStore(other, SystemClock()), service)
        await elsewhere.record(RecordReadings("shared", [reading("2026-05", "7", kpi_id="kpi-4")]))
    finally:
        await other.dispose()
    found = (await current.plan("shared")).latest("kpi-4")
    assert found is not None
    assert found.reading.period == "2026-05"


async def test_readings_of_other_plans_and_series_stay_out_of_a_summary(
    engine: Any, service: PlanService
) -> None:
    for plan_id in ("mine", "theirs"):
        await service.create_plan(create_plan_command(plan_id))
    readings = ReadingService(SqlReadingStore(engine, SystemClock()), service)
    await readings.record(RecordReadings("theirs", [reading("2027", "70")]))
    female = (("sex", "female"),)
    await readings.record(RecordReadings("mine", [reading("2028", "50", disaggregation=female)]))
    summary = await CurrentReadings(SqlTotalSeries(engine)).plan("mine")
    assert summary.latest("kpi-1") is None
    assert summary.reported is None
    assert summary.applied == 2  # it still moved past both batches
