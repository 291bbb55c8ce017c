"""The HTTP surface around GraphQL: request ids, GET queries, GraphiQL and the health check."""

from __future__ import annotations

import re

import httpx

from tests.e2e.conftest import GraphQL


async def test_a_response_echoes_the_request_id_the_client_sent(
    client: httpx.AsyncClient, baku: str
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ plans { id } }"},
        headers={"x-request-id": "front-end-42"},
    )

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "front-end-42"


async def test_a_response_gets_a_fresh_request_id_when_the_client_sent_none(
    client: httpx.AsyncClient, baku: str
) -> None:
    first = await client.post("/graphql", json={"query": "{ plans { id } }"})
    second = await client.post("/graphql", json={"query": "{ plans { id } }"})

    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", given) for given in ids), ids
    assert ids[0] != ids[1]


async def test_an_error_response_carries_the_request_id_too(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ nope }"}, headers={"x-request-id": "trace-me"}
    )

    assert response.json()["errors"]
    assert response.headers["x-request-id"] == "trace-me"


async def test_an_unprintable_request_id_is_replaced_not_echoed(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ plans { id } }"}, headers={"x-request-id": "a\tb"}
    )

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_a_query_can_be_sent_with_get(client: httpx.AsyncClient, baku: str) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query($id: ID!) { plan(id: $id) { version } }",
            "variables": '{"id": "baku-2026"}',
        },
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"plan": {"version": 1}}}


async def test_a_mutation_is_not_accepted_over_get(
    client: httpx.AsyncClient, graphql: GraphQL, baku: str
) -> None:
    mutation = (
        'mutation { amendPlan(input: {planId: "baku-2026", expectedVersion: 1, authority: TDAG, '
        'rationale: "via GET", changes: [{removeNode: {id: "term-impact"}}]}) { __typename } }'
    )

    response = await client.get("/graphql", params={"query": mutation})

    assert response.status_code >= 400
    body = await graphql('{ plan(id: "baku-2026") { version } }')
    assert body["data"]["plan"]["version"] == 1


async def test_graphiql_is_served_to_a_browser(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_the_home_page_leads_to_graphiql(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code in {302, 307}
    assert response.headers["location"].endswith("/graphql")


async def test_the_health_check_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"x-request-id": "probe"})

    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"] == "probe"
