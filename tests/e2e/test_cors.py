"""CORS as the Fetch standard has browsers check it, on the real app: preflights answered
before the door, grants only for listed origins, the headers a page must read exposed,
`Vary: Origin` wherever the answer may be cached, and the same list for WebSocket handshakes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette

from planapi.config import Settings
from planapi.entrypoints.asgi import create_app
from tests.websocket_handshake import handshake as websocket_handshake

FRONT_END = "http://localhost:3000"
QUERY = '{ plan(id: "baku-2026", version: 1) { version } }'
PREFLIGHT = {
    "access-control-request-method": "POST",
    # PlanAPI-Consistent-With: read-your-writes across processes (docs/graphql-over-http.md).
    "access-control-request-headers": "authorization, content-type, planapi-consistent-with",
}


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    listed = settings.model_copy(update={"cors_origins": f"{FRONT_END}, https://app.example.org"})
    app = create_app(listed)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://planapi") as client:
        yield client


async def handshake(app: Starlette, headers: dict[str, str]) -> str:
    """The first thing the app says to a WebSocket handshake: accept, or an HTTP refusal."""
    given = [(name.encode(), value.encode()) for name, value in headers.items()]
    first = (await websocket_handshake(app, given))[0]
    if first["type"] == "websocket.http.response.start":
        return str(first["status"])
    return str(first["type"])


async def test_a_preflight_from_a_listed_origin_is_granted_without_credentials(
    http: httpx.AsyncClient,
) -> None:
    response = await http.options("/graphql", headers={"origin": FRONT_END, **PREFLIGHT})

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == FRONT_END
    assert set(response.headers["access-control-allow-methods"].split(", ")) == {"GET", "POST"}
    allowed = response.headers["access-control-allow-headers"]
    assert allowed == "authorization, content-type, planapi-consistent-with"
    assert int(response.headers["access-control-max-age"]) > 0
    assert "access-control-allow-credentials" not in response.headers
    assert "Origin" in response.headers["vary"]


async def test_a_preflight_from_another_origin_gets_no_grant(http: httpx.AsyncClient) -> None:
    response = await http.options(
        "/graphql", headers={"origin": "http://localhost:3001", **PREFLIGHT}
    )

    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert "PLANAPI_CORS_ORIGINS" in response.json()["message"]


async def test_answers_to_a_listed_origin_expose_etag_and_vary_on_origin_even_when_not_modified(
    http: httpx.AsyncClient, baku: str
) -> None:
    first = await http.get("/graphql", params={"query": QUERY}, headers={"origin": FRONT_END})
    again = await http.get(
        "/graphql",
        params={"query": QUERY},
        headers={"origin": FRONT_END, "if-none-match": first.headers["etag"]},
    )
    same_origin = await http.get("/graphql", params={"query": QUERY})

    assert first.status_code == 200
    assert first.headers["access-control-allow-origin"] == FRONT_END
    exposed = {
        name.strip().lower() for name in first.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "retry-after", "x-request-id"} <= exposed
    assert again.status_code == 304
    assert again.headers["access-control-allow-origin"] == FRONT_END
    for response in (first, again, same_origin):
        varies = {name.strip() for name in response.headers["vary"].split(",")}
        assert {"Origin", "Accept"} <= varies, response.headers
    assert "access-control-allow-origin" not in same_origin.headers


async def test_a_refusal_by_the_door_carries_the_grant_so_the_page_can_read_it(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/graphql",
        json={"query": QUERY},
        headers={"origin": FRONT_END, "authorization": "Bearer planapi_not-a-token"},
    )

    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == FRONT_END


async def test_websocket_origins_follow_the_same_list(app: Starlette) -> None:
    assert await handshake(app, {"origin": FRONT_END}) == "websocket.accept"
    assert await handshake(app, {}) == "websocket.accept", "not a browser"
    assert await handshake(app, {"origin": "http://planapi"}) == "websocket.accept"
    assert await handshake(app, {"origin": "http://evil.example"}) in {"403", "websocket.close"}


def test_a_setting_that_is_not_an_origin_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="not an origin"):
        Settings(cors_origins="https://app.example.org/path")
    with pytest.raises(ValidationError, match="not an origin"):
        Settings(cors_origins="localhost:3000")
