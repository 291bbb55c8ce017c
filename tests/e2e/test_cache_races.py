"""The response cache when misses overlap: what a flight's followers send for an answer too
large to keep, and a slow miss at older heads stored after the same query's newer answer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from planapi.api.runtime.graphql_http import CachingGraphQL
from tests.e2e.conftest import bearer
from tests.e2e.queries import update
from tests.e2e.test_hit_layer import AMEND, BROWSER, PLAN, TREE, Served, ask, listed, pair, raw

__all__ = ["listed", "pair"]  # fixtures


def held_up(monkeypatch: pytest.MonkeyPatch) -> tuple[asyncio.Event, asyncio.Event]:
    """The first execution waits for the gate (`entered` set when it does); the others run."""
    gate, entered = asyncio.Event(), asyncio.Event()
    original = CachingGraphQL._execute

    async def gated(self: CachingGraphQL, *args: Any) -> Any:
        if not entered.is_set():
            entered.set()
            await gate.wait()
        return await original(self, *args)

    monkeypatch.setattr(CachingGraphQL, "_execute", gated)
    return gate, entered


@pytest.mark.parametrize("listed", [{"response_cache_bytes": 8_000}], indirect=True)
async def test_followers_of_an_answer_too_large_to_keep_get_the_leader_s_bytes(
    pair: tuple[Served, Served], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One `-gzip` ETag names one byte string: followers are compressed per request as their
    leader was (fast), not at the stored level — which, for the largest answers, stalled the
    loop for what was meant to be cheap."""
    on, _ = pair
    gate, entered = held_up(monkeypatch)
    leader = asyncio.create_task(raw(on, BROWSER, TREE))
    await entered.wait()
    followers = [asyncio.create_task(raw(on, BROWSER, TREE)) for _ in range(2)]
    await asyncio.sleep(0.2)  # both joined the flight
    gate.set()
    found = [await leader] + [await follower for follower in followers]

    assert [status for status, _, _ in found] == [200] * 3
    assert {headers["content-encoding"] for _, _, headers in found} == {"gzip"}
    assert len({headers["etag"] for _, _, headers in found}) == 1
    assert len({sent for _, sent, _ in found}) == 1


async def test_a_follower_of_an_answer_pushed_out_meanwhile_sends_what_later_hits_send(
    pair: tuple[Served, Served], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The leader (identity) kept its answer, pushed out by other answers before a follower
    that takes gzip sent it: the follower sends the stored variant's bytes — those the same
    answer, kept again, sends under the same ETag — not a per-request compression (found by
    review: one `-gzip` ETag named two byte strings)."""
    on, _ = pair
    gate, entered = held_up(monkeypatch)
    original = CachingGraphQL._keep

    def kept_then_pushed_out(self: CachingGraphQL, *args: Any) -> bool:
        kept = original(self, *args)
        assert self.caching.cache is not None
        self.caching.cache.clear()  # before any follower wakes
        return kept

    monkeypatch.setattr(CachingGraphQL, "_keep", kept_then_pushed_out)
    leader = asyncio.create_task(raw(on, "identity", TREE))
    await entered.wait()
    follower = asyncio.create_task(raw(on, BROWSER, TREE))
    await asyncio.sleep(0.2)  # joined the flight
    gate.set()
    await leader
    status, sent, headers = await follower
    monkeypatch.undo()

    again = await raw(on, BROWSER, TREE)  # a miss (nothing kept), kept, its variant made

    assert (status, headers["content-encoding"]) == (200, "gzip")
    assert (again[0], again[2]["etag"]) == (200, headers["etag"])
    assert again[1] == sent


async def test_a_late_answer_at_older_heads_leaves_the_newer_one_kept(
    pair: tuple[Served, Served], admin_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    on, _ = pair
    assert on.layer is not None
    gate, entered = held_up(monkeypatch)
    late = asyncio.create_task(ask(on, {}))  # keyed at version 1, held while the plan moves on
    await entered.wait()
    given = {
        "planId": PLAN,
        "expectedVersion": 1,
        "authority": "TDAG",
        "rationale": "Retitled",
        "changes": [update("output-toolkits", title="Kits 2")],
    }
    body = {"query": AMEND, "variables": {"input": given}}
    amended = await on.http.post("/graphql", json=body, headers=bearer(admin_token))
    assert amended.json()["data"]["amendPlan"]["plan"]["version"] == 2
    assert (await ask(on, {})).json()["data"]["plan"]["version"] == 2  # kept at version 2
    gate.set()
    assert (await late).status_code == 200  # kept last, under its key at version 1

    answered = on.layer.answered
    again = await ask(on, {})

    assert again.json()["data"]["plan"]["version"] == 2
    assert on.layer.answered == answered + 1  # a hit: the version-2 answer is still kept
