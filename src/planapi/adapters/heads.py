"""The heads of the two logs in one statement: `max` of two primary keys, an index probe each;
and what was committed after a pair of heads, per stream and per plan, in one statement too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CompoundSelect, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.tables import events, reading_batches
from planapi.application.freshness import Heads
from planapi.application.ports import HeadChanges

_HEADS = select(
    select(func.max(events.c.position)).scalar_subquery().label("position"),
    select(func.max(reading_batches.c.id)).scalar_subquery().label("batch"),
)


def _changes(position: int, batch_id: int) -> CompoundSelect[Any]:
    # One statement, so one snapshot for both logs. Each part walks its primary key from the
    # given head: only what is new is read.
    versions = (
        select(
            literal("e").label("kind"),
            events.c.stream_id.label("name"),
            func.max(events.c.version).label("version"),
            func.max(events.c.position).label("head"),
        )
        .where(events.c.position > position)
        .group_by(events.c.stream_id)
    )
    batches = (
        select(
            literal("b").label("kind"),
            reading_batches.c.plan_id.label("name"),
            literal(0).label("version"),
            func.max(reading_batches.c.id).label("head"),
        )
        .where(reading_batches.c.id > batch_id)
        .group_by(reading_batches.c.plan_id)
    )
    return union_all(versions, batches)


class SqlHeads:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def heads(self) -> Heads:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_HEADS)).one()
        return Heads(row.position or 0, row.batch or 0)

    async def changes_after(self, position: int, batch_id: int) -> HeadChanges:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(_changes(position, batch_id))).all()
        versions: dict[str, int] = {}
        batches: dict[str, int] = {}
        for row in rows:
            if row.kind == "e":
                versions[row.name] = int(row.version)
                position = max(position, int(row.head))
            else:
                batches[row.name] = int(row.head)
                batch_id = max(batch_id, int(row.head))
        return HeadChanges(versions, batches, position, batch_id)
