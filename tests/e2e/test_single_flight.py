"""Single flight for response-cache misses (`api.runtime.flight`): concurrent identical reads
after an invalidation execute once and all get the answer a hit would give; a leader that fails
or goes away hands the others nothing, and the first of them to look again leads the rest;
roles and newer states never join."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from planapi.api.runtime.graphql_http import CachingGraphQL
from tests.e2e.test_response_cache import LATEST, Amend, post, view_of
from tests.e2e.test_response_cache import anonymous as anonymous  # the fixture

FOLLOWERS = 5


class Gate:
    """Counts the view's executions of cacheable misses; holds the first until released."""

    def __init__(self, view: CachingGraphQL, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.fail = False
        original = view._direct

        async def gated(request: Any, prepared: Any) -> dict[str, Any] | None:
            self.calls += 1
            if self.calls == 1:
                self.entered.set()
                await self.release.wait()
                if self.fail:
                    raise RuntimeError("the database went away")
            return await original(request, prepared)

        monkeypatch.setattr(view, "_direct", gated)


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(2_000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the requests never got there")


def _sent(response: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
    return response.status_code, response.content, headers


async def _invalidated(client: httpx.AsyncClient, baku: str, amend: Amend) -> None:
    """The latest answer cached at version 1, then dropped by an amendment."""
    assert (await post(client, LATEST, id=baku)).json()["data"]["plan"]["version"] == 1
    await amend(baku, 1, {"updateNode": {"id": "output-toolkits", "title": "Kits"}})


async def _crowd(
    client: httpx.AsyncClient, view: CachingGraphQL, gate: Gate, baku: str
) -> tuple[asyncio.Task[httpx.Response], list[asyncio.Task[httpx.Response]]]:
    """A leader held in its execution, then FOLLOWERS identical requests that missed."""
    cache = view.caching.cache
    assert cache is not None
    leader = asyncio.create_task(post(client, LATEST, id=baku))
    await gate.entered.wait()
    misses = cache.stats.misses
    followers = [asyncio.create_task(post(client, LATEST, id=baku)) for _ in range(FOLLOWERS)]
    await _until(lambda: cache.stats.misses == misses + FOLLOWERS)
    return leader, followers


async def _missed(
    client: httpx.AsyncClient,
    baku: str,
    amend: Amend,
    monkeypatch: pytest.MonkeyPatch,
    *,
    fail: bool = False,
) -> tuple[CachingGraphQL, Gate, asyncio.Task[httpx.Response], list[asyncio.Task[httpx.Response]]]:
    """The view, its gate (failing the leader's execution if `fail`), and a leader and its
    followers missing one key that an amendment has just dropped."""
    view = view_of(client)
    await _invalidated(client, baku, amend)
    gate = Gate(view, monkeypatch)
    gate.fail = fail
    leader, followers = await _crowd(client, view, gate, baku)
    return view, gate, leader, followers


async def test_concurrent_misses_of_one_key_execute_once(
    client: httpx.AsyncClient, baku: str, amend: Amend, monkeypatch: pytest.MonkeyPatch
) -> None:
    view, gate, leader, followers = await _missed(client, baku, amend, monkeypatch)
    coalesced = view.flights.stats.coalesced
    gate.release.set()
    answers = await asyncio.gather(leader, *followers)
    assert gate.calls == 1
    assert view.flights.stats.coalesced == coalesced + FOLLOWERS
    assert answers[0].json()["data"]["plan"]["version"] == 2
    hit = await post(client, LATEST, id=baku)
    assert gate.calls == 1  # and now a hit
    for answer in answers:
        assert _sent(answer) == _sent(hit)  # the same body, ETag and headers as a hit
    metrics = (await client.get("/metrics")).text
    assert f"planapi_response_cache_coalesced_total {float(coalesced + FOLLOWERS)}" in metrics


async def test_a_failed_leader_hands_its_followers_to_the_first_of_them(
    client: httpx.AsyncClient, baku: str, amend: Amend, monkeypatch: pytest.MonkeyPatch
) -> None:
    view, gate, leader, followers = await _missed(client, baku, amend, monkeypatch, fail=True)
    fell_back = view.flights.stats.fell_back
    coalesced = view.flights.stats.coalesced
    gate.release.set()
    failed, *answers = await asyncio.gather(leader, *followers, return_exceptions=True)
    assert isinstance(failed, Exception) or failed.status_code >= 500
    # One follower executed again; the others joined it rather than each executing at once.
    assert gate.calls == 2
    assert view.flights.stats.fell_back == fell_back + 1  # as the metrics say
    assert view.flights.stats.coalesced == coalesced + FOLLOWERS - 1
    for answer in answers:
        assert isinstance(answer, httpx.Response)
        assert answer.status_code == 200
        assert answer.json()["data"]["plan"]["version"] == 2
    assert len(view.flights) == 0


async def test_a_cancelled_leader_leaves_no_follower_waiting(
    client: httpx.AsyncClient, baku: str, amend: Amend, monkeypatch: pytest.MonkeyPatch
) -> None:
    view, gate, leader, followers = await _missed(client, baku, amend, monkeypatch)
    leader.cancel()  # its client went away
    answers = await asyncio.gather(*followers)  # the gate was never released
    assert leader.cancelled()
    assert gate.calls == 2  # the held one, and the follower that took over
    assert {answer.json()["data"]["plan"]["version"] for answer in answers} == {2}
    assert len(view.flights) == 0


async def test_a_follower_going_away_leaves_the_leader_running(
    client: httpx.AsyncClient, baku: str, amend: Amend, monkeypatch: pytest.MonkeyPatch
) -> None:
    _view, gate, leader, followers = await _missed(client, baku, amend, monkeypatch)
    followers[0].cancel()
    await asyncio.sleep(0)
    gate.release.set()
    answers = await asyncio.gather(leader, *followers[1:])
    assert gate.calls == 1
    assert {answer.content for answer in answers} == {answers[0].content}
    assert answers[0].json()["data"]["plan"]["version"] == 2


async def test_other_roles_and_newer_states_do_not_join(
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    baku: str,
    amend: Amend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = view_of(client)
    await _invalidated(client, baku, amend)
    gate = Gate(view, monkeypatch)
    leader = asyncio.create_task(post(client, LATEST, id=baku))
    await gate.entered.wait()
    coalesced = view.flights.stats.coalesced
    # Answered while the admin's execution is held: it executed on its own.
    other_role = await post(anonymous, LATEST, id=baku)
    assert other_role.status_code == 200
    assert other_role.headers["cache-control"].startswith("public")
    # After a write that moves the version, the same role's read is keyed by version 3.
    await amend(baku, 2, {"updateNode": {"id": "output-toolkits", "title": "Toolkits"}})
    newer = await post(client, LATEST, id=baku)
    assert newer.json()["data"]["plan"]["version"] == 3
    assert view.flights.stats.coalesced == coalesced
    gate.release.set()
    assert (await leader).status_code == 200
