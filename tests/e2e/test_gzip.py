"""gzip for clients that take it (`api.runtime.compression`): a browser's `Accept-Encoding`
gets the identity answer's exact bytes gzipped — on a miss and on a hit, through the hit layer
and through the stack alike — with its own ETag, `Vary: Accept-Encoding` and the compressed
length; a refusal (`gzip;q=0`, identity only) or a small answer gets identity; `If-None-Match`
with either ETag form answers 304; `PLANAPI_RESPONSE_GZIP=false` never compresses."""

from __future__ import annotations

import gzip

import httpx
import pytest

from planapi.api.runtime.compression import FAST_LEVEL, MIN_BYTES, gzip_bytes
from planapi.config import Settings
from planapi.entrypoints.seeding import CREATE_PLAN, seed_input
from tests.e2e.conftest import bearer
from tests.e2e.test_hit_layer import BROWSER, PINNED, Served, listed, pair, raw, serving

__all__ = ["listed", "pair"]  # the fixtures, shared with test_hit_layer


def varies(headers: dict[str, str]) -> list[str]:
    return [name.strip() for name in headers["vary"].split(",")]


async def test_a_browser_gets_the_identity_bytes_gzipped_on_a_miss_and_a_hit(
    pair: tuple[Served, Served],
) -> None:
    for served in pair:
        miss = await raw(served, BROWSER)
        hit = await raw(served, BROWSER)
        assert miss == hit
        status, packed, headers = hit
        _, plain, identity = await raw(served, "identity")
        assert status == 200
        assert len(plain) >= MIN_BYTES
        assert gzip.decompress(packed) == plain
        assert len(packed) < len(plain) / 3
        assert headers["content-encoding"] == "gzip"
        assert headers["content-length"] == str(len(packed))
        assert headers["etag"] == identity["etag"][:-1] + '-gzip"'
        assert "Accept-Encoding" in varies(headers)
        assert "Origin" in varies(headers)
        assert "content-encoding" not in identity
        assert varies(identity) == varies(headers)


@pytest.mark.parametrize("encoding", ["gzip;q=0", "identity", "", "br", "gzip;q=0, *"])
async def test_a_client_refusing_gzip_gets_identity(
    pair: tuple[Served, Served], encoding: str
) -> None:
    for served in pair:
        for _ in range(2):  # the miss, then the hit
            status, plain, headers = await raw(served, encoding)
            assert status == 200
            assert "content-encoding" not in headers
            assert headers["content-length"] == str(len(plain))
            assert b'"priorities"' in plain


async def test_if_none_match_with_either_etag_form_is_a_304(pair: tuple[Served, Served]) -> None:
    for served in pair:
        identity_tag = (await raw(served, "identity"))[2]["etag"]
        gzip_tag = (await raw(served, BROWSER))[2]["etag"]
        assert identity_tag != gzip_tag
        for tag in (identity_tag, gzip_tag, f"W/{gzip_tag}"):
            for encoding, sent_tag in ((BROWSER, gzip_tag), ("identity", identity_tag)):
                status, empty, headers = await raw(served, encoding, **{"if-none-match": tag})
                assert (status, empty) == (304, b"")
                assert headers["etag"] == sent_tag  # the variant a 200 would send
                assert "content-encoding" not in headers


async def test_a_304_with_nothing_stored_repeats_the_form_named(
    settings: Settings, admin_token: str
) -> None:
    uncached = settings.model_copy(update={"response_cache_bytes": 0})
    async with serving(uncached) as served:
        await _create_plan(served, admin_token)
        status, _packed, headers = await raw(served, BROWSER, PINNED)
        assert status == 200
        assert "content-encoding" not in headers
        gzip_tag = headers["etag"][:-1] + '-gzip"'
        status, _, again = await raw(served, BROWSER, PINNED, **{"if-none-match": gzip_tag})
        assert (status, again["etag"]) == (304, gzip_tag)


async def test_a_small_answer_stays_identity(pair: tuple[Served, Served]) -> None:
    for served in pair:
        for _ in range(2):
            status, plain, headers = await raw(served, BROWSER, PINNED)
            assert status == 200
            assert len(plain) < MIN_BYTES
            assert "content-encoding" not in headers
            assert "Accept-Encoding" in varies(headers)  # it could have been, had it been large


async def test_without_a_response_cache_a_large_answer_is_gzipped_per_request(
    settings: Settings, admin_token: str
) -> None:
    uncached = settings.model_copy(update={"response_cache_bytes": 0})
    async with serving(uncached) as served:
        await _create_plan(served, admin_token)
        _, plain, identity = await raw(served, "identity")
        status, packed, headers = await raw(served, BROWSER)
        assert status == 200
        assert headers["content-encoding"] == "gzip"
        assert gzip.decompress(packed) == plain
        assert headers["etag"] == identity["etag"][:-1] + '-gzip"'


async def test_an_answer_too_large_to_keep_is_gzipped_per_request_at_the_fast_level(
    settings: Settings, admin_token: str
) -> None:
    """Not the stored level's CPU on every request for an answer the cache will never hold
    (a quarter of its bytes at most), and one byte string for its ETag on every request."""
    small = settings.model_copy(update={"response_cache_bytes": 4 * (MIN_BYTES - 400)})
    async with serving(small) as served:
        await _create_plan(served, admin_token)
        _, plain, _ = await raw(served, "identity")
        answers = [await raw(served, BROWSER) for _ in range(2)]
        assert answers[0] == answers[1]
        status, packed, headers = answers[0]
        assert status == 200
        assert len(plain) > MIN_BYTES
        assert headers["content-encoding"] == "gzip"
        assert packed == gzip_bytes(plain, FAST_LEVEL)


async def test_compression_can_be_turned_off(settings: Settings, admin_token: str) -> None:
    off = settings.model_copy(update={"response_gzip": False})
    async with serving(off) as served:
        await _create_plan(served, admin_token)
        for _ in range(2):
            status, plain, headers = await raw(served, BROWSER)
            assert status == 200
            assert len(plain) >= MIN_BYTES
            assert "content-encoding" not in headers
            assert "Accept-Encoding" not in varies(headers)


def test_the_setting_is_validated() -> None:
    with pytest.raises(ValueError, match="response_gzip"):
        Settings(response_gzip="sometimes")  # type: ignore[arg-type]


async def _create_plan(served: Served, token: str) -> None:
    answer: httpx.Response = await served.http.post(
        "/graphql",
        json={"query": CREATE_PLAN, "variables": {"input": seed_input("baku")}},
        headers=bearer(token),
    )
    assert answer.json()["data"]["createPlan"]["__typename"] in {"PlanCreated", "PlanAlreadyExists"}
