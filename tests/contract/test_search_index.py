"""The search index on both backends: versions indexed at the same time are each found, once;
on PostgreSQL the planner's statistics count every version's rows once indexing has returned
(they are refreshed after each insert's commit, one ANALYZE at a time, and each indexing
returns once one begun after its commit has run)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.database import is_sqlite
from planapi.adapters.search_index import search_index
from planapi.application.ports import SearchText

VERSIONS = 6
TEXTS = 40


def _texts(version: int) -> list[SearchText]:
    return [
        SearchText(f"n{i}", "KPI", "title", "en", f"broadband coverage {version} item {i}", i)
        for i in range(TEXTS)
    ]


async def test_versions_indexed_at_once_are_each_found_and_counted(engine: AsyncEngine) -> None:
    index = search_index(engine)

    # Each version twice at once, as two requests reading it first would: stored once.
    await asyncio.gather(
        *(index.index("p", v, _texts(v)) for v in range(1, VERSIONS + 1) for _ in range(2))
    )

    for version in range(1, VERSIONS + 1):
        assert await index.indexed("p", version)
        found, total = await index.search("p", version, "coverage", ["en"], [], 5)
        assert total == TEXTS
        assert all(str(version) in hit.text for hit, _ in found)
    if not is_sqlite(engine):
        async with engine.connect() as conn:
            estimated = await conn.scalar(
                text("SELECT reltuples FROM pg_class WHERE oid = 'search_texts'::regclass")
            )
        assert estimated == VERSIONS * TEXTS  # the last version's rows are in the statistics


async def test_each_indexing_returns_with_its_rows_in_the_statistics(engine: AsyncEngine) -> None:
    """A search right after its version was indexed is planned knowing that version's rows,
    however many other versions are being indexed at the same time."""
    if is_sqlite(engine):
        pytest.skip("SQLite's planner keeps no row estimates to refresh")
    index = search_index(engine)

    async def index_then_estimate(version: int) -> int:
        await index.index("p", version, _texts(version))
        plan = text(
            "EXPLAIN (FORMAT JSON) SELECT * FROM search_texts WHERE plan_id = 'p' AND version = :v"
        )
        async with engine.connect() as conn:
            found = await conn.scalar(plan, {"v": version})
        return int(found[0]["Plan"]["Plan Rows"])

    estimates = await asyncio.gather(*(index_then_estimate(v) for v in range(1, 4 * VERSIONS)))

    assert min(estimates) >= TEXTS // 2, estimates
