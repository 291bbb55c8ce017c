"""Which search index a database gets: PostgreSQL's own full-text search, or FTS5 for SQLite."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.database import is_sqlite
from planapi.adapters.search_postgres import PostgresSearchIndex
from planapi.adapters.search_sqlite import SqliteSearchIndex
from planapi.application.ports import SearchIndex


def search_index(engine: AsyncEngine) -> SearchIndex:
    return SqliteSearchIndex() if is_sqlite(engine) else PostgresSearchIndex(engine)
