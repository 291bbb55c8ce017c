"""Verifying a long readings chain over HTTP while other requests go on (PostgreSQL, one uvicorn
worker), beside the same small query on an idle server in the same run.

N readings (BENCH_VERIFY_READINGS, default 200,000) are ingested through `/ingest/readings`,
then `verifyIntegrity(allReadings: true)` re-hashes them while one client sends a small query
(a named plan version's title, the response cache off so it is executed each time) in a loop:
its p50/p99 during the verification beside its p50/p99 with nothing else running.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time

import httpx

from bench.common import row, scratch_schema
from bench.readings import PER_NDJSON_REQUEST, plan_input, readings
from bench.server import admin_headers, running_server

READINGS = int(os.environ.get("BENCH_VERIFY_READINGS", "200000"))
IDLE_SECONDS = float(os.environ.get("BENCH_VERIFY_IDLE_SECONDS", "3"))
REPORTED = 566_000  # the chain of issue 11
SMALL = {"query": '{ plan(id: "bench", version: 1) { title } }'}
# BENCH_VERIFY_BEFORE=1: the document an older server (before issue 11, which always verified
# every reading) understands, to measure it with PYTHONPATH pointing at its source.
if os.environ.get("BENCH_VERIFY_BEFORE"):
    VERIFY = {
        "query": '{ verifyIntegrity(planId: "bench") { ok readings { ok checkedReadings } } }'
    }
else:
    VERIFY = {
        "query": 'query { verifyIntegrity(planId: "bench", allReadings: true) '
        "{ ok checkedAt readings { ok checkedReadings } } }"
    }


async def ingest(client: httpx.AsyncClient, count: int) -> None:
    created = await client.post(
        "/graphql",
        json={
            "query": "mutation($i: CreatePlanInput!) { createPlan(input: $i) { __typename } }",
            "variables": {"i": plan_input()},
        },
    )
    assert "PlanCreated" in created.text, created.text
    for _ in range(0, count, PER_NDJSON_REQUEST):
        body = "\n".join(json.dumps(r) for r in readings(PER_NDJSON_REQUEST)).encode()
        response = await client.post(
            "/ingest/readings?planId=bench",
            content=body,
            headers={"content-type": "application/x-ndjson"},
        )
        assert response.status_code == 200, response.text


async def small_queries(client: httpx.AsyncClient, until: asyncio.Event | float) -> list[float]:
    """Latencies of the small query, one after another, until the event is set or the time
    (seconds from now) has passed."""
    samples: list[float] = []
    deadline = time.perf_counter() + until if isinstance(until, float) else None
    while True:
        if isinstance(until, asyncio.Event) and until.is_set():
            return samples
        if deadline is not None and time.perf_counter() >= deadline:
            return samples
        start = time.perf_counter()
        response = await client.post("/graphql", json=SMALL)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text


async def verification(client: httpx.AsyncClient, done: asyncio.Event) -> tuple[float, int]:
    start = time.perf_counter()
    try:
        response = await client.post("/graphql", json=VERIFY)
    finally:
        done.set()
    elapsed = time.perf_counter() - start
    result = response.json()["data"]["verifyIntegrity"]
    assert result["ok"], result
    return elapsed, result["readings"]["checkedReadings"]


def p(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] * 1000 if len(samples) > 1 else 0.0


async def main() -> None:
    print(f"Verification under load: {READINGS:,} readings (PostgreSQL, one worker)")
    async with scratch_schema() as (_, schema):
        settings = {"response_cache_bytes": "0", "max_query_cost_admin": str(10**9)}
        with running_server(schema, **settings) as base:
            headers = admin_headers(schema)
            async with (
                httpx.AsyncClient(base_url=base, timeout=600, headers=headers) as verifier,
                httpx.AsyncClient(base_url=base, timeout=600, headers=headers) as reader,
            ):
                await ingest(verifier, READINGS)
                await small_queries(reader, 0.5)  # warm up
                alone, checked = await verification(verifier, asyncio.Event())
                idle = await small_queries(reader, IDLE_SECONDS)
                done = asyncio.Event()
                during, (loaded, _) = await asyncio.gather(
                    small_queries(reader, done), verification(verifier, done)
                )
    rate = checked / alone
    row("verifyIntegrity(allReadings), nothing else running", f"{alone:.2f} s", f"{rate:,.0f}/s")
    row(
        f"  extrapolated to {REPORTED:,} readings",
        f"{REPORTED / rate:.1f} s",
        "issue 11 measured 15.5 s",
    )
    row("  the same, with the small query looping beside it", f"{loaded:.2f} s")
    row(
        "small query p50 / p99, idle (baseline)",
        f"{p(idle, 50):.1f} / {p(idle, 99):.1f} ms",
        f"{len(idle)} requests",
    )
    row(
        "small query p50 / p99, during verification",
        f"{p(during, 50):.1f} / {p(during, 99):.1f} ms",
        f"{len(during)} requests, max {max(during) * 1000:.0f} ms",
        f"p99 {p(during, 99) / max(p(idle, 99), 1e-9):.1f}x idle",
    )


if __name__ == "__main__":
    asyncio.run(main())
