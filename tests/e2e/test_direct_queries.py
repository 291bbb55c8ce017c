"""A query body the whole path answered for a role without errors runs directly through
graphql-core the next time (`api.runtime.direct`): the same answer, the same headers, the same
metrics — and never for another role, never an answer with errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from planapi.config import Settings
from planapi.entrypoints.asgi import create_app
from tests.e2e.conftest import bearer
from tests.e2e.test_response_cache import post, view_of

LATEST = "query Latest($id: ID!) { plan(id: $id) { version title priorities { code title } } }"
SHAPES = """query Shapes($id: ID!) {
  plan(id: $id, version: 1) { ...Head first: priorities { code ... on Priority { title } } }
}
fragment Head on Plan { id version __typename }"""
AUDIT = "query Audit { events(first: 2) { items { position } } }"


@pytest.fixture
async def uncached(settings: Settings, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    """An admin's client on an app with the response cache off (every read executes), where
    the Baku draft was created (so its heads know it at once)."""
    from planapi.entrypoints.seeding import CREATE_PLAN, seed_input

    app = create_app(settings.model_copy(update={"response_cache_bytes": 0}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://planapi",
            headers=bearer(admin_token),
        ) as http,
    ):
        created = (await post(http, CREATE_PLAN, input=seed_input("baku"))).json()
        assert created["data"]["createPlan"]["__typename"] in {"PlanCreated", "PlanAlreadyExists"}
        yield http


BAKU = "baku-2026"


def _sent(response: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
    return response.status_code, response.content, headers


async def _operations(client: httpx.AsyncClient, operation: str) -> float:
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "planapi_graphql_operations_total"
                and labels.get("operation") == operation
                and labels.get("outcome") == "success"
            ):
                return sample.value
    return 0.0


@pytest.mark.parametrize("query", [LATEST, SHAPES], ids=["latest", "fragments"])
async def test_the_second_request_is_answered_directly_as_the_first(
    uncached: httpx.AsyncClient, query: str
) -> None:
    baku = BAKU
    direct = view_of(uncached).direct
    first = await post(uncached, query, id=baku)
    assert first.status_code == 200
    assert "errors" not in first.json()
    runs = direct.runs
    second = await post(uncached, query, id=baku)
    assert direct.runs == runs + 1
    assert _sent(second) == _sent(first)
    by_get = await uncached.get(
        "/graphql", params={"query": query, "variables": f'{{"id": "{baku}"}}'}
    )
    again = await uncached.get(
        "/graphql", params={"query": query, "variables": f'{{"id": "{baku}"}}'}
    )
    assert direct.runs == runs + 2
    assert _sent(again) == _sent(by_get)
    assert by_get.content == first.content


async def test_direct_answers_are_counted_in_the_metrics(uncached: httpx.AsyncClient) -> None:
    baku = BAKU
    await post(uncached, LATEST, id=baku)
    before = await _operations(uncached, "Latest")
    runs = view_of(uncached).direct.runs
    await post(uncached, LATEST, id=baku)
    await post(uncached, LATEST, id=baku)
    assert view_of(uncached).direct.runs == runs + 2
    assert await _operations(uncached, "Latest") == before + 2


async def test_a_direct_answer_keeps_its_validators_and_is_cached(
    client: httpx.AsyncClient, baku: str, amend: Any
) -> None:
    """With the cache on: a read after a write misses, runs directly, and is stored with the
    same ETag and Cache-Control the whole path gives."""
    view = view_of(client)
    first = await post(client, LATEST, id=baku)
    runs = view.direct.runs
    applied = await amend(baku, 1, {"updateNode": {"id": "output-toolkits", "title": "Kits"}})
    assert applied["__typename"] == "AmendmentApplied"
    fresh = await post(client, LATEST, id=baku)
    assert view.direct.runs == runs + 1
    assert fresh.json()["data"]["plan"]["version"] == 2
    assert fresh.headers["etag"].startswith('"h-')
    assert fresh.headers["etag"] != first.headers["etag"]
    assert fresh.headers["cache-control"] == first.headers["cache-control"] == "private, no-cache"
    assert fresh.headers["vary"] == first.headers["vary"]
    assert fresh.headers["content-type"] == first.headers["content-type"]
    stored = await post(client, LATEST, id=baku)
    assert view.direct.runs == runs + 1  # from the cache
    assert stored.content == fresh.content
    revalidated = await post(client, LATEST, {"if-none-match": fresh.headers["etag"]}, id=baku)
    assert revalidated.status_code == 304


async def test_a_body_passed_for_one_role_is_not_run_directly_for_another(
    uncached: httpx.AsyncClient,
) -> None:
    direct = view_of(uncached).direct
    assert "errors" not in (await post(uncached, AUDIT)).json()  # an admin may audit
    runs = direct.runs
    async with httpx.AsyncClient(
        transport=uncached._transport,  # type: ignore[attr-defined]
        base_url="http://planapi",
    ) as anonymous:
        for _ in range(2):
            refused = (await post(anonymous, AUDIT)).json()
            assert refused["errors"][0]["extensions"]["code"] in {"UNAUTHENTICATED", "FORBIDDEN"}
    assert direct.runs == runs


async def test_an_answer_with_errors_always_takes_the_whole_path(
    uncached: httpx.AsyncClient,
) -> None:
    """A body answered with errors is answered so again, by the whole path (its errors formed
    and masked there); a body that passed runs directly, and another body (other variables) is
    checked by the whole path first."""
    direct, baku = view_of(uncached).direct, BAKU
    bad = "query Bad($id: ID!) { plan(id: $id) { title noSuchField } }"
    answers = [(await post(uncached, bad, id=baku)).json() for _ in range(2)]
    assert answers[0] == answers[1]
    assert answers[0]["errors"]
    at = "query At($id: ID!, $v: Int) { plan(id: $id, version: $v) { title } }"
    assert "errors" not in (await post(uncached, at, id=baku, v=None)).json()
    runs, errors = direct.runs, direct.errors
    again = (await post(uncached, at, id=baku, v=None)).json()
    assert direct.runs == runs + 1
    assert again["data"]["plan"]["title"]
    refused = (await post(uncached, at, id=baku, v=-1)).json()  # a new body: the whole path
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert direct.errors == errors


async def test_a_body_that_passed_but_fails_now_is_answered_as_the_whole_path_answers(
    uncached: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database lost between two identical requests: the direct run's error is dropped
    and the whole path answers, with its code, status and Retry-After, as it would for a body
    it had never seen."""
    from planapi.application.failures import StoreUnavailableError
    from planapi.application.plans import PlanService

    view = view_of(uncached)
    direct = view.direct
    assert "errors" not in (await post(uncached, LATEST, id=BAKU)).json()

    async def lost(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailableError(detail="connection refused")

    monkeypatch.setattr(PlanService, "plan", lost)
    errors = direct.errors
    failed = await uncached.post("/graphql", json={"query": LATEST, "variables": {"id": BAKU}})
    assert direct.errors == errors + 1  # tried directly, then handed to the whole path
    unseen = LATEST.replace("Latest", "Unseen")  # a body never answered: the whole path alone
    expected = await uncached.post("/graphql", json={"query": unseen, "variables": {"id": BAKU}})
    assert _sent(failed)[0] == _sent(expected)[0]
    assert failed.headers.get("retry-after") == expected.headers.get("retry-after")
    assert failed.json() == expected.json()
    assert failed.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    # While it keeps failing, the body takes the whole path alone: one execution, not two.
    again = await uncached.post("/graphql", json={"query": LATEST, "variables": {"id": BAKU}})
    assert again.json() == expected.json()
    assert direct.errors == errors + 1
    # Answered again without an error, it runs directly from the next request on.
    monkeypatch.undo()
    runs = direct.runs
    for _ in range(2):
        assert "errors" not in (await post(uncached, LATEST, id=BAKU)).json()
    assert direct.runs == runs + 1
