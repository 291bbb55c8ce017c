"""Two `planapi serve` processes on one PostgreSQL: a change made through one reaches a
subscriber connected to the other (graphql-transport-ws), through LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.conftest import drop_schema, make_database
from tests.e2e.queries import AMEND, CREATE, update
from tests.processes import Process, environment, run, serving, with_admin_token
from tests.readings_fixtures import create_plan_input

WAIT = 5.0  # "within a few seconds"
PLAN_AMENDED = """
subscription($planId: ID!, $after: Int) {
  planAmended(planId: $planId, after: $after) { planId version position amendment { rationale } }
}
"""
READINGS_RECORDED = """
subscription($kpiIds: [ID!]!) {
  readingsRecorded(kpiIds: $kpiIds) { batchId planId readings { kpiId period value } }
}
"""
RECORD = """
mutation($input: RecordReadingsInput!) {
  recordReadings(input: $input) { __typename ... on ReadingsRecorded { batchId } }
}
"""


@pytest.fixture
async def shared_database(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """A fresh schema, migrated by `planapi migrate`; the environment that points at it."""
    url, _, schema = await make_database("postgres", tmp_path)
    assert schema is not None
    env = environment(
        PLANAPI_DATABASE_URL=url, PLANAPI_DATABASE_SCHEMA=schema, PLANAPI_DEFAULT_ACTOR="writer"
    )
    try:
        migrated = run(["migrate"], env)
        assert migrated.returncode == 0, migrated.stderr
        yield with_admin_token(env, "writer")
    finally:
        await drop_schema(schema)


@contextmanager
def two_servers(env: dict[str, str], logs: Path) -> Iterator[tuple[Process, Process]]:
    with serving(env, logs / "a.log") as a, serving(env, logs / "b.log") as b:
        yield a, b


async def post(server: Process, query: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=server.headers) as http:
        response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]


async def amend(server: Process, plan_id: str, version: int, title: str) -> None:
    given = {
        "planId": plan_id,
        "expectedVersion": version,
        "authority": "TDAG",
        "rationale": f"Retitled {title}",
        "changes": [update("p1", title=title)],
    }
    result = (await post(server, AMEND, input=given))["amendPlan"]
    assert result["__typename"] == "AmendmentApplied", result


class Subscriber:
    """One graphql-transport-ws subscription, message by message."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def next(self) -> dict[str, Any]:
        async with asyncio.timeout(WAIT):
            while True:
                message = json.loads(await self.ws.recv())
                if message["type"] == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                    continue
                assert message["type"] == "next", message
                assert "errors" not in message["payload"], message
                data: dict[str, Any] = message["payload"]["data"]
                return data


@asynccontextmanager
async def subscribed(server: Process, query: str, **variables: Any) -> AsyncIterator[Subscriber]:
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        payload = {"query": query, "variables": variables}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        yield Subscriber(ws)


async def test_an_amendment_through_one_process_reaches_a_subscriber_of_the_other(
    shared_database: dict[str, str], tmp_path: Path
) -> None:
    with two_servers(shared_database, tmp_path) as (a, b):
        created = await post(a, CREATE, input=create_plan_input("shared-2026"))
        assert created["createPlan"]["__typename"] == "PlanCreated", created

        # `after: 0`: version 1 arrives first, which also shows that B is listening.
        async with subscribed(b, PLAN_AMENDED, planId="shared-2026", after=0) as on_b:
            assert (await on_b.next())["planAmended"]["version"] == 1
            started = time.monotonic()
            await amend(a, "shared-2026", 1, "Through A")
            received = (await on_b.next())["planAmended"]
            elapsed = time.monotonic() - started

        assert received["version"] == 2, received
        assert received["amendment"] == {"rationale": "Retitled Through A"}
        assert elapsed < WAIT, elapsed
        position = received["position"]

        # B's client went away; two more amendments go through A meanwhile.
        await amend(a, "shared-2026", 2, "Three")
        await amend(a, "shared-2026", 3, "Four")
        async with subscribed(b, PLAN_AMENDED, planId="shared-2026", after=position) as on_b:
            missed = [(await on_b.next())["planAmended"]["version"] for _ in range(2)]
            await amend(a, "shared-2026", 4, "Five")
            live = (await on_b.next())["planAmended"]

        assert missed == [3, 4]
        assert live["version"] == 5

        assert a.stop() == 0, a.output()
        assert b.stop() == 0, b.output()


async def test_readings_recorded_through_one_process_reach_a_subscriber_of_the_other(
    shared_database: dict[str, str], tmp_path: Path
) -> None:
    with two_servers(shared_database, tmp_path) as (a, b):
        await post(a, CREATE, input=create_plan_input("shared-2026"))
        async with subscribed(b, READINGS_RECORDED, kpiIds=["kpi-2"]) as on_b:
            await asyncio.sleep(0.5)  # no `after`: only what commits once B listens
            batch = {
                "planId": "shared-2026",
                "readings": [
                    {"kpiId": "kpi-1", "period": "2026", "status": "FINAL", "value": "61"},
                    {"kpiId": "kpi-2", "period": "2026-Q1", "status": "FINAL", "value": "4.5"},
                ],
            }
            recorded = (await post(a, RECORD, input=batch))["recordReadings"]
            received = (await on_b.next())["readingsRecorded"]

        assert received == {
            "batchId": recorded["batchId"],
            "planId": "shared-2026",
            "readings": [{"kpiId": "kpi-2", "period": "2026-Q1", "value": "4.5"}],
        }


async def test_a_server_stopping_closes_its_subscriptions(
    shared_database: dict[str, str], tmp_path: Path
) -> None:
    with two_servers(shared_database, tmp_path) as (a, b):
        await post(a, CREATE, input=create_plan_input("shared-2026"))
        async with subscribed(b, PLAN_AMENDED, planId="shared-2026", after=0) as on_b:
            await on_b.next()
            stopping = asyncio.get_running_loop().run_in_executor(None, b.stop)
            async with asyncio.timeout(20):
                await on_b.ws.wait_closed()
            assert await stopping == 0, b.output()
        assert "Traceback" not in b.output(), b.output()
