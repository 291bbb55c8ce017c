"""GraphQL over HTTP as clients written elsewhere expect it (Apollo Client 4, graphql-http):
the media type they accept, JSON errors for every refusal, the spec's status codes."""

from __future__ import annotations

import logging

import httpx
import pytest

from planapi.config import Settings
from tests.security.conftest import http_client, running

GRAPHQL_RESPONSE = "application/graphql-response+json"
SUBSCRIPTION = 'subscription { planAmended(planId: "baku-2026") { __typename } }'
APOLLO_ACCEPT = "application/graphql-response+json,application/json;q=0.9"


def json_errors(response: httpx.Response) -> list[dict[str, object]]:
    assert response.headers["content-type"].split(";")[0] in {"application/json", GRAPHQL_RESPONSE}
    errors: list[dict[str, object]] = response.json()["errors"]
    assert errors
    assert all(isinstance(error["message"], str) for error in errors)
    return errors


async def test_apollo_client_4_gets_the_media_type_it_prefers(
    client: httpx.AsyncClient, baku: str
) -> None:
    query = '{ plan(id: "baku-2026") { version } }'
    strict = await client.post("/graphql", json={"query": query}, headers={"accept": APOLLO_ACCEPT})
    plain = await client.post("/graphql", json={"query": query})
    again = await client.post("/graphql", json={"query": query}, headers={"accept": APOLLO_ACCEPT})

    assert strict.headers["content-type"] == GRAPHQL_RESPONSE
    assert plain.headers["content-type"] == "application/json"
    assert again.headers["content-type"] == GRAPHQL_RESPONSE, "the cache keeps them apart"
    assert strict.json() == plain.json() == again.json() == {"data": {"plan": {"version": 1}}}
    assert "Accept" in strict.headers["vary"]


async def test_a_request_error_is_400_in_the_media_type_apollo_reads(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ plan(id: "}, headers={"accept": APOLLO_ACCEPT}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in response.json(), "execution never began"
    assert json_errors(response)[0]["message"].startswith("Syntax Error")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"query": "{ plans { id } ', "JSON"),
        (b"{}", "No GraphQL query"),
        (b'{"query": "{ plans { id } }", "operationName": {"a": 1}}', "operationName"),
    ],
)
async def test_every_refusal_is_a_json_errors_body(
    client: httpx.AsyncClient, content: bytes, message: str
) -> None:
    for accept in ("application/json", APOLLO_ACCEPT):
        response = await client.post(
            "/graphql",
            content=content,
            headers={"content-type": "application/json", "accept": accept},
        )
        assert response.status_code == 400, response.text
        assert message in str(json_errors(response)[0]["message"])


async def test_a_mutation_over_get_is_405_and_says_to_use_post(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "mutation { __typename }"})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert json_errors(response)[0]["extensions"] == {"code": "METHOD_NOT_ALLOWED"}


async def test_another_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.put("/graphql", json={"query": "{ plans { id } }"})

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    json_errors(response)


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_subscription_over_http_is_400_pointing_at_the_websocket(
    client: httpx.AsyncClient, baku: str, caplog: pytest.LogCaptureFixture, method: str
) -> None:
    with caplog.at_level(logging.INFO):
        if method == "POST":
            response = await client.post("/graphql", json={"query": SUBSCRIPTION})
        else:
            response = await client.get("/graphql", params={"query": SUBSCRIPTION})

    assert response.status_code == 400
    [error] = json_errors(response)
    assert error["extensions"] == {"code": "USE_WEBSOCKET"}
    assert "WebSocket" in str(error["message"])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


# -- batches (Apollo BatchHttpLink) ---------------------------------------------------------
AMEND_ONE = (
    'mutation { amendPlan(input: {planId: "baku-2026", expectedVersion: 1, authority: TDAG, '
    'rationale: "batched", changes: [{removeNode: {id: "term-impact"}}]}) { __typename } }'
)
VERSION = '{ plan(id: "baku-2026") { version } }'


async def test_a_batch_is_answered_in_order_each_operation_on_its_own(
    client: httpx.AsyncClient, baku: str
) -> None:
    response = await client.post(
        "/graphql",
        json=[{"query": VERSION}, {"query": AMEND_ONE}, {"query": "{ nope }"}, {"query": VERSION}],
    )

    assert response.status_code == 200
    first, amended, broken, last = response.json()
    assert first == {"data": {"plan": {"version": 1}}}
    assert amended == {"data": {"amendPlan": {"__typename": "AmendmentApplied"}}}
    assert "data" not in broken
    assert "nope" in broken["errors"][0]["message"]
    assert last == {"data": {"plan": {"version": 2}}}, "the operations ran one after the other"


async def test_a_batch_past_the_limit_is_refused_whole_saying_why(
    client: httpx.AsyncClient, baku: str, settings: Settings
) -> None:
    batch = [{"query": AMEND_ONE}] + [{"query": VERSION}] * settings.max_batch

    response = await client.post("/graphql", json=batch)

    assert response.status_code == 400
    [error] = json_errors(response)
    assert error["extensions"] == {"code": "BATCH_TOO_LARGE"}
    assert "PLANAPI_MAX_BATCH" in str(error["message"])
    after = await client.post("/graphql", json={"query": VERSION})
    assert after.json() == {"data": {"plan": {"version": 1}}}, "nothing ran"


async def test_each_operation_of_a_batch_counts_against_the_rate_limit(
    settings: Settings, admin_token: str, baku: str
) -> None:
    limited = settings.model_copy(update={"rate_limit_per_second": 0.01, "rate_limit_burst": 4})
    async with running(limited) as app, http_client(app, admin_token) as http:
        refused = await http.post("/graphql", json=[{"query": AMEND_ONE}] * 5)
        allowed = await http.post("/graphql", json=[{"query": VERSION}] * 3)

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert json_errors(refused)[0]["extensions"] == {"code": "RATE_LIMITED"}
    assert allowed.status_code == 200, "the refused batch took nothing from the bucket"
    assert allowed.json() == [{"data": {"plan": {"version": 1}}}] * 3, "and nothing of it ran"
