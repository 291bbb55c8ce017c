"""SDMX-CSV ingestion over HTTP on PostgreSQL, beside raw asyncpg COPY into a table of the same
shape (the physical limit on this machine) and the NDJSON route, all in the same run.

`BENCH_BASE_SRC=/path/to/other/src` runs BENCH_ROUNDS rounds, each measuring the server of that
tree and then this tree's, each in a fresh schema beside its own raw COPY: the before and after
of a change in one run."""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import time
from typing import Any

import httpx
from tests.sdmx_messages import COUNTRIES, MEDIA_TYPE, sdmx_csv

from bench.readings import KPIS, beside_raw, beside_raw_copy, ndjson_requests

PER_REQUEST = 10_000
REQUESTS = 5
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))


def plan_input() -> dict[str, Any]:
    """The readings benchmark's KPIs (so NDJSON can run beside), plus SDMX-fed ones."""
    from bench.readings import plan_input as readings_plan

    plan = readings_plan()
    for k in range(KPIS):
        plan["changes"].append(
            {
                "addNode": {
                    "kind": "KPI",
                    "id": f"sdmx-{k}",
                    "parentId": "o",
                    "title": f"SDMX KPI {k}",
                    "measure": "UNIT",
                    "dimensions": [
                        {"name": "country", "codeList": "ISO_3166_1_ALPHA3"},
                        {"name": "sex", "values": ["F", "M"]},
                        {"name": "urbanisation", "values": ["U", "R"]},
                    ],
                    "references": [
                        {"vocabulary": "OTHER", "code": f"SDMX:IND_{k}", "uri": "BENCH:DF(1.0)"}
                    ],
                }
            }
        )
    return plan


_counter = itertools.count()


def message(count: int) -> bytes:
    """Distinct observations: indicator x country x sex x urbanisation x month of the plan's
    period, 2026-2029 (76,800 of them; a reading outside the period is refused)."""
    rows = []
    for _ in range(count):
        n = next(_counter)
        month = n % 48
        series = n // 48
        country = COUNTRIES[series % len(COUNTRIES)]
        sex = "FM"[(series // len(COUNTRIES)) % 2]
        urbanisation = "UR"[(series // (2 * len(COUNTRIES))) % 2]
        indicator = (series // (4 * len(COUNTRIES))) % KPIS
        period = f"{2026 + month // 12}-M{month % 12 + 1:02d}"
        value = f"{n % 1000}.{n % 100:02d}"
        rows.append((f"IND_{indicator}", country, sex, urbanisation, period, value))
    return sdmx_csv("BENCH:DF(1.0)", rows)


async def sdmx_requests(client: httpx.AsyncClient, requests: int) -> float:
    """Rows/s of `requests` SDMX-CSV requests, after one that warms up (not timed)."""
    bodies = [message(PER_REQUEST) for _ in range(requests + 1)]
    start = time.perf_counter()
    for n, body in enumerate(bodies):
        if n == 1:
            start = time.perf_counter()
        response = await client.post(
            "/ingest/readings?planId=bench",
            content=body,
            headers={"content-type": MEDIA_TYPE},
        )
        assert response.status_code == 200, response.text
        assert response.json()["stored"] == PER_REQUEST, response.text
    return requests * PER_REQUEST / (time.perf_counter() - start)


async def main() -> None:
    print("SDMX-CSV ingestion (PostgreSQL, over HTTP to one uvicorn worker)")
    base = os.environ.get("BENCH_BASE_SRC")
    if base:
        await _before_after(base)
        return
    async with beside_raw_copy(plan_input()) as (raw, client):
        ndjson = await ndjson_requests(client, REQUESTS)
        beside_raw("POST /ingest/readings NDJSON, 10,000/request (same run)", ndjson, raw)
        sdmx = await sdmx_requests(client, REQUESTS)
        beside_raw("POST /ingest/readings SDMX-CSV 2.0, 10,000/request", sdmx, raw, target=0.5)


async def _before_after(base: str) -> None:
    """Rounds of (base tree, this tree), each beside its own raw COPY; then the medians."""
    found: dict[str, list[tuple[float, float, float]]] = {"base": [], "this": []}
    for _ in range(ROUNDS):  # interleaved: the load drifts alike for both
        for name, src in (("base", base), ("this", None)):
            print(f"  -- {name} --")
            async with beside_raw_copy(plan_input(), src) as (raw, client):
                ndjson = await ndjson_requests(client, REQUESTS)
                beside_raw("NDJSON, 10,000/request", ndjson, raw)
                sdmx = await sdmx_requests(client, REQUESTS)
                beside_raw("SDMX-CSV 2.0, 10,000/request", sdmx, raw, target=0.5)
                found[name].append((raw, ndjson, sdmx))
    for name, rounds in found.items():
        raw, ndjson, sdmx = (statistics.median(r[i] for r in rounds) for i in range(3))
        ratios = ", ".join(f"{r[1] / r[0]:.0%}/{r[2] / r[0]:.0%}" for r in rounds)
        print(
            f"  {name}: raw {raw:,.0f}, NDJSON {ndjson:,.0f}, SDMX {sdmx:,.0f} rows/s (medians); "
            f"NDJSON/SDMX of raw per round: {ratios}"
        )


if __name__ == "__main__":
    asyncio.run(main())
