"""Fixtures of the storage contract suite, on top of the shared per-backend ones.

The event and snapshot ports also run on the in-memory adapter (`adapters/memory.py`): a test
or module marked `ports_and_memory` runs on "memory" besides SQLite and PostgreSQL. Only tests
that go through the ports alone may carry it; those that read rows, lift triggers, or need
readings or SQL stay database-only (unmarked).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from planapi.adapters.clock import SystemClock
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.memory import MemoryEventStore, MemorySnapshotStore
from planapi.adapters.snapshots import SqlSnapshotStore
from planapi.application.plans import PlanService
from planapi.application.ports import Clock, EventStore, SnapshotStore
from tests.conftest import BACKENDS
from tests.contract.builders import FakeClock

ports_and_memory = pytest.mark.parametrize(
    "backend", [*BACKENDS, pytest.param("memory", id="memory")]
)


def _event_store(backend: str, request: pytest.FixtureRequest, clock: Clock) -> EventStore:
    if backend == "memory":
        return MemoryEventStore(clock)
    return SqlEventStore(request.getfixturevalue("engine"), clock)


def _snapshot_store(backend: str, request: pytest.FixtureRequest, clock: Clock) -> SnapshotStore:
    if backend == "memory":
        return MemorySnapshotStore()
    return SqlSnapshotStore(request.getfixturevalue("engine"), clock)


@pytest.fixture
def event_store(backend: str, request: pytest.FixtureRequest) -> EventStore:
    return _event_store(backend, request, SystemClock())


@pytest.fixture
def snapshot_store(backend: str, request: pytest.FixtureRequest) -> SnapshotStore:
    return _snapshot_store(backend, request, SystemClock())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked_store(backend: str, request: pytest.FixtureRequest, clock: FakeClock) -> EventStore:
    """An event store whose time the test controls."""
    return _event_store(backend, request, clock)


@pytest.fixture
def clocked_service(
    backend: str, request: pytest.FixtureRequest, clocked_store: EventStore, clock: FakeClock
) -> PlanService:
    return PlanService(
        clocked_store,
        _snapshot_store(backend, request, clock),
        default_actor="tester",
        snapshot_interval=5,
        clock=clock,
    )


@pytest.fixture
def fresh_service(
    event_store: EventStore, snapshot_store: SnapshotStore
) -> Callable[[], PlanService]:
    """A new PlanService on the same database, as another process would have: empty cache."""

    def make() -> PlanService:
        return PlanService(event_store, snapshot_store, default_actor="tester", snapshot_interval=5)

    return make
