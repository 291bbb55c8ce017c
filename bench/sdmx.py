"""SDMX-CSV ingestion over HTTP on PostgreSQL, beside raw asyncpg COPY into a table of the same
shape (the physical limit on this machine) and the NDJSON route, all in the same run."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import httpx

from bench.common import row, scratch_schema
from bench.readings import KPIS, ndjson_requests, raw_copy
from bench.server import admin_headers, running_server

PER_REQUEST = 10_000
REQUESTS = 5
COUNTRIES = [
    "KEN",
    "NGA",
    "GHA",
    "FRA",
    "DEU",
    "BRA",
    "IND",
    "CHN",
    "EGY",
    "RUS",
    "ZAF",
    "ARG",
    "JPN",
    "AUS",
    "CAN",
    "MEX",
    "IDN",
    "TUR",
    "ITA",
    "ESP",
]
HEADER = (
    "STRUCTURE,STRUCTURE_ID,ACTION,INDICATOR,REF_AREA,SEX,URBANISATION,TIME_PERIOD,OBS_VALUE,"
    "OBS_STATUS\r\n"
)


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
    """Distinct observations: indicator x country x sex x urbanisation x month."""
    lines = [HEADER]
    for _ in range(count):
        n = next(_counter)
        month = n % 120
        series = n // 120
        country = COUNTRIES[series % len(COUNTRIES)]
        sex = "FM"[(series // len(COUNTRIES)) % 2]
        urbanisation = "UR"[(series // (2 * len(COUNTRIES))) % 2]
        indicator = (series // (4 * len(COUNTRIES))) % KPIS
        period = f"{2020 + month // 12}-M{month % 12 + 1:02d}"
        lines.append(
            f"dataflow,BENCH:DF(1.0),I,IND_{indicator},{country},{sex},{urbanisation},"
            f"{period},{n % 1000}.{n % 100:02d},A\r\n"
        )
    return "".join(lines).encode()


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
            headers={"content-type": "application/vnd.sdmx.data+csv; version=2.0.0"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["stored"] == PER_REQUEST, response.text
    return requests * PER_REQUEST / (time.perf_counter() - start)


async def main() -> None:
    print("SDMX-CSV ingestion (PostgreSQL, over HTTP to one uvicorn worker)")
    async with scratch_schema() as (_, schema):
        raw = await raw_copy(schema, 20, 1_000)
        row("raw asyncpg copy_records_to_table, 1,000/batch (baseline)", f"{raw:,.0f} rows/s")
        with running_server(schema) as base:
            headers = admin_headers(schema)
            async with httpx.AsyncClient(base_url=base, timeout=120, headers=headers) as client:
                created = await client.post(
                    "/graphql",
                    json={
                        "query": "mutation($i: CreatePlanInput!) { createPlan(input: $i) "
                        "{ __typename } }",
                        "variables": {"i": plan_input()},
                    },
                )
                assert "PlanCreated" in created.text, created.text
                ndjson = await ndjson_requests(client, REQUESTS)
                row(
                    "POST /ingest/readings NDJSON, 10,000/request (same run)",
                    f"{ndjson:,.0f} rows/s",
                    f"{ndjson / raw:.0%} of raw",
                )
                sdmx = await sdmx_requests(client, REQUESTS)
                row(
                    "POST /ingest/readings SDMX-CSV 2.0, 10,000/request",
                    f"{sdmx:,.0f} rows/s",
                    f"{sdmx / raw:.0%} of raw",
                    "target >= 50%: " + ("met" if sdmx >= 0.5 * raw else "NOT met"),
                )


if __name__ == "__main__":
    asyncio.run(main())
