"""Readings ingestion and series reads over HTTP on PostgreSQL, beside raw asyncpg COPY into a
table of the same shape (the physical limit on this machine)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import itertools
import json
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx

from bench.common import ASYNCPG_DSN, row, scratch_schema
from bench.server import admin_headers, running_server

KPIS = 20
BATCHES = 20
PER_GRAPHQL_BATCH = 1_000
PER_NDJSON_REQUEST = 10_000
NDJSON_REQUESTS = 5
STORED_FOR_READS = 100_000

RECORD = """
mutation Record($input: RecordReadingsInput!) {
  recordReadings(input: $input) {
    __typename
    ... on ReadingsRecorded { stored duplicates }
    ... on UserError { message }
  }
}
"""
SERIES = """
query Series($from: String, $to: String) {
  plan(id: "bench") { node(nodeId: "kpi-0") { ... on Kpi {
    readings(from: $from, to: $to, disaggregation: []) { period value recordedAt }
  } } }
}
"""


def plan_input() -> dict[str, Any]:
    changes: list[dict[str, Any]] = [
        {"addNode": {"kind": "PRIORITY", "id": "p", "title": "P"}},
        {"addNode": {"kind": "OUTCOME", "id": "o", "parentId": "p", "title": "O"}},
    ]
    for k in range(KPIS):
        changes.append(
            {
                "addNode": {
                    "kind": "KPI",
                    "id": f"kpi-{k}",
                    "parentId": "o",
                    "title": f"KPI {k}",
                    "measure": "UNIT",
                    "direction": "INCREASE",
                    "dimensions": [{"name": "region", "values": [f"r{i}" for i in range(50)]}],
                }
            }
        )
    return {
        "id": "bench",
        "title": "Bench",
        "periodStart": 2026,
        "periodEnd": 2029,
        "authority": "WTDC",
        "rationale": "bench",
        "changes": changes,
    }


_counter = itertools.count()


def readings(count: int) -> list[dict[str, Any]]:
    """Distinct series/periods: KPI x region x month (the plan's 48), so nothing repeats within
    a batch."""
    out = []
    for _ in range(count):
        n = next(_counter)
        month = n % 48
        out.append(
            {
                "kpiId": f"kpi-{(n // 48) % KPIS}",
                "period": f"{2026 + month // 12}-{month % 12 + 1:02d}",
                "status": "FINAL",
                "value": f"{n % 1000}.{n % 100:02d}",
                "disaggregation": [{"dimension": "region", "value": f"r{(n // (48 * KPIS)) % 50}"}],
                "source": {"integration": "bench", "readingId": f"r{n}"},
            }
        )
    return out


async def raw_copy(schema: str, batches: int, per_batch: int) -> float:
    conn = await asyncpg.connect(ASYNCPG_DSN, server_settings={"search_path": schema})
    try:
        await conn.execute("CREATE TABLE raw_readings (LIKE readings INCLUDING ALL)")
        columns = [
            "batch_id",
            "plan_id",
            "kpi_id",
            "series",
            "period",
            "period_start",
            "period_end",
            "status",
            "value",
            "numerator",
            "denominator",
            "text",
            "source",
            "source_reading_id",
            "note",
            "recorded_at",
            "content_hash",
        ]
        now = dt.datetime.now(dt.UTC)
        start = time.perf_counter()
        for b in range(-1, batches):  # batch -1 warms up: not timed
            if b == 0:
                start = time.perf_counter()
            records = [
                (
                    b,
                    "bench",
                    f"kpi-{i % KPIS}",
                    "region=r1",
                    "2027-03",
                    dt.date(2027, 3, 1),
                    dt.date(2027, 3, 31),
                    "FINAL",
                    str(i),
                    None,
                    None,
                    None,
                    "bench",
                    f"r{b}-{i}",
                    None,
                    now,
                    hashlib.sha256(str(i).encode()).digest(),
                )
                for i in range(per_batch)
            ]
            async with conn.transaction():
                await conn.copy_records_to_table("raw_readings", records=records, columns=columns)
        return batches * per_batch / (time.perf_counter() - start)
    finally:
        await conn.close()


async def graphql_batches(client: httpx.AsyncClient, batches: int) -> float:
    """Rows/s of `batches` recordReadings requests, after one that warms up (not timed)."""
    payloads = [
        {
            "query": RECORD,
            "variables": {
                "input": {
                    "planId": "bench",
                    "idempotencyKey": f"g{b}-{time.time_ns()}",
                    "readings": readings(PER_GRAPHQL_BATCH),
                }
            },
        }
        for b in range(batches + 1)
    ]
    start = time.perf_counter()
    for b, payload in enumerate(payloads):
        if b == 1:
            start = time.perf_counter()
        response = await client.post("/graphql", json=payload)
        result = response.json()["data"]["recordReadings"]
        assert result["__typename"] == "ReadingsRecorded", result
    return batches * PER_GRAPHQL_BATCH / (time.perf_counter() - start)


async def ndjson_requests(client: httpx.AsyncClient, requests: int, warm_up: bool = True) -> float:
    """Rows/s of `requests` NDJSON requests, after one that warms up (not timed)."""
    bodies = [
        "\n".join(json.dumps(r) for r in readings(PER_NDJSON_REQUEST)).encode()
        for _ in range(requests + warm_up)
    ]
    start = time.perf_counter()
    for n, body in enumerate(bodies):
        if n == int(warm_up):
            start = time.perf_counter()
        response = await client.post(
            "/ingest/readings?planId=bench",
            content=body,
            headers={"content-type": "application/x-ndjson"},
        )
        assert response.status_code == 200, response.text
    return requests * PER_NDJSON_REQUEST / (time.perf_counter() - start)


@asynccontextmanager
async def beside_raw_copy(
    plan: dict[str, Any], src: str | None = None
) -> AsyncIterator[tuple[float, httpx.AsyncClient]]:
    """Raw COPY's rate into a scratch schema (printed: the baseline of the figures that follow),
    then a server on that schema holding `plan` (running `src`'s planapi if given), and an
    admin client of it."""
    async with scratch_schema() as (_, schema):
        raw = await raw_copy(schema, BATCHES, PER_GRAPHQL_BATCH)
        row("raw asyncpg copy_records_to_table, 1,000/batch (baseline)", f"{raw:,.0f} rows/s")
        with running_server(schema, src) as base:
            headers = admin_headers(schema)
            async with httpx.AsyncClient(base_url=base, timeout=120, headers=headers) as client:
                created = await client.post(
                    "/graphql",
                    json={
                        "query": "mutation($i: CreatePlanInput!) { createPlan(input: $i) "
                        "{ __typename } }",
                        "variables": {"i": plan},
                    },
                )
                assert "PlanCreated" in created.text, created.text
                yield raw, client


def beside_raw(name: str, rate: float, raw: float, target: float | None = None) -> None:
    """A row of rows/s, as a share of raw COPY's (and whether it meets `target`, a share)."""
    verdict = "" if target is None else f"target >= {target:.0%}: "
    if target is not None:
        verdict += "met" if rate >= target * raw else "NOT met"
    row(name, f"{rate:,.0f} rows/s", f"{rate / raw:.0%} of raw", verdict)


async def main() -> None:
    print("Readings (PostgreSQL, over HTTP to one uvicorn worker)")
    async with beside_raw_copy(plan_input()) as (raw, client):
        ours = await graphql_batches(client, BATCHES)
        beside_raw("recordReadings over HTTP, 1,000/batch", ours, raw, target=0.25)
        bulk = await ndjson_requests(client, NDJSON_REQUESTS)
        beside_raw("POST /ingest/readings NDJSON, 10,000/request", bulk, raw, target=0.5)
        stored = (BATCHES + 1) * PER_GRAPHQL_BATCH + (NDJSON_REQUESTS + 1) * PER_NDJSON_REQUEST
        while stored < STORED_FOR_READS:
            await ndjson_requests(client, 1, warm_up=False)
            stored += PER_NDJSON_REQUEST
        # One KPI's 5-year quarterly total series, with corrections mixed in.
        quarterly = [
            {
                "kpiId": "kpi-0",
                "period": f"{y}-Q{q}",
                "status": "FINAL",
                "value": f"{y - 2000}.{q}{c}",
            }
            for c in range(3)
            for y in range(2025, 2030)
            for q in range(1, 5)
        ]
        for c in range(3):
            await client.post(
                "/graphql",
                json={
                    "query": RECORD,
                    "variables": {
                        "input": {
                            "planId": "bench",
                            "readings": quarterly[c * 20 : (c + 1) * 20],
                        }
                    },
                },
            )
        samples = []
        for _ in range(300):
            start = time.perf_counter()
            response = await client.post(
                "/graphql",
                json={"query": SERIES, "variables": {"from": "2025", "to": "2029"}},
            )
            samples.append(time.perf_counter() - start)
            assert len(response.json()["data"]["plan"]["node"]["readings"]) == 20
        p50 = statistics.median(samples[20:]) * 1000
        row(
            f"one KPI's 5-year quarterly series ({stored:,} stored)",
            f"{p50:.1f} ms p50",
            "",
            "target <= 10 ms: " + ("met" if p50 <= 10 else "NOT met"),
        )


if __name__ == "__main__":
    asyncio.run(main())
