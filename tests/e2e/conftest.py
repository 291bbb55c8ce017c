"""End-to-end fixtures: the real ASGI app (lifespan included) behind an httpx client.

The client authenticates as an admin API token named `e2e-tester` (so every amendment and
reading records that actor), issued straight into the test database as `planapi tokens create`
would; `issue_token` makes tokens of any role for the tests of access control.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.config import Settings
from planapi.entrypoints.asgi import create_app

GraphQL = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def settings(database: tuple[str, dict[str, object]]) -> Settings:
    url, options = database
    connect_args: dict[str, Any] = options.get("connect_args", {})  # type: ignore[assignment]
    schema = connect_args.get("server_settings", {}).get("search_path")
    return Settings(
        database_url=url,
        database_schema=schema,
        default_actor="e2e-tester",
        # The suite sends requests far faster than any client should; the rate limit has its
        # own tests (tests/security/test_limits.py).
        rate_limit_per_second=0,
    )


async def issue_token(settings: Settings, name: str, role: str, **options: Any) -> str:
    """A new API token's secret (as `planapi tokens create` prints it), straight into the
    database of `settings` (migrated by the `database` fixture)."""
    from planapi.adapters.clock import SystemClock
    from planapi.adapters.token_store import SqlTokenStore
    from planapi.application.access import Role
    from planapi.application.tokens import TokenService
    from planapi.bootstrap import engine_for

    engine = engine_for(settings)
    try:
        service = TokenService(SqlTokenStore(engine), SystemClock())
        issued = await service.create(name, Role(role), created_by="tests", **options)
    finally:
        await engine.dispose()
    return issued.secret


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
async def admin_token(settings: Settings) -> str:
    return await issue_token(settings, "e2e-tester", "admin")


@pytest.fixture
async def client(settings: Settings, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on a fresh app, as an admin; on SQLite the app seeds the Baku draft."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://planapi", headers=bearer(admin_token)
        ) as http:
            yield http


@pytest.fixture
def graphql(client: httpx.AsyncClient) -> GraphQL:
    """POST a query; return the whole JSON body (data and errors)."""

    async def run(query: str, **variables: Any) -> dict[str, Any]:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return run


@pytest.fixture
async def baku(graphql: GraphQL) -> str:
    """The Baku draft as version 1 of `baku-2026`, on either backend; returns the plan id."""
    from planapi.entrypoints.seeding import CREATE_PLAN, seed_input

    body = await graphql(CREATE_PLAN, input=seed_input("baku"))
    assert body["data"]["createPlan"]["__typename"] in {"PlanCreated", "PlanAlreadyExists"}, body
    return "baku-2026"


@pytest.fixture
async def raw_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """A second door into the app's database, for what the app would never do itself."""
    from planapi.bootstrap import engine_for

    engine = engine_for(settings)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def amend(graphql: GraphQL) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Send `amendPlan` with sensible defaults; return the `amendPlan` result."""
    from tests.e2e.queries import AMEND

    async def run(
        plan_id: str,
        expected_version: int,
        *changes: dict[str, Any],
        rationale: str = "Agreed at TDAG",
        authority: str = "TDAG",
        **extra: Any,
    ) -> dict[str, Any]:
        given = {
            "planId": plan_id,
            "expectedVersion": expected_version,
            "authority": authority,
            "rationale": rationale,
            "changes": list(changes),
            **extra,
        }
        body = await graphql(AMEND, input=given)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["amendPlan"]
        return result

    return run
