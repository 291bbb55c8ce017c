"""The cache of reconstructed versions, bounded by bytes: what it counts is what the versions it
holds keep alive, measured with tracemalloc, whatever they share and whichever goes first."""

from __future__ import annotations

import gc
import logging
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planapi.adapters.snapshot_format import decode_state, encode_state
from planapi.application.held_versions import NODE_BYTES, SLOT_BYTES, VERSION_BYTES, HeldVersions
from planapi.application.plan_views import PlanVersion
from planapi.application.ports import Recorded
from planapi.domain.events import NodeAdded, NodeUpdated
from planapi.domain.nodes import Direction, Measure, Measurement, Node, NodeKind
from planapi.domain.plan import EMPTY, PlanBuilder, PlanState

PLAN = "baku-2026"
# Not the cache's business what a version's record holds: one shared by all.
RECORD: Recorded = None  # type: ignore[assignment]


def _kpi(number: int, parent: str) -> Node:
    """A KPI as the grown plan of bench/growth.py has them."""
    return Node(
        id=f"kpi-{number}",
        kind=NodeKind.KPI,
        title=f"Indicator {number}",
        parent_id=parent,
        code=str(number),
        unit="%",
        measure=Measure.PERCENTAGE,
        direction=Direction.INCREASE,
        baseline=Measurement("2025", Decimal("12.5")),
        targets=(Measurement("2029", Decimal("40")),),
    )


def _plan(kpis: int) -> PlanState:
    builder = PlanBuilder(EMPTY)
    builder.id, builder.title, builder.version = PLAN, "Baku", 1
    outcomes = [f"p{n % 5}-o{n}" for n in range(20)]
    nodes = [Node(id=f"p{n}", kind=NodeKind.PRIORITY, title=f"Priority {n}") for n in range(5)]
    nodes += [Node(id=o, kind=NodeKind.OUTCOME, title=o, parent_id=o[:2]) for o in outcomes]
    nodes += [_kpi(n, outcomes[n % 20]) for n in range(kpis)]
    for node in nodes:
        builder.apply(NodeAdded(node, len(builder.siblings(node.parent_id))))
    return builder.freeze()


def _renamed(state: PlanState, version: int, number: int) -> PlanState:
    """`state` with one KPI renamed, as version `version`: folded, sharing every other node."""
    builder = PlanBuilder(state)
    builder.apply(NodeUpdated(f"kpi-{number}", {"title": f"Renamed {version}"}))
    builder.version = version
    return builder.freeze()


def _decoded(state: PlanState) -> PlanState:
    """`state` as a cold read from its snapshot has it: sharing no object with any other."""
    return decode_state(encode_state(state))


def _put(cache: HeldVersions, state: PlanState) -> None:
    cache.put((state.id, state.version), PlanVersion(state, RECORD))


@contextmanager
def _traced() -> Iterator[Callable[[], int]]:
    """The bytes allocated since entering, and still held, once garbage is collected."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]

    def held() -> int:
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before

    try:
        yield held
    finally:
        tracemalloc.stop()


def _counted(cache: HeldVersions) -> int:
    """The cache's count recomputed from scratch: each distinct node object once."""
    states = [found.state for key in cache.held() if (found := cache.peek(key))]
    nodes = {id(node) for state in states for node in state.nodes.values()}
    own = sum(VERSION_BYTES + SLOT_BYTES * len(state.nodes) for state in states)
    return own + NODE_BYTES * len(nodes)


def test_versions_decoded_from_snapshots_are_counted_as_the_memory_they_hold() -> None:
    """NODE_BYTES, measured: 1,000-KPI versions sharing nothing, each a whole plan."""
    plan = _plan(1_000)
    cache = HeldVersions(capacity=100, max_bytes=2**40)
    with _traced() as held:
        for version in range(1, 9):
            _put(cache, _decoded(_renamed(plan, version, version)))
        measured = held()
    per_node = (measured / 8 - VERSION_BYTES) / len(plan.nodes) - SLOT_BYTES
    assert 0.9 * measured <= cache.bytes <= 1.1 * measured, f"{per_node:.0f} bytes a node"


