"""The response cache's hit layer (`entrypoints.hit_layer`) answers a hit exactly as the whole
stack does: the same status, body bytes and headers (in order) as an app with the layer off, on
the same database, for the same request — a POST or a GET, anonymous or with a role's token,
from a listed origin or another, revalidated with `If-None-Match`, and counted alike — while
the rate limit, bad credentials and read-your-writes hold as they do without it. A browser's
gzip answer too, byte for byte as sent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from planapi.config import Settings
from planapi.entrypoints.asgi import create_app
from planapi.entrypoints.hit_layer import HitLayer
from planapi.entrypoints.seeding import CREATE_PLAN, seed_input
from tests.e2e.conftest import bearer, issue_token
from tests.e2e.queries import update

LATEST = "query Latest($id: ID!) { plan(id: $id) { version title priorities { code title } } }"
PINNED = "query Pinned($id: ID!) { plan(id: $id, version: 1) { version title } }"
AMEND = """mutation Amend($input: AmendPlanInput!) {
  amendPlan(input: $input) { __typename ... on AmendmentApplied { plan { version } } }
}"""
LISTED = "https://dash.example.org"
PLAN = "baku-2026"
_PLAN = (
    "plan(id: $id) { id title version priorities { id code title "
    "outcomes { id code title kpis { id code title unit } } } }"
)
# The seeded plan is small (~0.9 KB): four aliases of it make an answer worth compressing.
TREE = "query Tree($id: ID!) { " + " ".join(f"p{n}: {_PLAN}" for n in range(4)) + " }"
BROWSER = "gzip, deflate, br"  # what browsers send


@dataclass
class Served:
    app: Starlette
    http: httpx.AsyncClient

    @property
    def layer(self) -> HitLayer | None:
        stack = self.app.middleware_stack
        return stack if isinstance(stack, HitLayer) else None


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Served]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://planapi") as http:
            yield Served(app, http)


def body(query: str = LATEST) -> bytes:
    return orjson.dumps({"query": query, "variables": {"id": PLAN}})


async def ask(served: Served, headers: dict[str, str], query: str = LATEST) -> httpx.Response:
    given = {"content-type": "application/json", "x-request-id": "same-id", **headers}
    return await served.http.post("/graphql", content=body(query), headers=given)


def url(query: str = LATEST, variables: object = None) -> str:
    """GraphQL over GET: the request in the query string (Apollo's `useGETForQueries`)."""
    given = {"query": query, "variables": orjson.dumps(variables or {"id": PLAN}).decode()}
    return "/graphql?" + urlencode(given)


async def get(served: Served, headers: dict[str, str], query: str = LATEST) -> httpx.Response:
    return await served.http.get(url(query), headers={"x-request-id": "same-id", **headers})


# Each method the layer answers hits for: the request in a POST's body, or in a GET's URL.
METHODS = pytest.mark.parametrize("asking", [ask, get], ids=["POST", "GET"])

Raw = tuple[int, bytes, dict[str, str]]


async def raw(served: Served, encoding: str, query: str = TREE, **headers: str) -> Raw:
    """Status, the body's bytes as sent (not decoded) and the headers."""
    given = {
        "content-type": "application/json",
        "accept-encoding": encoding,
        "x-request-id": "same-id",
        **headers,
    }
    async with served.http.stream("POST", "/graphql", content=body(query), headers=given) as got:
        sent = b"".join([chunk async for chunk in got.aiter_raw()])
        return got.status_code, sent, dict(got.headers)


@pytest.fixture
def listed(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The settings with a listed origin (and what a test parametrizes it with, indirectly)."""
    return settings.model_copy(update={"cors_origins": LISTED, **getattr(request, "param", {})})


@pytest.fixture
async def pair(listed: Settings, admin_token: str) -> AsyncIterator[tuple[Served, Served]]:
    """The same app with the layer on and off, on one database holding the Baku plan."""
    async with pair_of(listed, admin_token) as both:
        yield both


@asynccontextmanager
async def pair_of(listed: Settings, admin_token: str) -> AsyncIterator[tuple[Served, Served]]:
    async with serving(listed) as on:
        created = await on.http.post(
            "/graphql",
            json={"query": CREATE_PLAN, "variables": {"input": seed_input("baku")}},
            headers=bearer(admin_token),
        )
        kind = created.json()["data"]["createPlan"]["__typename"]
        assert kind in {"PlanCreated", "PlanAlreadyExists"}
        off_settings = listed.model_copy(update={"response_cache_hit_layer": False})
        async with serving(off_settings) as off:
            yield on, off


Asking = Callable[[Served, dict[str, str], str], Awaitable[httpx.Response]]


async def hit_of_both(
    pair: tuple[Served, Served], headers: dict[str, str], query: str = LATEST, asking: Asking = ask
) -> tuple[httpx.Response, httpx.Response]:
    """The request's answer from each app once it is stored (the first of each stores it),
    after checking the layer answered it and the other app's stack did."""
    on, off = pair
    unconditional = {name: value for name, value in headers.items() if name != "if-none-match"}
    for served in pair:
        assert (await asking(served, unconditional, query)).status_code == 200
    assert on.layer is not None
    assert off.layer is None
    answered = on.layer.answered
    found = await asking(on, headers, query), await asking(off, headers, query)
    assert on.layer.answered == answered + 1
    return found


def same(found: tuple[httpx.Response, httpx.Response]) -> httpx.Response:
    on, off = found
    assert on.status_code == off.status_code
    assert on.content == off.content
    assert on.headers.raw == off.headers.raw
    return on


@METHODS
async def test_an_anonymous_hit_is_the_stack_s_answer_byte_for_byte(
    pair: tuple[Served, Served], asking: Asking
) -> None:
    answer = same(await hit_of_both(pair, {}, asking=asking))
    assert answer.status_code == 200
    assert answer.json()["data"]["plan"]["title"]
    assert answer.headers["cache-control"] == "public, no-cache"
    assert answer.headers["x-request-id"] == "same-id"
    pinned = same(await hit_of_both(pair, {}, PINNED, asking))
    assert "immutable" in pinned.headers["cache-control"]


@METHODS
async def test_a_role_s_hit_is_the_stack_s_answer(
    pair: tuple[Served, Served], listed: Settings, asking: Asking
) -> None:
    token = await issue_token(listed, "hit-reader", "reader")
    answer = same(await hit_of_both(pair, bearer(token), asking=asking))
    assert answer.headers["cache-control"] == "private, no-cache"


@METHODS
@pytest.mark.parametrize("origin", [LISTED, "https://elsewhere.example.org"])
async def test_cors_on_a_hit_is_the_stack_s(
    pair: tuple[Served, Served], origin: str, asking: Asking
) -> None:
    answer = same(await hit_of_both(pair, {"origin": origin}, asking=asking))
    granted = answer.headers.get("access-control-allow-origin")
    assert granted == (origin if origin == LISTED else None)
    assert answer.headers["vary"] == "Accept, Accept-Encoding, Authorization, Cookie, Origin"


@METHODS
async def test_if_none_match_is_answered_304_as_the_stack_does(
    pair: tuple[Served, Served], asking: Asking
) -> None:
    etag = (await asking(pair[0], {}, LATEST)).headers["etag"]
    answer = same(await hit_of_both(pair, {"if-none-match": etag, "origin": LISTED}, asking=asking))
    assert answer.status_code == 304
    assert answer.content == b""


async def test_the_hit_layer_sends_the_stack_s_gzip_bytes_and_headers(
    pair: tuple[Served, Served],
) -> None:
    on, _off = pair
    for served in pair:
        await raw(served, BROWSER, origin="https://dash.example.org")
    answered = on.layer.answered if on.layer else 0
    found = [await raw(served, BROWSER, origin="https://dash.example.org") for served in pair]
    assert on.layer is not None
    assert on.layer.answered == answered + 1
    assert found[0] == found[1]
    assert found[0][2]["content-encoding"] == "gzip"


async def test_a_request_id_is_made_when_none_is_sent(pair: tuple[Served, Served]) -> None:
    on, _ = pair
    await hit_of_both(pair, {})
    given = {"content-type": "application/json"}
    first = await on.http.post("/graphql", content=body(), headers=given)
    second = await on.http.post("/graphql", content=body(), headers=given)
    ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(ids) == 2
    assert all(len(found) == 32 and int(found, 16) >= 0 for found in ids)


async def test_bad_credentials_are_refused_on_a_would_be_hit(
    pair: tuple[Served, Served],
) -> None:
    await hit_of_both(pair, {})
    on, off = pair
    assert on.layer is not None
    answered = on.layer.answered
    for credentials in ("Bearer planapi_" + "x" * 43, "Bearer not-a-token", "Digest abc"):
        headers = {"authorization": credentials}
        refused = same((await ask(on, headers), await ask(off, headers)))
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert on.layer.answered == answered


# The same query with a comment: a body over a reader's smallest limit, 1 KiB.
PADDED = LATEST + "\n# " + "x" * 1_100


@pytest.mark.parametrize("listed", [{"max_graphql_bytes_reader": 1024}], indirect=True)
async def test_a_body_over_the_role_s_limit_is_the_door_s_413_on_a_would_be_hit(
    pair: tuple[Served, Served], listed: Settings
) -> None:
    """The layer's admission refuses it (the declared length) and hands the refusal on: the
    door sends it, as it does with the layer off."""
    await hit_of_both(pair, {}, PADDED)  # stored for anonymous callers, whose limit is larger
    on, off = pair
    assert on.layer is not None
    answered = on.layer.answered
    reader = bearer(await issue_token(listed, "small-reader", "reader"))
    refused = same((await ask(on, reader, PADDED), await ask(off, reader, PADDED)))
    assert refused.status_code == 413
    assert refused.json()["maxBytes"] == 1024
    assert on.layer.answered == answered


@asynccontextmanager
async def _limited(
    settings: Settings, admin_token: str, update: dict[str, Any]
) -> AsyncIterator[Served]:
    """The app with these rate-limit settings, holding the Baku plan."""
    async with serving(settings.model_copy(update=update)) as on:
        created = await on.http.post(
            "/graphql",
            json={"query": CREATE_PLAN, "variables": {"input": seed_input("baku")}},
            headers=bearer(admin_token),
        )
        assert created.status_code == 200
        yield on


async def test_the_rate_limit_still_refuses_a_would_be_hit(
    settings: Settings, admin_token: str
) -> None:
    update = {"rate_limit_per_second": 0.01, "rate_limit_burst": 3}
    async with _limited(settings, admin_token, update) as on:
        statuses = [(await ask(on, {})).status_code for _ in range(4)]
        assert on.layer is not None
        assert statuses == [200, 200, 200, 429]  # a miss, two hits, and the bucket is empty
        assert on.layer.answered == 2
        refused = await ask(on, {})
        assert refused.status_code == 429
        assert refused.headers["retry-after"]
        assert on.layer.answered == 2


async def _stalled(app: Any, raw: bytes) -> list[int]:
    """The statuses answered within a second to a POST /graphql from 1.2.3.4 whose client sends
    the first 10 bytes of its body, then nothing."""
    sent: list[int] = []
    first = [{"type": "http.request", "body": raw[:10], "more_body": True}]

    async def receive() -> dict[str, Any]:
        if first:
            return first.pop()
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent.append(message["status"])

    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(raw))]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "root_path": "",
        "query_string": b"", "client": ("1.2.3.4", 1), "server": ("planapi", 80),
        "headers": headers, "state": {},
    }  # fmt: skip
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(app(scope, receive, send), 1.0)
    return sent


