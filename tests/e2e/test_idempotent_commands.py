"""`amendPlan` and `createPlan` take an optional `idempotencyKey`: a client cut off after the
commit retries with the same key and input and gets the original answer, with no new version —
after a restart too, and from another app on the same database; the same key with other input
is refused (`IdempotencyKeyReused`); of requests racing with one key exactly one lands."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.config import Settings
from planapi.entrypoints.asgi import create_app
from tests.e2e.conftest import bearer, issue_token
from tests.e2e.queries import AMEND, CREATE, update
from tests.e2e.test_two_processes import post, shared_database, two_servers
from tests.readings_fixtures import PLAN_ID, create_plan_input

__all__ = ["shared_database"]


@asynccontextmanager
async def app_client(settings: Settings, token: str) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh app on the test database (its own caches and pool: a restarted process)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://planapi", headers=bearer(token)
        ) as http:
            yield http


async def send(http: httpx.AsyncClient, query: str, given: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": {"input": given}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    found: dict[str, Any] = next(iter(body["data"].values()))
    return found


def amendment(title: str, key: str | None = "retitle-1", version: int = 1) -> dict[str, Any]:
    given: dict[str, Any] = {
        "planId": PLAN_ID,
        "expectedVersion": version,
        "authority": "TDAG",
        "rationale": "Agreed at TDAG",
        "changes": [update("p1", title=title)],
    }
    if key is not None:
        given["idempotencyKey"] = key
    return given


async def versions(http: httpx.AsyncClient) -> int:
    response = await http.post(
        "/graphql", json={"query": f'{{ plan(id: "{PLAN_ID}") {{ version }} }}'}
    )
    return int(response.json()["data"]["plan"]["version"])


@pytest.fixture
async def created(settings: Settings, admin_token: str) -> str:
    async with app_client(settings, admin_token) as http:
        result = await send(http, CREATE, create_plan_input())
    assert result["__typename"] == "PlanCreated", result
    return admin_token


async def test_a_retry_gets_the_original_answer_and_no_new_version(
    settings: Settings, created: str
) -> None:
    async with app_client(settings, created) as http:
        first = await send(http, AMEND, amendment("Retitled"))
        again = await send(http, AMEND, amendment("Retitled"))
        assert first["__typename"] == "AmendmentApplied", first
        assert again == first
        assert await versions(http) == 2
        # The plan moving on does not change what the key answers.
        assert (await send(http, AMEND, amendment("Later", key="other", version=2)))[
            "__typename"
        ] == "AmendmentApplied"
        assert await send(http, AMEND, amendment("Retitled")) == first
        assert await versions(http) == 3


async def test_the_same_key_with_other_input_is_a_typed_error(
    settings: Settings, created: str
) -> None:
    async with app_client(settings, created) as http:
        await send(http, AMEND, amendment("Retitled"))
        refused = await send(http, AMEND, amendment("Something else"))
        assert refused["__typename"] == "IdempotencyKeyReused", refused
        assert refused["idempotencyKey"] == "retitle-1"
        assert "idempotency key" in refused["message"]
        assert await versions(http) == 2


async def test_keys_survive_a_restart_and_work_from_another_app(
    settings: Settings, created: str
) -> None:
    async with app_client(settings, created) as http:
        first = await send(http, AMEND, amendment("Retitled"))
    async with app_client(settings, created) as one, app_client(settings, created) as other:
        assert await send(one, AMEND, amendment("Retitled")) == first
        assert await send(other, AMEND, amendment("Retitled")) == first
        refused = await send(other, AMEND, amendment("Changed my mind"))
        assert refused["__typename"] == "IdempotencyKeyReused"
        assert await versions(other) == 2


async def test_keys_are_scoped_per_caller(settings: Settings, created: str) -> None:
    editor = await issue_token(settings, "another-editor", "editor")
    async with app_client(settings, created) as admin, app_client(settings, editor) as other:
        await send(admin, AMEND, amendment("Retitled"))
        # The other caller's key of the same spelling is its own: its request is new.
        mine = await send(other, AMEND, amendment("Retitled again", version=2))
        assert mine["__typename"] == "AmendmentApplied", mine
        assert mine["amendment"]["actor"] == "another-editor"
        assert await versions(other) == 3


async def test_racing_requests_with_one_key_make_exactly_one_version(
    settings: Settings, created: str
) -> None:
    async with app_client(settings, created) as http:
        answers = await asyncio.gather(*(send(http, AMEND, amendment("Raced")) for _ in range(8)))
        assert {a["__typename"] for a in answers} == {"AmendmentApplied"}, answers
        assert all(answer == answers[0] for answer in answers)
        assert await versions(http) == 2


async def test_create_plan_takes_a_key_too(settings: Settings, admin_token: str) -> None:
    given = {**create_plan_input("keyed"), "idempotencyKey": "create-keyed"}
    async with app_client(settings, admin_token) as http:
        answers = await asyncio.gather(*(send(http, CREATE, given) for _ in range(8)))
        assert {a["__typename"] for a in answers} == {"PlanCreated"}, answers
        assert all(answer == answers[0] for answer in answers)
    async with app_client(settings, admin_token) as http:
        assert await send(http, CREATE, given) == answers[0]
        other = await send(http, CREATE, {**given, "title": "Another title"})
        assert other["__typename"] == "IdempotencyKeyReused"
        # Without the key, creating it again is the usual answer.
        plain = {k: v for k, v in given.items() if k != "idempotencyKey"}
        assert (await send(http, CREATE, plain))["__typename"] == "PlanAlreadyExists"


@pytest.mark.parametrize("key", ["", "k" * 201, "tab\tkey"])
async def test_a_bad_key_is_refused_naming_the_field(
    settings: Settings, created: str, key: str
) -> None:
    async with app_client(settings, created) as http:
        refused = await send(http, AMEND, amendment("Retitled", key=key))
        assert refused["__typename"] == "ValidationFailed", refused
        assert refused["problems"][0]["path"] == "idempotencyKey"
        assert await versions(http) == 1


async def test_the_key_is_written_with_the_event_or_not_at_all(
    settings: Settings, created: str, raw_engine: AsyncEngine
) -> None:
    async with app_client(settings, created) as http:
        conflict = await send(http, AMEND, amendment("Too late", version=7))
        assert conflict["__typename"] == "VersionConflict"
        await send(http, AMEND, amendment("Retitled"))
    async with raw_engine.connect() as conn:
        rows = (await conn.execute(text("SELECT idempotency_key, version FROM command_keys"))).all()
    assert [tuple(row) for row in rows] == [("retitle-1", 2)]


@pytest.mark.postgres
async def test_two_server_processes_answer_one_key_alike_and_store_it_once(
    shared_database: dict[str, str], tmp_path: Path
) -> None:
    """Real `planapi serve` processes on one database: a retry through the other process, and
    requests racing through both, make one version."""
    with two_servers(shared_database, tmp_path) as (a, b):
        created = (await post(a, CREATE, input=create_plan_input()))["createPlan"]
        assert created["__typename"] == "PlanCreated", created
        first = (await post(a, AMEND, input=amendment("Once")))["amendPlan"]
        assert (await post(b, AMEND, input=amendment("Once")))["amendPlan"] == first
        raced = amendment("Raced", key="race", version=2)
        answers = await asyncio.gather(*(post(server, AMEND, input=raced) for server in (a, b) * 4))
        assert all(answer == answers[0] for answer in answers), answers
        assert answers[0]["amendPlan"]["plan"]["version"] == 3
        latest = await post(b, f'{{ plan(id: "{PLAN_ID}") {{ version }} }}')
        assert latest["plan"]["version"] == 3
