"""GraphQL over GET (the request in the URL, as Apollo's `useGETForQueries` and CDNs send it):
the response cache's hit layer answers a stored GET exactly as the whole stack does — the same
status, body bytes and headers in order, `ETag`/`304` and gzip included — and keeps it apart
from the same query sent as a POST, as the view does; a mutation over GET is still the view's
`405`."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import orjson
import pytest

from planapi.config import Settings
from tests.e2e.conftest import bearer, issue_token
from tests.e2e.test_hit_layer import (
    AMEND,
    BROWSER,
    LATEST,
    LISTED,
    PINNED,
    PLAN,
    TREE,
    Served,
    ask,
    listed,
    pair,
    same,
)

__all__ = ["listed", "pair"]  # fixtures


def url(query: str = LATEST, variables: object = None) -> str:
    given = {"query": query, "variables": orjson.dumps(variables or {"id": PLAN}).decode()}
    return "/graphql?" + urlencode(given)


async def get(served: Served, headers: dict[str, str], query: str = LATEST) -> httpx.Response:
    return await served.http.get(url(query), headers={"x-request-id": "same-id", **headers})


async def get_of_both(
    pair: tuple[Served, Served], headers: dict[str, str], query: str = LATEST
) -> tuple[httpx.Response, httpx.Response]:
    """The GET's answer from each app once stored, checking the layer answered it."""
    on, off = pair
    unconditional = {name: value for name, value in headers.items() if name != "if-none-match"}
    for served in pair:
        assert (await get(served, unconditional, query)).status_code == 200
    assert on.layer is not None
    assert off.layer is None
    answered = on.layer.answered
    found = await get(on, headers, query), await get(off, headers, query)
    assert on.layer.answered == answered + 1
    return found


@pytest.mark.parametrize("origin", [None, LISTED])
async def test_a_get_hit_is_the_stack_s_answer_byte_for_byte(
    pair: tuple[Served, Served], origin: str | None
) -> None:
    headers = {"origin": origin} if origin else {}
    answer = same(await get_of_both(pair, headers))
    assert answer.status_code == 200
    assert answer.json()["data"]["plan"]["title"]
    assert answer.headers["cache-control"] == "public, no-cache"
    assert answer.headers["x-request-id"] == "same-id"
    pinned = same(await get_of_both(pair, headers, PINNED))
    assert "immutable" in pinned.headers["cache-control"]


async def test_a_role_s_get_hit_is_the_stack_s(
    pair: tuple[Served, Served], listed: Settings
) -> None:
    token = await issue_token(listed, "get-reader", "reader")
    answer = same(await get_of_both(pair, bearer(token)))
    assert answer.headers["cache-control"] == "private, no-cache"


async def test_if_none_match_on_a_get_is_answered_304_as_the_stack_does(
    pair: tuple[Served, Served],
) -> None:
    etag = (await get(pair[0], {})).headers["etag"]
    answer = same(await get_of_both(pair, {"if-none-match": etag}))
    assert answer.status_code == 304
    assert answer.content == b""
    assert answer.headers["etag"] == etag


async def test_a_gzip_get_hit_is_the_stack_s_bytes(pair: tuple[Served, Served]) -> None:
    on, _ = pair
    headers = {"accept-encoding": BROWSER, "x-request-id": "same-id"}
    for served in pair:
        await served.http.get(url(TREE), headers=headers)
    assert on.layer is not None
    answered = on.layer.answered
    found = []
    for served in pair:
        async with served.http.stream("GET", url(TREE), headers=headers) as got:
            sent = b"".join([chunk async for chunk in got.aiter_raw()])
            found.append((got.status_code, sent, got.headers.raw))
    assert on.layer.answered == answered + 1
    assert found[0] == found[1]
    assert dict(found[0][2])[b"content-encoding"] == b"gzip"


async def test_a_get_and_a_post_of_one_query_are_kept_apart_and_both_hit(
    pair: tuple[Served, Served],
) -> None:
    on, _ = pair
    assert on.layer is not None
    await get_of_both(pair, {})
    answered = on.layer.answered
    posted = [await ask(on, {}) for _ in range(2)]  # the POST's own miss, then its hit
    assert on.layer.answered == answered + 1
    got = await get(on, {})
    assert on.layer.answered == answered + 2
    assert posted[1].content == got.content == posted[0].content


async def test_a_mutation_over_get_is_still_refused(pair: tuple[Served, Served]) -> None:
    on, off = pair
    given = {"planId": PLAN, "expectedVersion": 1, "authority": "TDAG", "rationale": "r"}
    mutation = url(AMEND, {"input": {**given, "changes": []}})
    headers = {"x-request-id": "same-id"}
    for _ in range(2):  # never stored, never a hit
        refused = (
            (await on.http.get(mutation, headers=headers)),
            (await off.http.get(mutation, headers=headers)),
        )
        assert same(refused).status_code == 405