@pytest.mark.parametrize("layer", [True, False])
async def test_a_caller_over_its_rate_is_refused_before_its_body_is_read(
    settings: Settings, admin_token: str, layer: bool
) -> None:
    """As the door does: the bucket first, so a refused caller holds no worker while it sends
    its body slowly (or never), and a stalled request is charged as any other."""
    update = {
        "rate_limit_per_second": 0.001,
        "rate_limit_burst": 1,
        "response_cache_hit_layer": layer,
    }
    async with _limited(settings, admin_token, update) as on:
        assert (await ask(on, {})).status_code == 200  # stored: the next is a would-be hit
        assert await _stalled(on.app, body()) == []  # 1.2.3.4's only token, its body awaited
        assert await _stalled(on.app, body()) == [429]  # no token left: refused at once


async def test_a_write_is_never_followed_by_a_stale_hit(
    pair: tuple[Served, Served], admin_token: str
) -> None:
    on, _ = pair
    assert (await ask(on, {})).json()["data"]["plan"]["version"] == 1
    for version in range(1, 4):
        hit = await ask(on, {})
        assert hit.json()["data"]["plan"]["version"] == version
        given = {
            "planId": PLAN,
            "expectedVersion": version,
            "authority": "TDAG",
            "rationale": "Retitled",
            "changes": [update("output-toolkits", title=f"Kits {version}")],
        }
        amended = await on.http.post(
            "/graphql",
            json={"query": AMEND, "variables": {"input": given}},
            headers=bearer(admin_token),
        )
        result: dict[str, Any] = amended.json()["data"]["amendPlan"]
        assert result["plan"]["version"] == version + 1
        after = await ask(on, {})  # the very next read, through the layer
        assert after.json()["data"]["plan"]["version"] == version + 1


