"""A database that drops connections or cannot be reached is answered as such: GraphQL errors
with `extensions.code` UNAVAILABLE (HTTP 503 when nothing else was answered), plain HTTP routes
503 with Retry-After, one WARNING line each and no traceback; a connection lost at COMMIT says
the outcome is unknown and to retry with the same idempotency key, which stores it once.

PostgreSQL cases run in a database of their own, so that terminating "every backend of this
database" cannot touch any other test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from planapi.adapters.database import create_engine
from planapi.adapters.failures import as_unavailable
from planapi.adapters.migrations import upgrade
from planapi.config import Settings
from tests.conftest import POSTGRES_URL
from tests.e2e.conftest import bearer, issue_token
from tests.e2e.queries import CREATE
from tests.processes import environment, serving, with_admin_token
from tests.readings_fixtures import PLAN_ID, create_plan_input
from tests.security.conftest import running

pytestmark = pytest.mark.postgres

SERVER = POSTGRES_URL.replace("postgresql+asyncpg", "postgresql")
AMEND = """
mutation Amend($input: AmendPlanInput!) {
  amendPlan(input: $input) { __typename ... on AmendmentApplied { plan { version } } }
}
"""
VERSION = f'{{ plan(id: "{PLAN_ID}") {{ version }} }}'
SUBSCRIBE = "subscription($planId: ID!) { planAmended(planId: $planId, after: 0) { version } }"


@pytest.fixture
async def own_database() -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A fresh, migrated PostgreSQL database and an outside connection to the server."""
    name = f"failures_{uuid.uuid4().hex[:10]}"
    outside = await asyncpg.connect(SERVER)
    await outside.execute(f"CREATE DATABASE {name}")
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    engine = create_engine(url)
    try:
        await upgrade(engine)
        await engine.dispose()
        yield url, outside
    finally:
        await engine.dispose()
        await outside.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        await outside.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await outside.close()


async def _terminate(outside: asyncpg.Connection, url: str, where: str = "true") -> int:
    # With a timeout, pg_terminate_backend waits until each backend has exited (PostgreSQL 14+):
    # without it, it only signals, and a backend still alive when a request draws its pooled
    # connection dies under that request a moment later.
    found = await outside.fetchval(
        "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
        f"WHERE datname = $1 AND pid <> pg_backend_pid() AND {where}",
        url.rsplit("/", 1)[1],
    )
    return int(found or 0)


@pytest.fixture
async def started(
    own_database: tuple[str, asyncpg.Connection],
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    url, _ = own_database
    settings = Settings(database_url=url, default_actor="tester", rate_limit_per_second=0)
    token = await issue_token(settings, "tester", "admin")
    async with running(settings) as app:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://planapi", headers=bearer(token), timeout=60
        ) as http:
            created = await http.post(
                "/graphql",
                json={"query": CREATE, "variables": {"input": create_plan_input(period_end=2600)}},
            )
            assert created.json()["data"]["createPlan"]["__typename"] == "PlanCreated"
            yield app, http