def test_versions_folded_from_one_another_are_counted_as_the_little_each_adds() -> None:
    """SLOT_BYTES and VERSION_BYTES, measured: each version its own maps and one new node."""
    plan = _plan(1_000)  # held outside the cache, as the latest version is by a request
    cache = HeldVersions(capacity=100, max_bytes=2**40)
    states = [plan]
    with _traced() as held:
        for version in range(2, 42):
            states.append(_renamed(states[-1], version, version))
            _put(cache, states[-1])
        del states[:]
        measured = held()
    # The first version's nodes but the one it renamed are the plan's, allocated before.
    counted = cache.bytes - NODE_BYTES * (len(plan.nodes) - 1)
    per_slot = (measured / 40 - VERSION_BYTES - NODE_BYTES) / len(plan.nodes)
    assert 0.9 * measured <= counted <= 1.15 * measured, f"{per_slot:.1f} bytes a slot"


def test_nodes_shared_with_an_evicted_version_stay_counted_while_another_holds_them() -> None:
    plan = _decoded(_plan(200))
    cache = HeldVersions(capacity=2, max_bytes=2**40)
    _put(cache, plan)
    folded = _renamed(plan, 2, 0)  # the plan's nodes but one
    _put(cache, folded)
    assert cache.bytes == 2 * VERSION_BYTES + (SLOT_BYTES * 2 + NODE_BYTES) * 225 + NODE_BYTES

    other = _decoded(_renamed(plan, 3, 1))
    _put(cache, other)  # the plan goes; its nodes, but the renamed one, stay with version 2

    assert cache.peek((PLAN, 1)) is None
    assert cache.bytes == 2 * VERSION_BYTES + (SLOT_BYTES + NODE_BYTES) * 225 * 2
    assert cache.bytes == _counted(cache)
    _put(cache, _renamed(other, 4, 2))  # version 2 goes: its nodes with it
    assert cache.bytes == 2 * VERSION_BYTES + (SLOT_BYTES * 2 + NODE_BYTES) * 225 + NODE_BYTES


def test_a_version_larger_than_the_bound_alone_is_not_kept_and_pushes_nothing_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    small, large = _decoded(_plan(20)), _decoded(_renamed(_plan(1_000), 2, 0))
    cache = HeldVersions(capacity=100, max_bytes=500_000)
    _put(cache, small)
    counted = cache.bytes

    with caplog.at_level(logging.WARNING, logger="planapi.versions"):
        _put(cache, large)
        _put(cache, _decoded(_renamed(large, 3, 1)))  # the same plan again: told once

    found = cache.peek((PLAN, 1))
    assert found is not None
    assert found.state is small
    assert (len(cache), cache.bytes, cache.evictions, cache.refused) == (1, counted, 0, 2)
    # The operator learns why that plan's reads are slow, and which setting to raise.
    told = [r.getMessage() for r in caplog.records if r.name == "planapi.versions"]
    assert len(told) == 1
    assert PLAN in told[0]
    assert "PLANAPI_VERSION_CACHE_BYTES (500000)" in told[0]


SMALL = _plan(200)  # allocated before any measuring, as a request's latest version is
# What the cache keeps for itself besides what it counts: its tables grown to their peak.
SLACK = 64 * 1024


@settings(max_examples=25, deadline=None)
@given(
    capacity=st.integers(1, 40),
    max_bytes=st.integers(100_000, 1_500_000),
    steps=st.lists(
        st.tuples(
            st.sampled_from(["folded", "decoded", "decoded and shared"]),
            st.integers(0, 1_000),
            st.integers(0, 199),
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_any_puts_of_folded_and_decoded_versions_hold_no_more_than_the_bound(
    capacity: int, max_bytes: int, steps: list[tuple[str, int, int]]
) -> None:
    """Versions folded from a held one, decoded from a snapshot, or decoded and sharing with
    the nearest held (as `PlanService` does), put in any order: the count never passes either
    bound, always equals the held versions' distinct nodes and maps however many went first,
    and the memory they hold stays within the bound (within 10%, and 64 KiB of the cache's
    own tables)."""
    cache = HeldVersions(capacity, max_bytes)
    with _traced() as held:
        for version, (how, pick, kpi) in enumerate(steps, start=2):
            keys = cache.held()
            found = cache.peek(keys[pick % len(keys)]) if keys else None
            state = _renamed(found.state if found else SMALL, version, kpi)
            if how != "folded":
                state = _decoded(state)
            if how == "decoded and shared":
                state = cache.shared(state)
            _put(cache, state)
            assert len(cache) <= capacity
            assert cache.bytes <= max_bytes
            assert cache.bytes == _counted(cache)
        del found, state
        measured = held()
    assert measured <= 1.1 * max_bytes + SLACK, f"{measured:,} held for {cache.bytes:,} counted"
