"""Run alembic from the application: `planapi migrate`, tests, and the SQLite default."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


def migrations_dir() -> Path:
    configured = os.environ.get("PLANAPI_MIGRATIONS_DIR")
    if configured:
        return Path(configured)
    # Source checkouts and editable installs keep `migrations/` at the top of the repository.
    return Path(__file__).resolve().parents[3] / "migrations"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(_config(sync), revision))


async def pending(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """(the database's revision, the code's head); equal when nothing is left to run."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    async with engine.connect() as conn:
        current = await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
    return current, head
