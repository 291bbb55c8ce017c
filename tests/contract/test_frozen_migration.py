"""Migrations carry frozen copies of the logic they run, so they do the same thing forever; a test
notices when the live logic drifts from a frozen copy, so the drift is a decision, not an
accident."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.codec import decode_event
from planapi.adapters.migrations import downgrade, upgrade
from planapi.adapters.tables import event_nodes, events
from planapi.api.schema import build_schema
from planapi.bootstrap import bootstrap
from planapi.config import Settings
from planapi.domain.changes import (
    AddNode,
    Change,
    LinkNodes,
    MoveNode,
    RemoveNode,
    UnlinkNodes,
    UpdateNode,
)
from planapi.domain.history import touched_nodes
from planapi.domain.links import LinkRelation
from planapi.domain.nodes import NodeKind
from planapi.entrypoints.seeding import seed
from tests.contract.builders import amend_command

MIGRATIONS = Path(__file__).parents[2] / "migrations" / "versions"
PRIORITY = "priority-affordable-connectivity"
OUTPUT = "output-toolkits"


def migration(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"migration_{name}", MIGRATIONS / name)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


AMENDMENTS: list[list[Change]] = [
    [AddNode(NodeKind.OUTCOME, "Universal access", parent_id=PRIORITY, id="outcome-x")],
    # The seed links every output to every priority: unlink first, then link again.
    [UnlinkNodes(OUTPUT, PRIORITY, LinkRelation.SERVES), UpdateNode(OUTPUT, {"title": "Kits"})],
    [MoveNode("section-3-1", "section-3", position=2)],
    [LinkNodes(OUTPUT, PRIORITY, LinkRelation.SERVES)],
    [LinkNodes(OUTPUT, "outcome-x", LinkRelation.SERVES), RemoveNode(PRIORITY, cascade=True)],
]


async def test_event_nodes_migration_agrees_with_live_touched_nodes(
    database: tuple[str, dict[str, object]],
) -> None:
    url, options = database
    connect_args: dict[str, Any] = options.get("connect_args", {})  # type: ignore[assignment]
    schema = connect_args.get("server_settings", {}).get("search_path")
    services = await bootstrap(Settings(database_url=url, database_schema=schema))
    try:
        await seed(build_schema(), services, "baku")
        for version, changes in enumerate(AMENDMENTS, start=1):
            await services.plans.amend_plan(amend_command("baku-2026", version, changes))
        rows = await _stored(services.engine)
        indexed = await _indexed(services.engine)
        assert indexed
        # The backfill itself: rebuilt from the stored log by the migration, it is the same index.
        await downgrade(services.engine, "0002")
        await upgrade(services.engine)
        assert await _indexed(services.engine) == indexed
    finally:
        await services.close()

    frozen = migration("0003_event_nodes.py").touched_in_stored
    assert len(rows) == 1 + len(AMENDMENTS)
    for row in rows:
        live = touched_nodes(decode_event(row.type, row.schema_version, row.data))
        assert frozen(row.data) == live, f"version {row.version}"
    assert {"outcome-x", OUTPUT, PRIORITY, "section-3-1"} <= set().union(
        *(frozen(row.data) for row in rows[1:])
    )


async def _indexed(engine: AsyncEngine) -> list[tuple[str, str, int]]:
    query = select(event_nodes).order_by(*event_nodes.c)
    async with engine.connect() as conn:
        return [tuple(row) for row in await conn.execute(query)]


async def _stored(engine: AsyncEngine) -> list[Any]:
    query = select(events).order_by(events.c.version)
    async with engine.connect() as conn:
        return list((await conn.execute(query)).all())