async def test_a_body_the_memo_does_not_hold_is_answered_when_its_document_is_known(
    listed: Settings, admin_token: str
) -> None:
    """Bodies differing only in their variables share one parsed document, not one memo entry:
    a dashboard reading any of thousands of versions sends more bodies than the memo holds."""
    forgetful = listed.model_copy(update={"prepared_requests_bytes": 0})  # memoises no body
    async with pair_of(forgetful, admin_token) as both:
        on = same(await hit_of_both(both, {}, PINNED))

    assert on.json()["data"]["plan"]["version"] == 1


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_hits_are_counted_as_the_stack_counts_them(
    pair: tuple[Served, Served], method: str
) -> None:
    asking = ask if method == "POST" else get
    counted = (
        f'planapi_http_requests_total{{method="{method}",route="/graphql",status="200"}}',
        "planapi_response_cache_hits_total",
    )
    await hit_of_both(pair, {}, asking=asking)
    for served in pair:
        before = _counts((await served.http.get("/metrics")).text, counted)
        await asking(served, {}, LATEST)
        after = _counts((await served.http.get("/metrics")).text, counted)
        assert set(before) == set(counted)
        assert all(after[name] == before[name] + 1 for name in counted), (before, after)


def _counts(exposition: str, counted: tuple[str, ...]) -> dict[str, float]:
    found = {}
    for line in exposition.splitlines():
        name, _, value = line.rpartition(" ")
        if name in counted:
            found[name] = float(value)
    return found
