"""Shared fixtures: every storage test runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.clock import SystemClock
from planapi.adapters.database import create_engine
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.migrations import upgrade
from planapi.adapters.snapshots import SqlSnapshotStore
from planapi.application.plans import PlanService

POSTGRES_URL = os.environ.get(
    "PLANAPI_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


async def _postgres_available() -> bool:
    engine = create_engine(POSTGRES_URL)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
        return True
    except (OSError, Exception):
        return False
    finally:
        await engine.dispose()


async def make_database(backend: str, tmp_path: Path) -> tuple[str, dict[str, object], str | None]:
    """A fresh, migrated database: (url, engine options, PostgreSQL schema to drop after)."""
    if backend not in ("sqlite", "postgres"):
        pytest.fail(f"the {backend} backend has no database: this test needs SQL")
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'planapi.db'}", {}, None
    if not await _postgres_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL} (required in CI)")
        pytest.skip("PostgreSQL is not reachable")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    options: dict[str, object] = {"connect_args": {"server_settings": {"search_path": schema}}}
    return POSTGRES_URL, options, schema


async def drop_schema(schema: str | None) -> None:
    if schema is None:
        return
    admin = create_engine(POSTGRES_URL)
    try:
        # A connection the test's app closed may still be ending in the server, holding locks
        # the drop needs in another order: PostgreSQL then aborts one of the two as a deadlock.
        # The drop is only tidying up; it tries again rather than failing a test that passed.
        for attempt in range(5):
            try:
                async with admin.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                return
            except DBAPIError as error:
                if "deadlock detected" not in str(error) or attempt == 4:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))
    finally:
        await admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database(backend: str, tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, object]]]:
    """(url, engine options) of a fresh migrated database, isolated from every other test."""
    url, options, schema = await make_database(backend, tmp_path)
    engine = create_engine(url, **options)  # type: ignore[arg-type]
    await upgrade(engine)
    await engine.dispose()
    try:
        yield url, options
    finally:
        await drop_schema(schema)


@pytest.fixture
async def engine(database: tuple[str, dict[str, object]]) -> AsyncIterator[AsyncEngine]:
    url, options = database
    engine = create_engine(url, **options)  # type: ignore[arg-type]
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def event_store(engine: AsyncEngine) -> SqlEventStore:
    return SqlEventStore(engine, SystemClock())


@pytest.fixture
def snapshot_store(engine: AsyncEngine) -> SqlSnapshotStore:
    return SqlSnapshotStore(engine, SystemClock())


@pytest.fixture
def service(event_store: SqlEventStore, snapshot_store: SqlSnapshotStore) -> PlanService:
    return PlanService(event_store, snapshot_store, default_actor="tester", snapshot_interval=5)
