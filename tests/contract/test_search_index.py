"""The search index on both backends: versions indexed at the same time are each found, once;
on PostgreSQL the planner's statistics count every version's rows once indexing has returned
(they are refreshed after each insert's commit, one ANALYZE at a time)."""

from __future__ import annotations

import asyncio

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
