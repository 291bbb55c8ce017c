"""Stateless replicas: two `planapi serve` processes on one fresh PostgreSQL schema, migrated by
`planapi migrate`. What one writes, the other reads at once given the write's consistency token
(docs/architecture.md, "Consistency"); their writes meet in the database, where the loser of a
race gets a VersionConflict."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from planapi.entrypoints.processes import free_port
from tests.conftest import drop_schema, make_database
from tests.e2e.queries import AMEND, add
from tests.processes import environment, planapi, run, with_admin_token

PLAN = "baku-2026"
READ = """
query Read($id: ID!, $version: Int) {
  plan(id: $id, version: $version) { version priorities { id title outcomes { id title } } }
}
"""


@pytest.fixture
async def fresh_postgres(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """The environment of a deployment on a PostgreSQL schema no migration has touched."""
    url, _, schema = await make_database("postgres", tmp_path)
    assert schema is not None
    try:
        yield environment(PLANAPI_DATABASE_URL=url, PLANAPI_DATABASE_SCHEMA=schema)
    finally:
        await drop_schema(schema)


# The consistency token of a write, to read it through the other process at once.
AMEND_WITH_TOKEN = AMEND.replace(
    "... on AmendmentApplied {", "... on AmendmentApplied {\n      consistencyToken"
)


async def graphql(
    http: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    headers = {"PlanAPI-Consistent-With": token} if token else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]


async def amend(http: httpx.AsyncClient, expected: int, title: str) -> dict[str, Any]:
    change = add("OUTCOME", title, parentId="priority-affordable-connectivity")
    given = {
        "planId": PLAN,
        "expectedVersion": expected,
        "authority": "TDAG",
        "rationale": "Agreed at TDAG",
        "changes": [change],
    }
    result: dict[str, Any] = (await graphql(http, AMEND_WITH_TOKEN, input=given))["amendPlan"]
    return result


def outcomes(plan: dict[str, Any]) -> set[str]:
    return {o["title"] for p in plan["priorities"] for o in p["outcomes"]}


@pytest.mark.postgres
async def test_two_api_processes_share_one_postgres(
    fresh_postgres: dict[str, str], tmp_path: Path
) -> None:
    env = fresh_postgres
    migrated = run(["migrate"], env)
    assert migrated.returncode == 0, migrated.stderr
    seeded = run(["seed", "baku"], env)
    assert seeded.returncode == 0, seeded.stderr
    env = with_admin_token(env)

    ports = [free_port(), free_port()]
    with (
        planapi(["serve", "--port", str(ports[0])], env, tmp_path / "a.log", port=ports[0]) as a,
        planapi(["serve", "--port", str(ports[1])], env, tmp_path / "b.log", port=ports[1]) as b,
    ):
        a.wait_healthy()
        b.wait_healthy()
        async with (
            httpx.AsyncClient(base_url=a.url, timeout=30, headers=a.headers) as one,
            httpx.AsyncClient(base_url=b.url, timeout=30, headers=b.headers) as other,
        ):
            # B holds version 1 in its cache before A amends.
            before = (await graphql(other, READ, id=PLAN))["plan"]
            assert before["version"] == 1

            applied = await amend(one, 1, "Written through A")
            assert applied["__typename"] == "AmendmentApplied"
            assert applied["plan"]["version"] == 2

            # B reads the new version at once with A's token; its cached version 1 is still 1.
            latest = (await graphql(other, READ, applied["consistencyToken"], id=PLAN))["plan"]
            assert latest["version"] == 2
            assert "Written through A" in outcomes(latest)
            assert (await graphql(other, READ, id=PLAN, version=1))["plan"] == before

            # B, still expecting version 1, is told the plan moved on.
            stale = await amend(other, 1, "Written through B")
            assert stale["__typename"] == "VersionConflict"
            assert (stale["expectedVersion"], stale["actualVersion"]) == (1, 2)

            # A race across the two processes: exactly one wins version 3.
            raced = await asyncio.gather(amend(one, 2, "Race A"), amend(other, 2, "Race B"))
            assert sorted(r["__typename"] for r in raced) == ["AmendmentApplied", "VersionConflict"]
            loser = next(r for r in raced if r["__typename"] == "VersionConflict")
            assert loser["actualVersion"] == 3
            winner = next(r for r in raced if r["__typename"] == "AmendmentApplied")
            token = winner["consistencyToken"]
            final = [(await graphql(h, READ, token, id=PLAN))["plan"] for h in (one, other)]
            assert final[0] == final[1]
            assert final[0]["version"] == 3

        assert a.stop() == 0
        assert b.stop() == 0

    verified = run(["verify", PLAN], env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
