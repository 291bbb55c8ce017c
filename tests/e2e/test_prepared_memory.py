"""The memo of parsed request bodies (`api.runtime.preparing`) is bounded by the memory it holds.

It was bounded by a count (4,096 bodies): a server read by clients naming thousands of distinct
versions kept growing for minutes, and bodies of 64 KiB (large variables) would have held
800 MB. Now `PLANAPI_PREPARED_REQUESTS_BYTES` bounds it, each body counted at what it holds.
"""

from __future__ import annotations

import gc
import json
import tracemalloc

import httpx
import pytest
from pydantic import ValidationError

from planapi.api.runtime.preparing import KNOWN_ADMISSION
from planapi.config import Settings
from tests.e2e.test_response_cache import view_of

BOUND = 256 * 1024
SMALL = (
    "query Small($id: ID!, $version: Int!) "
    "{ plan(id: $id, version: $version) { title priorities { title } } }"
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"prepared_requests_bytes": BOUND})


async def _read(client: httpx.AsyncClient, plan: str, tag: str) -> None:
    """A version read whose body no other has sent (an unused variable carries `tag`)."""
    variables = {"id": plan, "version": 1, "tag": tag}
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": SMALL, "variables": variables}).encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["plan"]["title"], response.text


async def test_the_memo_holds_no_more_memory_than_its_bound(
    client: httpx.AsyncClient, baku: str
) -> None:
    """Distinct small and large bodies, each executed (its root plan compiled and kept): what
    the memo holds, measured by dropping it, stays within its bound."""
    memo = view_of(client).preparer.memo
    await _read(client, baku, "warm-up")  # the document parsed and analysed: shared by all
    gc.collect()
    tracemalloc.start()
    try:
        for number in range(300):
            await _read(client, baku, f"small {number}")
        for number in range(40):
            await _read(client, baku, f"large {number} " + "x" * 10_000)
        gc.collect()
        with_memo = tracemalloc.get_traced_memory()[0]
        kept, counted = len(memo), memo.bytes
        memo.clear()
        gc.collect()
        held = with_memo - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert memo.stats.evictions > 0  # filled past its bound
    assert counted <= BOUND
    assert held <= 1.15 * BOUND, f"{held:,} B held by {kept} bodies, {counted:,} counted"
    assert held >= 0.6 * counted, f"{held:,} B held, {counted:,} counted: the count overstates"


async def test_large_bodies_push_out_more_bodies_than_small_ones(
    client: httpx.AsyncClient, baku: str
) -> None:
    memo = view_of(client).preparer.memo
    for number in range(400):
        await _read(client, baku, f"small {number}")
    small = len(memo)
    for number in range(60):
        await _read(client, baku, f"large {number} " + "x" * 10_000)
    assert memo.bytes <= BOUND
    assert 100 < small < 400  # bounded by bytes: a few hundred small bodies
    assert len(memo) < small / 5  # ten times the size: a few tens of large ones


async def test_a_memo_of_zero_bytes_keeps_nothing_and_answers_the_same(
    settings: Settings, baku: str
) -> None:
    from planapi.entrypoints.asgi import create_app
    from tests.e2e.conftest import bearer, issue_token

    app = create_app(settings.model_copy(update={"prepared_requests_bytes": 0}))
    token = await issue_token(settings, "memo-off", "admin")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://planapi", headers=bearer(token)
        ) as http:
            for _ in range(3):
                await _read(http, baku, "again")
            assert len(view_of(http).preparer.memo) == 0


def test_a_negative_bound_is_refused_at_start_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match="prepared_requests_bytes"):
        Settings(prepared_requests_bytes=-1)


def _body(plan: str, tag: str) -> bytes:
    variables = {"id": plan, "version": 1, "tag": tag}
    return json.dumps({"query": SMALL, "variables": variables}).encode()


async def test_once_full_the_memo_takes_few_of_the_bodies_answered_from_the_cache(
    client: httpx.AsyncClient, baku: str
) -> None:
    """Bodies each answered once (kept in the response cache), pushed out of the full memo, then
    asked again — the soak's reads of thousands of versions: a few of them are memoised again,
    not all (each pushing out another, ~1,800 a second in the soak); a body asked again and
    again is memoised within KNOWN_ADMISSION requests."""
    memo = view_of(client).preparer.memo
    for number in range(32):
        await _read(client, baku, f"asked again {number}")
    for number in range(400):  # the memo full, every body above pushed out
        await _read(client, baku, f"filler {number}")
    assert not any(memo.peek(("POST", _body(baku, f"asked again {n}"))) for n in range(32))
    evicted = memo.stats.evictions
    for number in range(32):
        await _read(client, baku, f"asked again {number}")  # hits: the view is not asked
    again = [memo.peek(("POST", _body(baku, f"asked again {n}"))) for n in range(32)]
    assert 1 <= sum(found is not None for found in again) <= 32 // KNOWN_ADMISSION + 1
    assert memo.stats.evictions - evicted <= 32 // KNOWN_ADMISSION + 1
    for _ in range(KNOWN_ADMISSION):
        await _read(client, baku, "filler 0")
    assert memo.peek(("POST", _body(baku, "filler 0"))) is not None
