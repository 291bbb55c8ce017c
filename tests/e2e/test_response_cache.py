"""The GraphQL response cache over HTTP: pinned versions for good, the rest by the heads of the
logs, ETags and 304s, GET like POST, never a mutation, never an error, never across roles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from planapi.api.runtime.graphql_http import CachingGraphQL
from planapi.config import Settings
from tests.e2e.conftest import bearer, issue_token

PINNED = """query Pinned($id: ID!, $version: Int!) {
  plan(id: $id, version: $version) { version title priorities { code title } }
}"""
LATEST = "query Latest($id: ID!) { plan(id: $id) { version title } }"
VOLATILE = """query Readings($id: ID!) {
  plan(id: $id, version: 1) { priorities { outcomes { kpis { latest { value } } } } }
}"""
IMMUTABLE = "max-age=31536000, immutable"

Amend = Callable[..., Awaitable[dict[str, Any]]]


def view_of(client: httpx.AsyncClient) -> CachingGraphQL:
    app: Any = client._transport.app  # type: ignore[attr-defined]
    for route in app.routes:
        if getattr(route, "path", None) == "/graphql" and isinstance(route.app, CachingGraphQL):
            return route.app
    raise AssertionError("no GraphQL view")


@pytest.fixture
async def anonymous(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=client._transport,  # type: ignore[attr-defined]
        base_url="http://planapi",
    ) as http:
        yield http


async def post(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers or {}
    )


async def test_a_pinned_version_is_answered_from_memory_for_good(
    client: httpx.AsyncClient, baku: str
) -> None:
    view = view_of(client)
    cache = view.caching.cache
    assert cache is not None
    first = await post(client, PINNED, id=baku, version=1)
    assert first.status_code == 200
    assert first.json()["data"]["plan"]["version"] == 1
    etag = first.headers["etag"]
    assert etag.startswith('"p-')
    assert first.headers["cache-control"] == f"private, {IMMUTABLE}"  # an admin's answer
    hits = cache.stats.hits
    again = await post(client, PINNED, id=baku, version=1)
    assert again.content == first.content
    assert again.headers["etag"] == etag
    assert cache.stats.hits == hits + 1

    revalidated = await post(
        client, PINNED, {"if-none-match": f'W/{etag}, "other"'}, id=baku, version=1
    )
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated.headers["etag"] == etag

    # GET is the same query: same key, same answer.
    by_get = await client.get(
        "/graphql",
        params={"query": PINNED, "variables": f'{{"id": "{baku}", "version": 1}}'},
    )
    assert by_get.status_code == 200
    assert by_get.headers["etag"] == etag
    assert by_get.content == first.content
    assert cache.stats.hits == hits + 3  # the 304 was answered from the stored entry too


async def test_anything_else_follows_the_heads_of_the_logs(
    client: httpx.AsyncClient, baku: str, amend: Amend
) -> None:
    first = await post(client, LATEST, id=baku)
    etag = first.headers["etag"]
    assert etag.startswith('"h-')
    assert first.headers["cache-control"] == "private, no-cache"
    unchanged = await post(client, LATEST, {"if-none-match": etag}, id=baku)
    assert unchanged.status_code == 304

    applied = await amend(baku, 1, {"updateNode": {"id": "output-toolkits", "title": "Kits"}})
    assert applied["__typename"] == "AmendmentApplied"
    after = await post(client, LATEST, {"if-none-match": etag}, id=baku)
    assert after.status_code == 200
    assert after.json()["data"]["plan"]["version"] == 2
    assert after.headers["etag"] != etag

    # Reading a version, but its KPIs' readings too: the heads decide.
    volatile = await post(client, VOLATILE, id=baku)
    assert volatile.headers["etag"].startswith('"h-')
    assert volatile.headers["cache-control"].endswith("no-cache")


async def test_a_latest_answer_replaces_the_one_before_and_pinned_ones_stay(
    client: httpx.AsyncClient, baku: str, amend: Amend
) -> None:
    """Once the plan moves on, no request can ask for its older latest answer: the cache drops
    it for the new one rather than leaving it to push out answers still asked for."""
    cache = view_of(client).caching.cache
    assert cache is not None
    await post(client, PINNED, id=baku, version=1)
    for version in range(1, 6):
        title = {"updateNode": {"id": "output-toolkits", "title": f"Kits {version}"}}
        assert (await post(client, LATEST, id=baku)).json()["data"]["plan"]["version"] == version
        assert (await amend(baku, version, title))["__typename"] == "AmendmentApplied"
    held = len(cache)
    latest = await post(client, LATEST, id=baku)

    assert latest.json()["data"]["plan"]["version"] == 6
    assert len(cache) == held  # the version-5 answer gave its place to version 6's
    assert cache.stats.superseded == 5
    assert "planapi_response_cache_superseded_total 5.0" in (await client.get("/metrics")).text
    pinned = await post(client, PINNED, id=baku, version=1)
    assert pinned.headers["cache-control"].endswith("immutable")
    assert cache.stats.hits >= 1


async def test_a_version_that_does_not_exist_yet_is_never_pinned(
    client: httpx.AsyncClient, baku: str, amend: Amend
) -> None:
    missing = await post(client, PINNED, id=baku, version=2)
    assert missing.json()["data"]["plan"] is None
    assert "etag" not in missing.headers
    await amend(baku, 1, {"updateNode": {"id": "output-toolkits", "title": "Kits"}})
    found = await post(client, PINNED, id=baku, version=2)
    assert found.json()["data"]["plan"]["version"] == 2
    assert found.headers["etag"].startswith('"p-')


async def test_mutations_and_errors_are_never_cached(
    client: httpx.AsyncClient, baku: str, amend: Amend
) -> None:
    from tests.e2e.queries import AMEND

    response = await client.post(
        "/graphql",
        json={
            "query": AMEND,
            "variables": {
                "input": {
                    "planId": baku,
                    "expectedVersion": 1,
                    "authority": "TDAG",
                    "rationale": "r",
                    "changes": [{"updateNode": {"id": "output-toolkits", "title": "K"}}],
                }
            },
        },
    )
    assert response.json()["data"]["amendPlan"]["__typename"] == "AmendmentApplied"
    assert "etag" not in response.headers
    cache = view_of(client).caching.cache
    assert cache is not None
    stored = cache.stats.stores
    for _ in range(2):
        bad = await post(client, "query($id: ID!) { plan(id: $id, version: 0) { id } }", id=baku)
        assert bad.json()["errors"]
        assert "etag" not in bad.headers
    assert cache.stats.stores == stored


async def test_answers_are_kept_per_role(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, settings: Settings, baku: str
) -> None:
    cache = view_of(client).caching.cache
    assert cache is not None
    reader = bearer(await issue_token(settings, "a-reader", "reader"))
    auditor = bearer(await issue_token(settings, "an-auditor", "auditor"))

    public = await post(anonymous, PINNED, id=baku, version=1)
    assert public.status_code == 200, public.text
    assert public.headers["cache-control"] == f"public, {IMMUTABLE}"
    misses = cache.stats.misses
    as_reader = await post(client, PINNED, reader, id=baku, version=1)
    as_auditor = await post(client, PINNED, auditor, id=baku, version=1)
    assert cache.stats.misses == misses + 2  # neither is served the anonymous answer
    assert as_reader.headers["cache-control"] == f"private, {IMMUTABLE}"
    etags = {public.headers["etag"], as_reader.headers["etag"], as_auditor.headers["etag"]}
    assert len(etags) == 3
    # Another holder of the same role shares the reader's answer.
    other = bearer(await issue_token(settings, "another-reader", "reader"))
    hits = cache.stats.hits
    shared = await post(client, PINNED, other, id=baku, version=1)
    assert shared.headers["etag"] == as_reader.headers["etag"]
    assert cache.stats.hits == hits + 1
    # An ETag from one role does not spare another role the answer.
    crossed = await post(
        client, PINNED, {**auditor, "if-none-match": as_reader.headers["etag"]}, id=baku, version=1
    )
    assert crossed.status_code == 200


async def test_the_cache_and_its_refusals_are_in_the_metrics(
    client: httpx.AsyncClient, baku: str
) -> None:
    await post(client, PINNED, id=baku, version=1)
    await post(client, PINNED, id=baku, version=1)
    text = (await client.get("/metrics")).text
    assert "planapi_response_cache_hits_total" in text
    assert "planapi_response_cache_bytes" in text
    assert "planapi_prepared_requests 1.0" in text  # the one body, memoised once
    assert 'planapi_graphql_http_requests_total{outcome="not_modified"}' in text
