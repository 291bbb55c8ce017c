"""Versions read from snapshots share their unchanged nodes with the versions held beside them:
the cache of reconstructed versions, bounded by their number, stays bounded in bytes."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from decimal import Decimal

from planapi.adapters.snapshot_format import decode_state, encode_state
from planapi.application.plans import PlanService
from planapi.domain.changes import AddNode, UpdateNode
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
