"""GraphQL over GET (the request in the URL, as Apollo's `useGETForQueries` and CDNs send it):
beside `tests/e2e/test_hit_layer.py`'s comparisons, run for GET too, the response cache's hit
layer sends a GET's gzip hit as the stack does, serves the same query sent as a POST from the
answer the GET stored (one query, one key, as in the view), and leaves a mutation over GET to
the view's `405`."""

from __future__ import annotations

from tests.e2e.test_hit_layer import (
    AMEND,
    BROWSER,
    PLAN,
    TREE,
    Served,
    ask,
    get,
    hit_of_both,
    listed,
    pair,
    same,
    url,
)

__all__ = ["listed", "pair"]  # fixtures


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


async def test_a_get_and_a_post_of_one_query_share_its_stored_answer_and_both_hit(
    pair: tuple[Served, Served],
) -> None:
    """One query, one key, whichever way it came: the GET's stored answer is the POST's hit
    (its document parsed already), and each way is then memoised on its own."""
    on, _ = pair
    assert on.layer is not None
    await hit_of_both(pair, {}, asking=get)
    answered = on.layer.answered
    posted = [await ask(on, {}) for _ in range(2)]
    assert on.layer.answered == answered + 2
    got = await get(on, {})
    assert on.layer.answered == answered + 3
    assert posted[1].content == got.content == posted[0].content
    assert posted[0].headers["etag"] == got.headers["etag"]


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
