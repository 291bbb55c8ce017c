"""Reading the latest plan: from memory, never older than a write this process answered, never
older than a consistency token names, and cached answers that outlive writes they did not read.

Both backends, through the real app. A second set of services on the same database stands in
for another process whose writes this app never hears of (no notification reaches it)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from planapi.bootstrap import Services, bootstrap
from planapi.config import Settings
from tests.e2e.conftest import GraphQL
from tests.e2e.queries import CREATE, update
from tests.e2e.test_response_cache import view_of
from tests.readings_fixtures import PLAN_ID, create_plan_input

TITLE = "query Title($id: ID!) { plan(id: $id) { version title } }"
LATEST_READING = """query Latest($id: ID!) {
  plan(id: $id) { node(nodeId: "kpi-1") { ... on Kpi { latest { period value } } } }
}"""
PLANS = "{ plans { planId version } }"
RECORD = """mutation Record($input: RecordReadingsInput!) {
  recordReadings(input: $input) {
    __typename ... on ReadingsRecorded { batchId consistencyToken }
  }
}"""
AMEND_TOKEN = """mutation Amend($input: AmendPlanInput!) {
  amendPlan(input: $input) {
    __typename ... on AmendmentApplied { plan { version } consistencyToken }
  }
}"""
HEADER = "planapi-consistent-with"


@pytest.fixture
async def two_plans(graphql: GraphQL, baku: str) -> tuple[str, str]:
    """The readings plan (KPIs with readings) and the Baku plan."""
    body = await graphql(CREATE, input=create_plan_input())
    assert body["data"]["createPlan"]["__typename"] == "PlanCreated", body
    return PLAN_ID, baku


async def post(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> httpx.Response:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers or {}
    )
    assert response.status_code in (200, 304), response.text
    if response.status_code == 200:
        assert "errors" not in response.json(), response.text
    return response


async def amend_title(client: httpx.AsyncClient, plan_id: str, title: str) -> dict[str, Any]:
    version = (await post(client, TITLE, id=plan_id)).json()["data"]["plan"]["version"]
    node = "p1" if plan_id == PLAN_ID else "output-toolkits"
    given = {
        "planId": plan_id,
        "expectedVersion": version,
        "authority": "TDAG",
        "rationale": "Retitled",
        "changes": [update(node, title=title)],
    }
    result: dict[str, Any] = (await post(client, AMEND_TOKEN, input=given)).json()["data"][
        "amendPlan"
    ]
    assert result["__typename"] == "AmendmentApplied", result
    return result


async def record(client: httpx.AsyncClient, plan_id: str, period: str, value: str) -> str:
    reading = {"kpiId": "kpi-1", "period": period, "status": "FINAL", "value": value}
    given = {"planId": plan_id, "readings": [reading]}
    result = (await post(client, RECORD, input=given)).json()["data"]["recordReadings"]
    assert result["__typename"] == "ReadingsRecorded", result
    token: str = result["consistencyToken"]
    return token


def services_of(client: httpx.AsyncClient) -> Services:
    view: Any = view_of(client)
    found: Services = view.services["app"]
    return found


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    """The SQL the app sends while the block runs."""
    sent: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    engine = services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_the_latest_version_is_read_from_memory(client: httpx.AsyncClient, baku: str) -> None:
    await amend_title(client, baku, "Kits")  # the writer keeps the version it made
    with statements(services_of(client)) as sent:
        first = await post(client, TITLE, id=baku)
        again = await post(client, TITLE, {"if-none-match": first.headers["etag"]}, id=baku)
    assert first.json()["data"]["plan"]["version"] == 2
    assert again.status_code == 304
    assert sent == []  # neither the cache key nor "latest" asked the database


async def test_an_answer_survives_writes_it_did_not_read(
    client: httpx.AsyncClient, two_plans: tuple[str, str]
) -> None:
    readings_plan, baku = two_plans
    cache = view_of(client).caching.cache
    assert cache is not None
    title = await post(client, TITLE, id=readings_plan)
    latest = await post(client, LATEST_READING, id=readings_plan)
    listing = await post(client, PLANS)
    other = await post(client, TITLE, id=baku)
    assert latest.json()["data"]["plan"]["node"]["latest"] is None

    # A batch of readings for the plan: its title answer stays; its readings answer moves.
    await record(client, readings_plan, "2026", "61.5")
    hits = cache.stats.hits
    same = await post(client, TITLE, {"if-none-match": title.headers["etag"]}, id=readings_plan)
    assert same.status_code == 304
    assert cache.stats.hits == hits + 1
    moved = await post(client, LATEST_READING, id=readings_plan)
    assert moved.headers["etag"] != latest.headers["etag"]
    assert moved.json()["data"]["plan"]["node"]["latest"] == {"period": "2026", "value": "61.5"}
    untouched = await post(client, TITLE, {"if-none-match": other.headers["etag"]}, id=baku)
    assert untouched.status_code == 304  # nor does it move answers about another plan

    # An amendment of another plan: neither answer about this plan moves; the list does.
    await amend_title(client, baku, "Kits")
    for query, before in ((TITLE, title), (LATEST_READING, moved)):
        kept = await post(client, query, {"if-none-match": before.headers["etag"]}, id=PLAN_ID)
        assert kept.status_code == 304
    relisted = await post(client, PLANS, {"if-none-match": listing.headers["etag"]})
    assert relisted.status_code == 200
    assert {"planId": baku, "version": 2} in relisted.json()["data"]["plans"]

    # This plan's own amendment moves it.
    await amend_title(client, readings_plan, "Connected")
    retitled = await post(client, TITLE, {"if-none-match": title.headers["etag"]}, id=PLAN_ID)
    assert retitled.status_code == 200
    assert retitled.json()["data"]["plan"]["version"] == 2


ACTIVITIES = """query Activities($id: ID!) {
  plan(id: $id) { outputs { nodeId activities { nodeId } } }
}"""


async def test_an_action_plans_activities_follow_plan_versions_not_readings(
    client: httpx.AsyncClient, two_plans: tuple[str, str]
) -> None:
    """They read the operational plans implementing it (other streams): any plan's new version
    may move them, a batch of readings may not."""
    from tests.operational_fixtures import activity, operational_input

    readings_plan, baku = two_plans
    first = await post(client, ACTIVITIES, id=baku)
    assert first.headers["cache-control"] != "immutable"

    await record(client, readings_plan, "2026", "61.5")
    kept = await post(client, ACTIVITIES, {"if-none-match": first.headers["etag"]}, id=baku)
    assert kept.status_code == 304

    created = await post(client, CREATE, input=operational_input(activity("act-1", "A1")))
    assert created.json()["data"]["createPlan"]["__typename"] == "PlanCreated"
    moved = await post(client, ACTIVITIES, {"if-none-match": first.headers["etag"]}, id=baku)
    assert moved.status_code == 200
    outputs = {o["nodeId"]: o["activities"] for o in moved.json()["data"]["plan"]["outputs"]}
    assert outputs["output-toolkits"] == [{"nodeId": "act-1"}]


async def test_no_read_on_this_process_is_older_than_a_write_it_answered(
    client: httpx.AsyncClient, baku: str
) -> None:
    answered = 1  # the newest version an amendment answered so far
    done = False

    async def reader() -> int:
        reads = 0
        while not done:
            floor = answered  # every read sent from here on must show at least this
            found = (await post(client, TITLE, id=baku)).json()["data"]["plan"]["version"]
            assert found >= floor
            reads += 1
            await asyncio.sleep(0.002)  # a cached answer never waits: let the writer run too
        return reads

    async def writer() -> None:
        nonlocal answered, done
        try:
            for n in range(2, 10):
                result = await amend_title(client, baku, f"Kits {n}")
                answered = result["plan"]["version"]
                assert answered == n
                shown = (await post(client, TITLE, id=baku)).json()["data"]["plan"]
                assert shown["version"] >= n
        finally:
            done = True

    results = await asyncio.gather(writer(), *(reader() for _ in range(4)))
    assert all(reads > 0 for reads in results[1:])


async def test_writes_answer_consistency_tokens_and_bad_ones_are_refused(
    client: httpx.AsyncClient, two_plans: tuple[str, str]
) -> None:
    readings_plan, _ = two_plans
    applied = await amend_title(client, readings_plan, "Connected")
    assert re.fullmatch(r"[1-9]\d*\.0", applied["consistencyToken"])
    batch = await record(client, readings_plan, "2026", "61.5")
    assert re.fullmatch(r"0\.[1-9]\d*", batch)
    both = {HEADER: f"{applied['consistencyToken']}, {batch}"}
    read = await post(client, LATEST_READING, both, id=readings_plan)
    assert read.json()["data"]["plan"]["node"]["latest"]["value"] == "61.5"

    ingested = await client.post(
        f"/ingest/readings?planId={readings_plan}",
        content=b'{"kpiId": "kpi-1", "period": "2027", "status": "FINAL", "value": "70"}\n',
        headers={"content-type": "application/x-ndjson"},
    )
    assert ingested.status_code == 200, ingested.text
    assert re.fullmatch(r"0\.[1-9]\d*", ingested.json()["consistencyToken"])

    refused = await client.post(
        "/graphql", json={"query": TITLE, "variables": {"id": PLAN_ID}}, headers={HEADER: "v3"}
    )
    assert refused.status_code == 400
    assert "PlanAPI-Consistent-With" in refused.json()["errors"][0]["message"]


@pytest.fixture
async def elsewhere(settings: Settings) -> AsyncIterator[Services]:
    """Another process's services on the same database, whose writes this app never hears of."""
    services = await bootstrap(settings)
    try:
        yield services
    finally:
        await services.close()


