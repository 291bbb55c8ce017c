"""What the hit layer makes once per stored answer rather than per hit — the headers CORS would
send — stays the stack's answer whatever origin asks next, and is counted in the response
cache's bytes once; and the HTTP metrics, kept in plain lists, count its hits in the latency
histogram's buckets, count and sum as the stack's requests are."""

from __future__ import annotations

import sys

import httpx
import pytest

from planapi.api.runtime.stored_answers import GC_HEAD
from tests.e2e.test_hit_layer import (
    BROWSER,
    LISTED,
    Served,
    ask,
    hit_of_both,
    listed,
    pair,
    raw,
    same,
)

__all__ = ["listed", "pair"]  # fixtures

ELSEWHERE = "https://elsewhere.example.org"


async def test_each_origin_gets_the_stack_s_headers_from_one_stored_answer(
    pair: tuple[Served, Served],
) -> None:
    # The same stored answer, asked in turn by a listed origin, no origin, an origin not
    # listed, the listed one again: a grant made for one never shows on another's answer.
    for origin in (LISTED, None, ELSEWHERE, LISTED, None):
        headers = {"origin": origin} if origin else {}
        answer = same(await hit_of_both(pair, headers))
        granted = answer.headers.get("access-control-allow-origin")
        assert granted == (LISTED if origin == LISTED else None)
        assert ("access-control-expose-headers" in answer.headers) == (origin == LISTED)
        assert answer.headers["x-request-id"] == "same-id"


async def test_an_origin_longer_than_any_real_one_is_answered_but_not_remembered(
    pair: tuple[Served, Served],
) -> None:
    """Anyone may send an Origin header of any size (uvicorn sets no limit): remembered as
    sent, 64 of a megabyte each would have stayed in memory for good (found by review)."""
    on, _ = pair
    assert on.layer is not None
    huge = "https://" + "a" * (1 << 20) + ".example.org"
    await hit_of_both(pair, {})
    for n in range(3):
        answer = same(await hit_of_both(pair, {"origin": f"{huge}{n}"}))
        assert "access-control-allow-origin" not in answer.headers
    assert (await ask(on, {"origin": LISTED})).headers["access-control-allow-origin"] == LISTED
    kept = on.layer._origins_seen
    assert max(map(len, kept)) <= 300
    assert LISTED.encode() in kept


async def test_a_stored_answer_s_headers_are_framed_once_and_counted(
    pair: tuple[Served, Served],
) -> None:
    on, _ = pair
    assert on.layer is not None
    cache = on.layer.hits.caching.cache
    assert cache is not None
    await hit_of_both(pair, {})  # stored, and answered once by the layer
    counted = cache.bytes
    for origin in (None, LISTED, ELSEWHERE):
        headers = {"origin": origin} if origin else {}
        assert (await ask(on, headers)).status_code == 200
    assert cache.bytes == counted  # framed on the first hit: nothing new per hit

    # The gzip variant's headers are framed apart, once: the variant made by the view's miss.
    assert (await raw(on, BROWSER))[0] == 200
    before = cache.bytes
    first = await raw(on, BROWSER)
    shapes = {held.value for held in cache._items.values()}
    (shape,) = [shape for shape in shapes if shape.framed and shape.framed[1]]
    assert shape.framed is not None
    framed = sys.getsizeof(shape.framed[1]) + GC_HEAD  # what the list holds: its pairs are shared
    if shape.framed[0] is None:  # the shape's first framing: the list of both forms made too
        framed += sys.getsizeof(shape.framed) + GC_HEAD
    assert cache.bytes == before + framed
    assert await raw(on, BROWSER) == first
    assert cache.bytes == before + framed


def _latency(exposition: str, method: str) -> tuple[list[float], float, float]:
    """The `/graphql` latency histogram of `method`: its cumulative buckets, count and sum."""
    labels = f'method="{method}",route="/graphql"'
    buckets, count, total = [], 0.0, 0.0
    for line in exposition.splitlines():
        name, _, value = line.rpartition(" ")
        if name.startswith("planapi_http_request_duration_seconds_bucket{") and labels in name:
            buckets.append(float(value))
        elif name == f"planapi_http_request_duration_seconds_count{{{labels}}}":
            count = float(value)
        elif name == f"planapi_http_request_duration_seconds_sum{{{labels}}}":
            total = float(value)
    return buckets, count, total


@pytest.mark.parametrize("layer", [True, False], ids=["hit layer", "stack"])
async def test_a_hit_is_one_observation_in_the_latency_histogram(
    pair: tuple[Served, Served], layer: bool
) -> None:
    await hit_of_both(pair, {})
    served = pair[0] if layer else pair[1]

    async def scrape() -> tuple[list[float], float, float]:
        exposition: httpx.Response = await served.http.get("/metrics")
        return _latency(exposition.text, "POST")

    before = await scrape()
    answered = pair[0].layer.answered if pair[0].layer else 0
    assert (await ask(served, {})).status_code == 200
    after = await scrape()
    if layer:
        assert pair[0].layer is not None
        assert pair[0].layer.answered == answered + 1
    assert len(after[0]) == len(before[0]) == 15  # the 14 bounds and +Inf
    added = [a - b for a, b in zip(after[0], before[0], strict=True)]
    # One observation: in no bucket below its bound, in every one from there (cumulative).
    assert added == sorted(added)
    assert set(added) <= {0.0, 1.0}
    assert added[-1] == 1.0
    assert after[1] == before[1] + 1
    assert after[1] == after[0][-1]  # +Inf counts everything
    assert 0 < after[2] - before[2] < 5
