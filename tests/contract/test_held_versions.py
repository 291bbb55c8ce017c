"""Versions read from snapshots share their unchanged nodes with the versions held beside them,
and the cache of reconstructed versions holds no more memory than its bound in bytes."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from decimal import Decimal

from planapi.adapters.snapshot_format import decode_state, encode_state
from planapi.application.plans import PlanService
from planapi.application.ports import EventStore, SnapshotStore
from planapi.domain.changes import AddNode, Change, UpdateNode
from planapi.domain.nodes import Measurement, Node, NodeKind
from tests.contract.builders import amend_command, create_command

PLAN = "baku-2026"
KPIS = 200


def _kpis() -> list[AddNode]:
    outcomes = [
        AddNode(NodeKind.OUTCOME, f"Outcome {n}", id=f"o{n}", parent_id="p") for n in range(10)
    ]
    kpis = [
        AddNode(
            NodeKind.KPI,
            f"Indicator {n}",
            id=f"k{n}",
            parent_id=f"o{n % 10}",
            values={"unit": "%", "baseline": Measurement("2025", Decimal("12.5"))},
        )
        for n in range(KPIS)
    ]
    return [AddNode(NodeKind.PRIORITY, "Priority", id="p"), *outcomes, *kpis]


async def _grown(service: PlanService, versions: int) -> None:
    """The plan at `versions` versions: 200 KPIs added, then one renamed again and again."""
    await service.create_plan(create_command())
    await service.amend_plan(amend_command(PLAN, 1, _kpis()))
    await _grown_from(service, 2, versions)


async def _grown_from(service: PlanService, first: int, versions: int) -> None:
    for version in range(first, versions):
        title = {"title": f"Renamed {version}"}
        await service.amend_plan(amend_command(PLAN, version, [UpdateNode("k0", title)]))


def _baseline(node: Node) -> Decimal | None:
    return node.baseline.value if node.baseline else None


def _traced(before: tracemalloc.Snapshot) -> int:
    gc.collect()
    after = tracemalloc.take_snapshot()
    return sum(stat.size_diff for stat in after.compare_to(before, "filename"))


async def test_versions_read_from_snapshots_hold_little_more_than_one_plan(
    service: PlanService, fresh_service: Callable[[], PlanService]
) -> None:
    await _grown(service, 61)  # snapshots every 5 versions
    reader = fresh_service()
    latest = await reader.plan(PLAN)  # warms the store's statements and connections
    assert latest is not None
    assert await reader.plan(PLAN, version=60) is not None  # and those of a version's snapshot
    one_plan = decode_state(encode_state(latest.state))
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        copy = decode_state(encode_state(latest.state))
        plan_bytes = _traced(before)
        del copy
        before = tracemalloc.take_snapshot()
        # Each a cold read from its own snapshot, none within 5 versions of another held.
        read = [await reader.plan(PLAN, version=v) for v in range(5, 60, 5)]
        held = _traced(before)
    finally:
        tracemalloc.stop()

    assert all(found is not None for found in read)
    assert one_plan == latest.state
    # Without sharing: 1.6 MB, a whole plan per version (one plan: 147 KB; shared: 80-131 KB).
    assert held < plan_bytes, f"11 versions from snapshots: {held:,} bytes, one plan {plan_bytes:,}"


async def test_a_version_read_from_a_snapshot_keeps_its_own_spelling_of_an_equal_value(
    service: PlanService, fresh_service: Callable[[], PlanService]
) -> None:
    await _grown(service, 7)
    spelled = {"baseline": Measurement("2025", Decimal("12.50"))}  # == 12.5, written apart
    await service.amend_plan(amend_command(PLAN, 7, [UpdateNode("k1", spelled)]))
    await _grown_from(service, 8, 11)
    reader = fresh_service()

    before = await reader.plan(PLAN, version=5)  # cold, from its snapshot: held
    after = await reader.plan(PLAN, version=10)  # cold, shares what it can with version 5

    assert before is not None
    assert after is not None
    assert before.state.nodes["k1"].baseline == Measurement("2025", Decimal("12.5"))
    assert str(_baseline(after.state.nodes["k1"])) == "12.50"
    assert after.state.nodes["k2"] is before.state.nodes["k2"]


def _all_renamed(version: int) -> list[Change]:
    return [UpdateNode(f"k{n}", {"title": f"Indicator {n}, as of {version}"}) for n in range(KPIS)]


async def test_versions_sharing_nothing_read_cold_hold_no_more_than_the_cache_s_bytes(
    service: PlanService, event_store: EventStore, snapshot_store: SnapshotStore
) -> None:
    """Every KPI renamed by every amendment: the snapshots' versions share no KPI, and each
    cold read decodes a whole plan. Bounded by their number alone (512), the cache held all 11
    such versions read, 11 plans; bounded by two plans' bytes, it holds two."""
    await service.create_plan(create_command())
    await service.amend_plan(amend_command(PLAN, 1, _kpis()))
    for version in range(2, 56):
        await service.amend_plan(amend_command(PLAN, version, _all_renamed(version + 1)))
    warm = PlanService(event_store, snapshot_store, default_actor="tester", snapshot_interval=5)
    one_plan = (await warm.plan(PLAN, version=55)) and warm.versions.bytes  # statements warmed
    assert one_plan
    bound = 2 * one_plan + one_plan // 2
    reader = PlanService(
        event_store, snapshot_store, default_actor="tester", snapshot_interval=5, cache_bytes=bound
    )
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        read = [await reader.plan(PLAN, version=v) for v in range(5, 56, 5)]
        kept = [found.state.nodes["k7"].title for found in read if found is not None]
        del read
        held = _traced(before)
    finally:
        tracemalloc.stop()

    assert kept == [f"Indicator 7, as of {v}" for v in range(5, 56, 5)]
    assert len(reader.versions) == 2
    assert reader.versions.bytes <= bound
    assert held <= 1.1 * bound, f"{held:,} bytes held, {reader.versions.bytes:,} counted"
