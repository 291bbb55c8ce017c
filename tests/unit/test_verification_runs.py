"""Verification runs one at a time per process; a caller shares a run only if that run had not
started when the caller asked; long loops give the event loop back after each slice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from planapi.application import pacing
from planapi.application.integrity import Coalescer
from planapi.application.pacing import Pacer


def reader(stored: list[int], release: asyncio.Event) -> Callable[[], asyncio.Future[int]]:
    """A run that reads the value stored when it starts, then takes its time."""

    async def run() -> int:
        seen = stored[0]
        await release.wait()
        return seen

    return lambda: asyncio.ensure_future(run())


async def test_a_caller_never_shares_a_run_already_under_way() -> None:
    runs, release, stored = Coalescer(), asyncio.Event(), [1]
    work = reader(stored, release)
    first = asyncio.create_task(runs.run("plan", work))
    await asyncio.sleep(0.01)  # under way: it has read 1
    stored[0] = 2  # tampered with after the first run read it
    second = asyncio.create_task(runs.run("plan", work))
    third = asyncio.create_task(runs.run("plan", work))
    await asyncio.sleep(0.01)
    release.set()

    assert await first == 1
    assert (await second, await third) == (2, 2), "both asked after the change: one new run"
    assert runs.started == 2


async def test_runs_of_different_questions_do_not_overlap() -> None:
    runs, running, most = Coalescer(), [0], [0]

    async def work() -> None:
        running[0] += 1
        most[0] = max(most[0], running[0])
        await asyncio.sleep(0.01)
        running[0] -= 1

    await asyncio.gather(*(runs.run(key, work) for key in ("a", "b", "c", "a")))

    assert most[0] == 1
    assert runs.started == 3, "the second 'a' joined the first while it waited to start"


async def test_a_caller_that_goes_away_leaves_the_run_to_the_others() -> None:
    runs, release, stored = Coalescer(), asyncio.Event(), [7]
    work = reader(stored, release)
    leaving = asyncio.create_task(runs.run("plan", work))
    staying = asyncio.create_task(runs.run("plan", work))
    await asyncio.sleep(0.01)
    leaving.cancel()
    release.set()

    assert await staying == 7
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_the_pacer_yields_once_its_slice_is_used_up(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(pacing.time, "perf_counter", lambda: now[0])
    yields = []

    async def sleep(delay: float) -> None:
        yields.append(now[0])

    monkeypatch.setattr(pacing.asyncio, "sleep", sleep)
    pacer = Pacer(slice_seconds=0.002)
    for _ in range(10):
        now[0] += 0.0005
        await pacer.tick()

    assert yields == [0.002, 0.004]
