"""Two `planapi serve` processes on one PostgreSQL: a write through A, read through B.

With the consistency token A's answer gave, B never answers from an older state, even with
the older answer in its cache; without it, B shows the write once the notification reached
it (polled here, never timed: the bound is measured in bench/staleness.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.queries import CREATE, update
from tests.e2e.test_two_processes import shared_database, two_servers
from tests.processes import Process
from tests.readings_fixtures import create_plan_input

__all__ = ["shared_database"]  # the fixture, for pytest

PLAN = "shared-2026"
TITLE = "query Title($id: ID!) { plan(id: $id) { version title } }"
LATEST_READING = """query Latest($id: ID!) {
  plan(id: $id) { node(nodeId: "kpi-1") { ... on Kpi { latest { period value } } } }
}"""
AMEND = """mutation Amend($input: AmendPlanInput!) {
  amendPlan(input: $input) {
    __typename ... on AmendmentApplied { plan { version } consistencyToken }
  }
}"""
RECORD = """mutation Record($input: RecordReadingsInput!) {
  recordReadings(input: $input) { __typename ... on ReadingsRecorded { consistencyToken } }
}"""
HEADER = "PlanAPI-Consistent-With"


async def post(
    server: Process, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=server.headers) as http:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers or {}
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def amend(server: Process, version: int) -> tuple[int, str]:
    given = {
        "planId": PLAN,
        "expectedVersion": version,
        "authority": "TDAG",
        "rationale": f"Step {version}",
        "changes": [update("p1", title=f"Step {version}")],
    }
    result = (await post(server, AMEND, input=given))["amendPlan"]
    assert result["__typename"] == "AmendmentApplied", result
    return result["plan"]["version"], result["consistencyToken"]


async def version_on(server: Process, token: str | None = None) -> int:
    headers = {HEADER: token} if token else None
    found: int = (await post(server, TITLE, headers, id=PLAN))["plan"]["version"]
    return found


async def test_with_the_token_the_other_process_never_answers_older(
    shared_database: dict[str, str], tmp_path: Path
) -> None:
    with two_servers(shared_database, tmp_path) as (a, b):
        await post(a, CREATE, input=create_plan_input(PLAN))
        assert await version_on(b) == 1  # B has it cached now
        version = 1
        for _ in range(10):
            version, token = await amend(a, version)
            assert await version_on(b, token) == version  # at once, every time

        reading = {"kpiId": "kpi-1", "period": "2026", "status": "FINAL", "value": "61.5"}
        recorded = await post(a, RECORD, input={"planId": PLAN, "readings": [reading]})
        token = recorded["recordReadings"]["consistencyToken"]
        latest = (await post(b, LATEST_READING, {HEADER: token}, id=PLAN))["plan"]["node"]
        assert latest["latest"] == {"period": "2026", "value": "61.5"}

        assert a.stop() == 0, a.output()
        assert b.stop() == 0, b.output()
        assert "Traceback" not in a.output() + b.output()


async def test_without_the_token_the_other_process_catches_up_by_itself(
    shared_database: dict[str, str], tmp_path: Path
) -> None:
    with two_servers(shared_database, tmp_path) as (a, b):
        await post(a, CREATE, input=create_plan_input(PLAN))
        assert await version_on(b) == 1
        version = 1
        for _ in range(5):
            version, _ = await amend(a, version)
            seen = []
            for _ in range(400):  # the notification's delay, then one catch-up
                seen.append(await version_on(b))
                if seen[-1] == version:
                    break
                await asyncio.sleep(0.025)
            assert seen[-1] == version, seen
            assert seen == sorted(seen)  # B never goes back
