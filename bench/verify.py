"""Verifying a long hash chain on PostgreSQL, beside hashlib alone over the same bytes.

The chain is written straight into the events table (COPY) with the same hashing code the
store uses, so a million events take seconds to set up rather than minutes of amendments.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import time

import asyncpg

from bench.common import ASYNCPG_DSN, row, scratch_schema
from planapi.adapters.clock import SystemClock
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.hashing import GENESIS, canonical, canonical_text, event_hash_of_text

EVENTS = int(os.environ.get("BENCH_VERIFY_EVENTS", "1000000"))
STREAM = "plan:verify-bench"
COLUMNS = ["stream_id", "version", "type", "schema_version", "data", "meta", "recorded_at",
           "prev_hash", "hash"]  # fmt: skip


def chain(count: int) -> list[tuple[object, ...]]:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    meta = canonical_text(
        {
            "actor": "bench",
            "authority": "TDAG",
            "rationale": "bench",
            "reference": None,
            "effective_from": None,
        }
    )
    rows: list[tuple[object, ...]] = []
    prev = GENESIS
    for version in range(1, count + 1):
        data = canonical_text(
            {
                "changes": [
                    {"type": "NodeUpdated", "node_id": "p", "values": {"title": f"Title {version}"}}
                ]
            }
        )
        recorded_at = start + dt.timedelta(milliseconds=version)
        digest = event_hash_of_text(
            prev,
            stream_id=STREAM,
            version=version,
            type="PlanAmended",
            schema_version=1,
            data=data,
            meta=meta,
            recorded_at=recorded_at,
        )
        rows.append((STREAM, version, "PlanAmended", 1, data, meta, recorded_at, prev, digest))
        prev = digest
    return rows


def hashlib_alone(rows: list[tuple[object, ...]]) -> float:
    """Only the hashing: the same bytes, already in memory."""
    start = time.perf_counter()
    prev = GENESIS
    for stream, version, type_, schema, data, meta, recorded_at, _, _ in rows:
        digest = hashlib.sha256(prev)
        digest.update(
            canonical(
                [stream, version, type_, schema, recorded_at.isoformat(timespec="microseconds")]
            )
        )  # type: ignore[attr-defined]
        digest.update(b"\x00" + data.encode() + b"\x00" + meta.encode())  # type: ignore[attr-defined]
        prev = digest.digest()
    return len(rows) / (time.perf_counter() - start)


async def copy_chain(schema: str, rows: list[tuple[object, ...]]) -> None:
    """The rows straight into the events table of `schema` (COPY)."""
    conn = await asyncpg.connect(ASYNCPG_DSN, server_settings={"search_path": schema})
    try:
        await conn.copy_records_to_table("events", records=rows, columns=COLUMNS)
        await conn.execute("ANALYZE events")
    finally:
        await conn.close()


async def main() -> None:
    print(f"Verifying a chain of {EVENTS:,} events (PostgreSQL)")
    rows = chain(EVENTS)
    async with scratch_schema() as (engine, schema):
        await copy_chain(schema, rows)
        baseline = hashlib_alone(rows)
        store = SqlEventStore(engine, SystemClock())
        start = time.perf_counter()
        report = await store.verify(STREAM)
        ours = report.checked / (time.perf_counter() - start)
        assert report.ok, report
        assert report.checked == EVENTS, report
    row("hashlib alone on the same bytes (baseline)", f"{baseline:,.0f} events/s")
    row(
        "planapi verify (read from the table + re-hash)",
        f"{ours:,.0f} events/s",
        f"{ours / baseline:.0%} of hashlib alone",
        "target >= 200,000/s: " + ("met" if ours >= 200_000 else "NOT met"),
    )


if __name__ == "__main__":
    asyncio.run(main())
