"""The total series of a plan's readings after a batch, with the head it was read at."""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.reading_rows import COLUMNS, reading_of_values
from planapi.adapters.tables import reading_batches, readings
from planapi.domain.readings import Reading

_HEAD = select(func.coalesce(func.max(reading_batches.c.id), 0).label("head")).subquery()


class SqlTotalSeries:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def total_series(self, plan_id: str, after_batch: int) -> tuple[int, list[Reading]]:
        # One statement, so the head and the rows come from one snapshot; the outer join
        # keeps the head when no reading follows it. A range of (plan_id, series, batch_id).
        wanted = and_(
            readings.c.plan_id == plan_id,
            readings.c.series == "",
            readings.c.batch_id > after_batch,
            readings.c.batch_id <= _HEAD.c.head,
        )
        statement = (
            select(_HEAD.c.head, *COLUMNS)
            .select_from(_HEAD.outerjoin(readings, wanted))
            .order_by(readings.c.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        head = int(rows[0][0]) if rows else 0
        return head, [reading_of_values(row[1:]) for row in rows if row[1] is not None]
