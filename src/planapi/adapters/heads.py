"""The heads of the two logs in one statement: `max` of two primary keys, an index probe each."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.tables import events, reading_batches
from planapi.application.freshness import Heads

_HEADS = select(
    select(func.max(events.c.position)).scalar_subquery().label("position"),
    select(func.max(reading_batches.c.id)).scalar_subquery().label("batch"),
)


class SqlHeads:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def heads(self) -> Heads:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_HEADS)).one()
        return Heads(row.position or 0, row.batch or 0)
