"""Verifying stored batches of readings: each re-hashed with its readings, chained in order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncResult

from planapi.adapters.hashing import GENESIS
from planapi.adapters.reading_hashes import batch_break
from planapi.adapters.tables import reading_batches, readings
from planapi.application.pacing import Pacer
from planapi.application.ports import ChainBreak, ReadingsIntegrity


async def verify_batches(engine: AsyncEngine, plan_id: str | None = None) -> ReadingsIntegrity:
    """The whole chain of batches (`plan_id` None), or only the plan's batches."""
    batches, members = _verified_rows(plan_id)
    checked_batches = checked_readings = 0
    prev_hash = GENESIS
    pacer = Pacer()
    async with engine.connect() as conn:
        rows = _each(await conn.stream(members.execution_options(yield_per=5_000)))
        pending = await anext(rows, None)
        async for batch in _each(await conn.stream(batches.execution_options(yield_per=500))):
            own: list[Any] = []
            while pending is not None and pending.batch_id == batch.id:
                own.append(pending)
                pending = await anext(rows, None)
                await pacer.tick()
            if plan_id is None:
                before, expected = prev_hash, checked_batches + 1
            else:  # the plan's batches only: each chained to the stored batch before it
                before = GENESIS if batch.before_hash is None else bytes(batch.before_hash)
                expected = batch.id
            found = await batch_break(batch, own, before, expected, pacer)
            if found is not None:
                return ReadingsIntegrity(checked_batches, checked_readings, prev_hash, found)
            checked_batches += 1
            checked_readings += len(own)
            prev_hash = bytes(batch.hash)
        if pending is not None:
            found = ChainBreak(
                pending.batch_id,
                pending.id,
                "inserted",
                f"reading {pending.id} belongs to no recorded batch",
            )
            return ReadingsIntegrity(checked_batches, checked_readings, prev_hash, found)
    head = prev_hash if checked_batches else None
    return ReadingsIntegrity(checked_batches, checked_readings, head, None)


async def _each(result: AsyncResult[Any]) -> AsyncIterator[Any]:
    """The rows of a streamed result, a chunk fetched at a time: iterating the result itself
    costs a greenlet switch per row, more than re-hashing the row."""
    async for chunk in result.partitions():
        for row in chunk:
            yield row


def _verified_rows(plan_id: str | None) -> tuple[Any, Any]:
    """The batches and their readings to verify, in order: all, or one plan's."""
    if plan_id is None:
        batches = select(reading_batches).order_by(reading_batches.c.id)
        return batches, select(readings).order_by(readings.c.batch_id, readings.c.id)
    earlier = reading_batches.alias("earlier")
    before = (
        select(earlier.c.hash)
        .where(earlier.c.id < reading_batches.c.id)
        .order_by(earlier.c.id.desc())
        .limit(1)
        .scalar_subquery()
        .label("before_hash")
    )
    own = reading_batches.c.plan_id == plan_id
    batches = select(reading_batches, before).where(own).order_by(reading_batches.c.id)
    ids = select(reading_batches.c.id).where(own)
    members = (
        select(readings)
        .where(readings.c.batch_id.in_(ids))
        .order_by(readings.c.batch_id, readings.c.id)
    )
    return batches, members
