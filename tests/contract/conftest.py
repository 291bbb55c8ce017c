"""Fixtures of the storage contract suite, on top of the shared per-backend ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.snapshots import SqlSnapshotStore
from planapi.application.plans import PlanService
from tests.contract.builders import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked_store(engine: AsyncEngine, clock: FakeClock) -> SqlEventStore:
    """An event store whose time the test controls."""
    return SqlEventStore(engine, clock)


@pytest.fixture
def clocked_service(
    engine: AsyncEngine, clocked_store: SqlEventStore, clock: FakeClock
) -> PlanService:
    return PlanService(
        clocked_store,
        SqlSnapshotStore(engine, clock),
        default_actor="tester",
        snapshot_interval=5,
    )


@pytest.fixture
def fresh_service(
    event_store: SqlEventStore, snapshot_store: SqlSnapshotStore
) -> Callable[[], PlanService]:
    """A new PlanService on the same database, as another process would have: empty cache."""

    def make() -> PlanService:
        return PlanService(event_store, snapshot_store, default_actor="tester", snapshot_interval=5)

    return make
