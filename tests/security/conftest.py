"""Fixtures of the access-control and hostile-input suites: the end-to-end app (both backends),
tokens of every role, and clients that present them."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from planapi.config import Settings
from planapi.entrypoints.asgi import create_app
from tests.e2e.conftest import admin_token, bearer, client, graphql, issue_token, settings
from tests.readings_fixtures import PLAN_ID, create_plan_input

__all__ = ["admin_token", "client", "graphql", "settings"]

ROLES = ["reader", "auditor", "editor", "integrator", "admin"]
KPI = "kpi-1"

Tokens = dict[str, str]
Caller = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
async def tokens(settings: Settings) -> Tokens:
    """A token of each role; the integrator's scope is plan PLAN_ID, KPI kpi-1."""
    found = {}
    for role in ROLES:
        options: dict[str, Any] = {}
        if role == "integrator":
            options = {"plans": [PLAN_ID], "kpis": [KPI]}
        found[role] = await issue_token(settings, f"the-{role}", role, **options)
    return found


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def http_client(
    app: Starlette, token: str | None = None, *, headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    """A client of `app` presenting `token` as a bearer token (or `headers`; neither: anonymous)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    sent = {**(bearer(token) if token else {}), **(headers or {})}
    return httpx.AsyncClient(transport=transport, base_url="http://planapi", headers=sent)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    async with running(settings) as started:
        yield started


@pytest.fixture
async def readings_plan(app: Starlette, admin_token: str) -> str:
    """The readings plan (four KPIs) as version 1, created by an admin."""
    from tests.e2e.queries import CREATE

    async with http_client(app, admin_token) as http:
        response = await http.post(
            "/graphql", json={"query": CREATE, "variables": {"input": create_plan_input()}}
        )
    assert response.json()["data"]["createPlan"]["__typename"] == "PlanCreated", response.text
    return PLAN_ID


async def post_graphql(
    http: httpx.AsyncClient, query: str, **variables: Any
) -> tuple[int, dict[str, Any]]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    return response.status_code, body


async def post_body(http: httpx.AsyncClient, body: bytes | AsyncIterable[bytes]) -> httpx.Response:
    """POST `body` to /graphql as it is (hostile, oversized, streamed), declared as JSON."""
    return await http.post("/graphql", content=body, headers={"content-type": "application/json"})


def retitling(node: str, title: str, rationale: str, authority: str = "TDAG") -> dict[str, Any]:
    """amendPlan's input retitling `node` of PLAN_ID's version 1."""
    return {
        "planId": PLAN_ID,
        "expectedVersion": 1,
        "authority": authority,
        "rationale": rationale,
        "changes": [{"updateNode": {"id": node, "title": title}}],
    }