async def test_a_token_from_a_write_this_process_never_heard_of_is_honoured(
    client: httpx.AsyncClient, baku: str, elsewhere: Services
) -> None:
    from planapi.application.plans import AmendPlan
    from planapi.domain.changes import UpdateNode
    from planapi.domain.events import Authority

    first = await post(client, TITLE, id=baku)
    assert first.json()["data"]["plan"]["version"] == 1
    command = AmendPlan(
        baku, 1, Authority.TDAG, "Elsewhere", [UpdateNode("output-toolkits", {"title": "Far"})]
    )
    written = await elsewhere.plans.amend_plan(command)
    token = f"{written.amendment.position}.0"

    # With the token: caught up at once (the cached answer of version 1 is not it).
    caught = await post(
        client, TITLE, {HEADER: token, "if-none-match": first.headers["etag"]}, id=baku
    )
    assert caught.status_code == 200
    assert caught.json()["data"]["plan"]["version"] == 2
    assert "planapi_heads_catch_ups_total" in (await client.get("/metrics")).text
    # Once caught up, any reader sees it; and the token costs nothing more.
    with statements(services_of(client)) as sent:
        again = await post(client, TITLE, {HEADER: token}, id=baku)
    assert again.json()["data"]["plan"]["version"] == 2
    assert sent == []


async def test_without_a_token_another_process_s_write_shows_within_the_poll(
    client: httpx.AsyncClient, baku: str, elsewhere: Services
) -> None:
    from planapi.application.plans import AmendPlan
    from planapi.domain.changes import UpdateNode
    from planapi.domain.events import Authority

    await post(client, TITLE, id=baku)
    command = AmendPlan(
        baku, 1, Authority.TDAG, "Elsewhere", [UpdateNode("output-toolkits", {"title": "Far"})]
    )
    await elsewhere.plans.amend_plan(command)
    # No notification reaches this app from those services: its safety poll finds the write.
    for _ in range(300):
        if (await post(client, TITLE, id=baku)).json()["data"]["plan"]["version"] == 2:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the other process's amendment never showed")
