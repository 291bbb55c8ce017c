"""The event feed over HTTP: `Query.events` and `GET /events` (NDJSON), on both backends, and a
follower of `GET /events` that keeps up with many concurrent writers (PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from planapi.config import Settings
from planapi.entrypoints.asgi import create_app
from tests.e2e.conftest import GraphQL, bearer
from tests.e2e.queries import AMEND, CREATE, add, update

EVENTS = """
query Events($after: Int, $first: Int) {
  events(after: $after, first: $first) {
    endPosition
    hasMore
    items {
      position streamId planId version type schemaVersion recordedAt data meta prevHash hash
    }
  }
}
"""
FIELDS = [
    "position", "streamId", "planId", "version", "type", "schemaVersion", "recordedAt",
    "data", "meta", "prevHash", "hash",
]  # fmt: skip
# A transaction of another client of the PostgreSQL server holds followers back while it is
# open; give committed events this long to become readable.
SETTLE_SECONDS = 30.0


async def settled(graphql: GraphQL, count: int) -> None:
    async with asyncio.timeout(SETTLE_SECONDS):
        while True:
            body = await graphql(EVENTS, first=count)
            if len(body["data"]["events"]["items"]) >= count:
                return
            await asyncio.sleep(0.05)


def ndjson(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


async def amend_twice(graphql: GraphQL, baku: str) -> None:
    for version, title in ((1, "Toolkits"), (2, "Toolkits and guidelines")):
        change = update("output-toolkits", title=title)
        body = await graphql(
            AMEND,
            input={
                "planId": baku,
                "expectedVersion": version,
                "authority": "TDAG",
                "rationale": "Agreed at TDAG",
                "changes": [change],
            },
        )
        assert body["data"]["amendPlan"]["__typename"] == "AmendmentApplied", body
    await settled(graphql, 3)


async def test_events_are_the_log_in_global_order_as_stored(graphql: GraphQL, baku: str) -> None:
    await amend_twice(graphql, baku)

    body = await graphql(EVENTS, after=0, first=10)

    page = body["data"]["events"]
    items = page["items"]
    assert [(e["position"], e["planId"], e["version"], e["type"]) for e in items] == [
        (1, baku, 1, "PlanCreated"),
        (2, baku, 2, "PlanAmended"),
        (3, baku, 3, "PlanAmended"),
    ]
    assert page["endPosition"] == 3
    assert page["hasMore"] is False
    assert items[0]["streamId"] == f"plan:{baku}"
    assert items[0]["schemaVersion"] == 2
    assert items[0]["data"]["plan_id"] == baku, "data is the payload as stored"
    assert items[1]["data"]["changes"][0]["type"] == "NodeUpdated"
    assert items[1]["meta"]["actor"] == "e2e-tester"
    assert items[1]["meta"]["authority"] == "TDAG"
    assert items[0]["prevHash"] == "00" * 32
    assert [e["prevHash"] for e in items[1:]] == [e["hash"] for e in items[:-1]]
    history = await graphql(
        "query($id: ID!) { plan(id: $id) { hash amendment { recordedAt } } }", id=baku
    )
    assert items[-1]["hash"] == history["data"]["plan"]["hash"]


async def test_events_page_on_from_the_end_position(graphql: GraphQL, baku: str) -> None:
    await amend_twice(graphql, baku)

    first = (await graphql(EVENTS, first=2))["data"]["events"]
    rest = (await graphql(EVENTS, after=first["endPosition"], first=2))["data"]["events"]
    beyond = (await graphql(EVENTS, after=rest["endPosition"], first=2))["data"]["events"]

    assert [e["position"] for e in first["items"]] == [1, 2]
    assert first["hasMore"] is True
    assert [e["position"] for e in rest["items"]] == [3]
    assert rest["hasMore"] is False
    assert beyond == {"endPosition": 3, "hasMore": False, "items": []}


async def test_page_sizes_are_capped_with_a_clear_error(graphql: GraphQL, baku: str) -> None:
    too_many = await graphql(EVENTS, first=1001)
    negative = await graphql(EVENTS, after=-5)

    error = too_many["errors"][0]
    assert too_many["data"] is None
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "first: must be between 0 and 1,000"
    assert negative["errors"][0]["extensions"]["problems"][0]["path"] == "after"


async def test_get_events_streams_the_same_events_as_ndjson(
    client: httpx.AsyncClient, graphql: GraphQL, baku: str
) -> None:
    await amend_twice(graphql, baku)
    via_graphql = (await graphql(EVENTS, first=10))["data"]["events"]["items"]

    lines = ndjson(await client.get("/events"))

    assert [list(line) for line in lines] == [FIELDS] * 3
    assert [line["position"] for line in lines] == [1, 2, 3]
    for line, item in zip(lines, via_graphql, strict=True):
        assert {k: v for k, v in line.items() if k != "recordedAt"} == {
            k: v for k, v in item.items() if k != "recordedAt"
        }
    assert lines[0]["recordedAt"].endswith("+00:00")


async def test_get_events_after_a_position_with_a_limit(
    client: httpx.AsyncClient, graphql: GraphQL, baku: str
) -> None:
    await amend_twice(graphql, baku)

    assert [e["position"] for e in ndjson(await client.get("/events?after=1&limit=1"))] == [2]
    assert [e["position"] for e in ndjson(await client.get("/events?after=1"))] == [2, 3]
    assert ndjson(await client.get("/events?after=3")) == []


@pytest.mark.parametrize(
    ("query", "path", "message"),
    [
        ("limit=10001", "limit", "must be between 1 and 10,000"),
        ("limit=0", "limit", "must be between 1 and 10,000"),
        ("after=-1", "after", "must be 0 or more (0: from the start)"),
        ("after=two", "after", "must be an integer"),
    ],
)
async def test_get_events_refuses_bad_arguments_before_streaming(
    client: httpx.AsyncClient, query: str, path: str, message: str
) -> None:
    response = await client.get(f"/events?{query}")

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bad_request"
    assert body["problems"] == [{"path": path, "message": message}]


# -- many writers, one follower of GET /events ----------------------------------------------
WRITERS = 8
AMENDMENTS = 30


@pytest.fixture
async def wide_client(
    settings: Settings, backend: str, admin_token: str
) -> AsyncIterator[tuple[httpx.AsyncClient, GraphQL]]:
    if backend == "sqlite":
        pytest.skip("SQLite has a single writer: positions become visible in order")
    app = create_app(settings.model_copy(update={"db_pool_size": WRITERS + 4}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://planapi", headers=bearer(admin_token)
        ) as http:

            async def run(query: str, **variables: Any) -> dict[str, Any]:
                response = await http.post(
                    "/graphql", json={"query": query, "variables": variables}
                )
                assert response.status_code == 200, response.text
                body: dict[str, Any] = response.json()
                return body

            yield http, run


async def test_a_follower_of_get_events_sees_every_event_of_many_writers_exactly_once(
    wide_client: tuple[httpx.AsyncClient, GraphQL],
) -> None:
    http, graphql = wide_client

    async def writer(number: int) -> None:
        plan_id = f"plan-{number}"
        created = await graphql(
            CREATE,
            input={
                "id": plan_id,
                "title": f"Plan {number}",
                "periodStart": 2026,
                "periodEnd": 2029,
                "authority": "WTDC",
                "rationale": "Adopted",
                "changes": [add("SECTION", "Introduction", id="intro")],
            },
        )
        assert created["data"]["createPlan"]["__typename"] == "PlanCreated", created
        for version in range(1, AMENDMENTS + 1):
            body = await graphql(
                AMEND,
                input={
                    "planId": plan_id,
                    "expectedVersion": version,
                    "authority": "TDAG",
                    "rationale": f"Take {version}",
                    "changes": [update("intro", title=f"Introduction, take {version}")],
                },
            )
            assert body["data"]["amendPlan"]["__typename"] == "AmendmentApplied", body

    async def read(cursor: int) -> list[tuple[int, str, int]]:
        lines = ndjson(await http.get(f"/events?after={cursor}&limit=50"))
        return [(e["position"], e["streamId"], e["version"]) for e in lines]

    expected = WRITERS * (AMENDMENTS + 1)
    writing = asyncio.ensure_future(asyncio.gather(*(writer(n) for n in range(WRITERS))))
    seen: list[tuple[int, str, int]] = []
    cursor = 0
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(120 + SETTLE_SECONDS):
                while len(seen) < expected:
                    page = await read(cursor)
                    seen += page
                    cursor = page[-1][0] if page else cursor
                    if not page and writing.done():
                        writing.result()  # a writer's failure is the news
                    await asyncio.sleep(0 if page else 0.005)
        await writing
    finally:
        writing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writing

    positions = [position for position, _, _ in seen]
    assert len(positions) == len(set(positions)), "an event was handed over twice"
    assert positions == sorted(positions), "positions went backwards"
    assert len(seen) == expected, f"the follower saw {len(seen)} of {expected} events"
    assert await read(0) == seen[:50]
    everything = ndjson(await http.get("/events?after=0&limit=10000"))
    assert [(e["position"], e["streamId"], e["version"]) for e in everything] == seen
    for number in range(WRITERS):
        versions = [v for _, stream, v in seen if stream == f"plan:plan-{number}"]
        assert versions == list(range(1, AMENDMENTS + 2))