@contextlib.asynccontextmanager
async def _statements(url: str) -> AsyncIterator[AsyncConnection]:
    """A transaction on an engine of its own, disposed after: an engine left to the garbage
    collector leaves its pooled connection unclosed (a ResourceWarning at some later test)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            yield conn
    finally:
        await engine.dispose()


def _readings(request: int, count: int = 3_000) -> bytes:
    lines = (
        {"kpiId": "kpi-4", "period": f"{2026 + i // 12}-{i % 12 + 1:02d}", "status": "FINAL",
         "value": str(request), "source": {"integration": "t", "readingId": f"{request}-{i}"}}
        for i in range(count)
    )  # fmt: skip
    return "\n".join(json.dumps(line) for line in lines).encode()


def _amendment(version: int, title: str) -> dict[str, Any]:
    return {
        "planId": PLAN_ID,
        "expectedVersion": version,
        "authority": "TDAG",
        "rationale": "retitled",
        "changes": [{"updateNode": {"id": "p1", "title": title}}],
    }


def _judge(response: httpx.Response) -> str:
    """What a client learns from an answer: done, refused as invalid, or told to retry."""
    if response.status_code == 503:
        assert response.headers["retry-after"] == "2", response.headers
        body = response.json()
        codes = {e["extensions"]["code"] for e in body.get("errors", [])} or {body["error"]}
        assert codes <= {"UNAVAILABLE", "unavailable"}, body
        assert "retry" in (body.get("message") or body["errors"][0]["message"]).lower()
        return "retry"
    assert response.status_code == 200, (response.status_code, response.text[:300])
    body = response.json()
    for error in body.get("errors") or []:
        assert error["extensions"]["code"] == "UNAVAILABLE", error
    return "partial" if body.get("errors") else "done"


async def test_backends_terminated_under_load_are_told_to_retry_and_nothing_errors(
    own_database: tuple[str, asyncpg.Connection],
    started: tuple[Starlette, httpx.AsyncClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, outside = own_database
    _, http = started
    seen: Counter[str] = Counter()
    stop = time.monotonic() + 4.0
    caplog.set_level(logging.WARNING)

    async def ingest(worker: int) -> None:
        sent = 0
        while time.monotonic() < stop:
            sent += 1
            response = await http.post(
                "/ingest/readings",
                params={"planId": PLAN_ID},
                content=_readings(worker * 1000 + sent),
                headers={"Content-Type": "application/x-ndjson"},
            )
            seen["ingest " + _judge(response)] += 1

    async def read() -> None:
        while time.monotonic() < stop:
            seen["read " + _judge(await http.post("/graphql", json={"query": VERSION}))] += 1
            await asyncio.sleep(0)  # a read from memory never waits: let the others run

    async def amend() -> None:
        while time.monotonic() < stop:
            version = (await http.post("/graphql", json={"query": VERSION})).json()
            current = ((version.get("data") or {}).get("plan") or {}).get("version")
            if current is None:
                continue
            given = _amendment(current, f"T{current}")
            response = await http.post(
                "/graphql", json={"query": AMEND, "variables": {"input": given}}
            )
            seen["amend " + _judge(response)] += 1

    async def terminate() -> None:
        while time.monotonic() < stop:
            await asyncio.sleep(0.2)
            seen["terminated"] += await _terminate(outside, url)

    await asyncio.gather(ingest(1), ingest(2), read(), amend(), terminate())

    assert seen["terminated"] > 0, seen
    assert any(key.endswith("retry") for key in seen), seen  # the load did meet dead connections
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage()[:200] for r in errors]
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a lost connection"
    assert any("database unavailable" in r.getMessage() for r in caplog.records)
    # And the service is whole again at once.
    assert _judge(await http.post("/graphql", json={"query": VERSION})) == "done"
    # A verdict reads through the pool, where connections killed at the very end still sit:
    # they are replaced before use, so the first verdict after the terminations is the answer.
    verified = await http.post(
        "/graphql", json={"query": f'{{ verifyIntegrity(planId: "{PLAN_ID}") {{ ok }} }}'}
    )
    assert (verified.json().get("data") or {}).get("verifyIntegrity") == {"ok": True}, verified.text


async def test_a_database_refusing_connections_is_unavailable_on_every_route(
    own_database: tuple[str, asyncpg.Connection],
    started: tuple[Starlette, httpx.AsyncClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, outside = own_database
    _, http = started
    name = url.rsplit("/", 1)[1]
    await outside.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
    await _terminate(outside, url)
    caplog.set_level(logging.WARNING)

    # The latest version is held in memory: reads of it go to the database (and are told to
    # retry) once the heads' catch-up found it gone, within a poll or two.
    for _ in range(200):
        graphql = await http.post("/graphql", json={"query": VERSION})
        if graphql.status_code == 503:
            break
        await asyncio.sleep(0.05)
    ingest = await http.post(
        "/ingest/readings",
        params={"planId": PLAN_ID},
        content=_readings(1, 10),
        headers={"Content-Type": "application/x-ndjson"},
    )
    events = await http.get("/events", params={"after": "0"})
    document = await http.get(f"/plans/{PLAN_ID}/document")

    for response in (graphql, ingest, events, document):
        assert response.status_code == 503, (response.request.url, response.text[:300])
        assert response.headers["retry-after"] == "2"
    assert graphql.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert ingest.json()["error"] == "unavailable"
    assert "nothing was stored" in ingest.json()["message"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

    await outside.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    assert _judge(await http.post("/graphql", json={"query": VERSION})) == "done"


async def test_a_subscription_that_loses_its_database_is_told_it_is_unavailable(
    own_database: tuple[str, asyncpg.Connection], tmp_path: Path
) -> None:
    url, outside = own_database
    env = with_admin_token(environment(PLANAPI_DATABASE_URL=url))
    with serving(env, tmp_path / "api.log") as server:
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as http:
            given = {"query": CREATE, "variables": {"input": create_plan_input()}}
            created = await http.post("/graphql", json=given, timeout=60)
        assert created.json()["data"]["createPlan"]["__typename"] == "PlanCreated"
        async with connect(
            server.url.replace("http://", "ws://") + "/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
            additional_headers=server.headers,
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert await _message(ws) == {"type": "connection_ack"}
            payload = {"query": SUBSCRIBE, "variables": {"planId": PLAN_ID}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            first = await _message(ws)
            assert first["payload"]["data"]["planAmended"]["version"] == 1, first
            # Gone for good (no new connections either): the next read finds no database.
            await outside.execute(f"ALTER DATABASE {url.rsplit('/', 1)[1]} ALLOW_CONNECTIONS false")
            assert await _terminate(outside, url) > 0
            lost, complete = await _message(ws), await _message(ws)

    assert lost["type"] == "next", lost
    [error] = lost["payload"]["errors"]
    assert error["extensions"] == {"code": "UNAVAILABLE", "retryAfter": 2}, error
    assert "retry" in error["message"].lower()
    assert complete == {"id": "1", "type": "complete"}
    assert "database unavailable" in server.output()
    assert "Traceback" not in server.output()


async def _message(ws: ClientConnection) -> dict[str, Any]:
    """The next message that is not a ping (answered), within 20 s: never a hang."""
    async with asyncio.timeout(20):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if message["type"] != "ping":
                return message
            await ws.send(json.dumps({"type": "pong"}))


async def test_a_connection_lost_at_commit_says_retry_with_the_same_key_which_lands_once(
    own_database: tuple[str, asyncpg.Connection],
    started: tuple[Starlette, httpx.AsyncClient],
) -> None:
    url, outside = own_database
    _, http = started
    marker = f"commit-{uuid.uuid4().hex[:8]}"
    # A deferred trigger runs at COMMIT: it names its backend, then dawdles long enough to be
    # terminated there — the moment a client cannot know whether the change was stored.
    async with _statements(url) as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"PERFORM set_config('application_name', '{marker}', false); "
                "PERFORM pg_sleep(5); RETURN NULL; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON command_keys "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()"
            )
        )
    given = {**_amendment(1, "Cut off"), "idempotencyKey": "k-1"}

    async def terminate_at_commit() -> None:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if await _terminate(outside, url, f"application_name = '{marker}'"):
                return
        raise AssertionError("the commit was never seen")

    killer = asyncio.create_task(terminate_at_commit())
    response = await http.post("/graphql", json={"query": AMEND, "variables": {"input": given}})
    await killer

    assert response.status_code == 503, response.text
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "UNAVAILABLE", "retryAfter": 2, "outcomeUnknown": True}
    assert "same idempotency key" in error["message"]

    async with _statements(url) as conn:
        await conn.execute(text("DROP TRIGGER slow_commit ON command_keys"))
    retried = await http.post("/graphql", json={"query": AMEND, "variables": {"input": given}})
    again = await http.post("/graphql", json={"query": AMEND, "variables": {"input": given}})
    assert retried.json()["data"]["amendPlan"] == {
        "__typename": "AmendmentApplied",
        "plan": {"version": 2},
    }
    assert again.json() == retried.json()
    latest = await http.post("/graphql", json={"query": VERSION})
    assert latest.json()["data"]["plan"]["version"] == 2


async def test_what_counts_as_unavailable_comes_from_real_failures(tmp_path: Path) -> None:
    unreachable = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    missing_dir = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    healthy = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ok.db'}")
    found: list[Any] = []
    for engine, statement in (
        (unreachable, "SELECT 1"),
        (missing_dir, "SELECT 1"),
        (healthy, "SELECT * FROM no_such_table"),  # a bug, not an outage
    ):
        try:
            async with engine.connect() as conn:
                await conn.execute(text(statement))
        except Exception as error:  # classified below
            found.append(as_unavailable(error))
        finally:
            await engine.dispose()
    assert [item is not None for item in found] == [True, True, False]
