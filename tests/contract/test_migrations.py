"""Alembic is the only way the schema changes: from empty, migrations build exactly the tables
the code declares; they undo and redo cleanly; PostgreSQL is never migrated behind an operator's
back."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.database import create_engine
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.migrations import downgrade, pending, upgrade
from planapi.adapters.tables import metadata
from planapi.bootstrap import NotMigratedError, bootstrap
from planapi.config import Settings
from tests.conftest import POSTGRES_URL, drop_schema, make_database
from tests.contract.builders import append_versions

PLANAPI = str(Path(sys.executable).with_name("planapi"))


def _differences(sync: Connection) -> list[Any]:
    context = MigrationContext.configure(sync, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def differences(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return await conn.run_sync(_differences)


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_migrating_from_empty_reaches_exactly_the_models_schema(engine: AsyncEngine) -> None:
    assert await differences(engine) == []
    current, head = await pending(engine)
    assert current == head


async def test_downgrading_to_base_and_upgrading_again_round_trips(
    engine: AsyncEngine, event_store: SqlEventStore
) -> None:
    await downgrade(engine, "base")
    assert await tables(engine) <= {"alembic_version"}
    assert (await pending(engine))[0] is None

    await upgrade(engine)

    assert await differences(engine) == []
    # The triggers are back: the log refuses to change again.
    await append_versions(event_store, "plan:round-trip", 2)
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE events SET version = version + 10"))


async def test_each_migration_undoes_and_redoes_on_its_own(engine: AsyncEngine) -> None:
    _, head = await pending(engine)
    while (await pending(engine))[0] is not None:
        await downgrade(engine, "-1")
    while (await pending(engine))[0] != head:  # revision ids may skip numbers until re-chained
        await upgrade(engine, "+1")
    assert await pending(engine) == (head, head)
    assert await differences(engine) == []


async def test_an_outdated_sqlite_database_migrates_itself_at_start(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    await upgrade(engine, "0001")
    await engine.dispose()

    services = await bootstrap(Settings(database_url=url))
    try:
        current, head = await pending(services.engine)
        assert current == head
    finally:
        await services.close()


# -- PostgreSQL is migrated by an operator --------------------------------------------------


@pytest.fixture
async def empty_postgres(tmp_path: Path) -> AsyncIterator[Settings]:
    """Settings for a PostgreSQL schema of its own that no migration has touched."""
    url, _, schema = await make_database("postgres", tmp_path)
    try:
        yield Settings(database_url=url, database_schema=schema)
    finally:
        await drop_schema(schema)


def _engine(settings: Settings) -> AsyncEngine:
    return create_engine(
        settings.database_url,
        connect_args={"server_settings": {"search_path": settings.database_schema or "public"}},
    )


@pytest.mark.postgres
async def test_the_app_refuses_an_unmigrated_postgres_and_says_what_to_run(
    empty_postgres: Settings,
) -> None:
    with pytest.raises(NotMigratedError, match="run `planapi migrate`") as refused:
        await bootstrap(empty_postgres)
    assert "migration none" in str(refused.value)
    engine = _engine(empty_postgres)
    try:
        assert await tables(engine) == set()  # nothing was created behind the operator's back
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_the_app_refuses_an_outdated_postgres_and_says_what_to_run(
    empty_postgres: Settings,
) -> None:
    engine = _engine(empty_postgres)
    try:
        await upgrade(engine)
        _, head = await pending(engine)
        await downgrade(engine, "-1")
        current, _ = await pending(engine)
    finally:
        await engine.dispose()

    with pytest.raises(NotMigratedError, match="run `planapi migrate`") as refused:
        await bootstrap(empty_postgres)
    assert f"at migration {current}, the code needs {head}" in str(refused.value)


def _run(*args: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PLANAPI_DATABASE_URL": settings.database_url,
        "PLANAPI_DATABASE_SCHEMA": settings.database_schema or "",
    }
    return subprocess.run(
        [PLANAPI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.postgres
def test_planapi_serve_refuses_an_unmigrated_postgres_and_migrate_fixes_it(
    empty_postgres: Settings,
) -> None:
    refused = _run("serve", "--port", "1", settings=empty_postgres)
    assert refused.returncode == 1
    assert "run `planapi migrate` first" in refused.stderr
    assert "Traceback" not in refused.stderr

    migrated = _run("migrate", settings=empty_postgres)
    assert migrated.returncode == 0, migrated.stderr
    assert "migrated from an empty database to" in migrated.stdout
    again = _run("migrate", settings=empty_postgres)
    assert "nothing to do" in again.stdout


def test_the_postgres_url_of_the_suite_is_the_one_the_fixtures_use() -> None:
    # The subprocess tests hand the same URL to `planapi`: it must be one Settings accepts.
    assert Settings(database_url=POSTGRES_URL).database_url.startswith("postgresql+asyncpg://")


async def test_the_search_indexs_extension_outlives_the_schema_that_first_needed_it(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Extensions belong to the database: one made in a deployment's own schema would go with
    that schema's DROP ... CASCADE, and take every other deployment's search index along."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no extensions")
    from tests.conftest import drop_schema, make_database

    url, options, schema = await make_database("postgres", tmp_path)
    neighbour = create_engine(url, **options)  # type: ignore[arg-type]
    try:
        await upgrade(neighbour)
    finally:
        await neighbour.dispose()
    await drop_schema(schema)

    query = text(
        "SELECT e.extnamespace::regnamespace::text, count(i.indexrelid) FROM pg_extension e"
        " LEFT JOIN pg_index i ON i.indexrelid = to_regclass('ix_search_texts_scope')"
        " WHERE e.extname = 'btree_gin' GROUP BY 1"
    )
    async with engine.connect() as conn:
        assert (await conn.execute(query)).all() == [("public", 1)]
