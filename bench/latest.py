"""Reads of the *latest* plan over HTTP, this tree beside a base tree in the same run, and how
stale another process is without a consistency token.

`BENCH_BASE_SRC=/path/to/other/checkout/src` runs the same loads against that tree's code as
well (same database, same data, interleaved rounds): the before/after of issue 14. Each figure
is the median of `BENCH_ROUNDS` interleaved rounds of `BENCH_LATEST_SECONDS` of wrk (10
connections) against one uvicorn worker on PostgreSQL, beside the trivial starlette endpoint.

- small query (plan title, priority titles) and the full tree, latest version (no `version`
  argument), repeated: the response cache answers;
- the same with the response cache off (PLANAPI_RESPONSE_CACHE_BYTES=0);
- the small query repeated while an integration records a batch of readings for *another* plan
  every second (a scoped key keeps the answer; a key on the global heads loses it each batch);
- staleness: two server processes; an amendment through A, then B polled (no token) every
  2 ms until it shows it: the delay from A's answer, p50 / p95 / max over `BENCH_STALE_SAMPLES`,
  beside LISTEN/NOTIFY alone between two connections in the same run.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from bench.common import URL, row, scratch_schema
from bench.growth import PLAN_ID
from bench.http import (
    LIMITS,
    PYTHON,
    QUIET,
    _grow,
    _post,
    _tokens,
    _warm,
    body,
    serving,
    uvicorn_app,
)
from bench.loadgen import ensure_wrk, load

SECONDS = float(os.environ.get("BENCH_LATEST_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SAMPLES = int(os.environ.get("BENCH_STALE_SAMPLES", "40"))
BASE_SRC = os.environ.get("BENCH_BASE_SRC", "")

SMALL = "query Small($id: ID!) { plan(id: $id) { title priorities { title } } }"
FULL = (
    "query Full($id: ID!) { plan(id: $id) { id title version "
    "priorities { id code title outcomes { id code title kpis { id code title unit "
    "baseline { period value } targets { period value } } } } } }"
)
VERSION = "query Version($id: ID!) { plan(id: $id) { version } }"
AMEND = (
    "mutation Amend($input: AmendPlanInput!) { amendPlan(input: $input) { __typename "
    "... on AmendmentApplied { plan { version } } } }"
)
RECORD = (
    "mutation Record($input: RecordReadingsInput!) { recordReadings(input: $input) { __typename } }"
)
OTHER = "bench-other"


def planapi_of(src: str, schema: str, **settings: str) -> Any:
    """`planapi serve` from the code under `src` ("" : this tree)."""
    extra = {"PYTHONPATH": src} if src else {}
    return serving(
        [*PYTHON, "planapi.entrypoints.cli", "serve", "--port", "{port}", *QUIET],
        {"DATABASE_URL": URL, "DATABASE_SCHEMA": schema, **LIMITS, **settings},
        "/healthz",
        extra,
    )


@contextmanager
def batches_elsewhere(base: str, admin: str) -> Iterator[list[int]]:
    """Record a 100-reading batch for another plan every second while the block runs."""
    stop = threading.Event()
    done = [0]

    def run() -> None:
        n = 0
        while not stop.wait(1.0):
            readings = [
                {"kpiId": "kpi-1", "period": "2027", "status": "FINAL", "value": f"{n}.{i}"}
                for i in range(100)
            ]
            n += 1
            _post(base, admin, RECORD, input={"planId": OTHER, "readings": readings})
            done[0] += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield done
    finally:
        stop.set()
        thread.join()


def _other_plan(base: str, admin: str) -> None:
    from tests.readings_fixtures import create_plan_input  # a small plan with KPIs

    from planapi.entrypoints.seeding import CREATE_PLAN

    _post(base, admin, CREATE_PLAN, input=create_plan_input(OTHER))


def _rounds(trees: dict[str, str], schema: str, admin: str) -> dict[tuple[str, str], float]:
    """req/s per (tree, load), medians of interleaved rounds."""
    small, full = body(SMALL, id=PLAN_ID), body(FULL, id=PLAN_ID)
    found: dict[tuple[str, str], list[float]] = {}

    def note(tree: str, name: str, rps: float) -> None:
        found.setdefault((tree, name), []).append(rps)

    for _ in range(ROUNDS):  # 0: only the staleness
        with uvicorn_app("bench.trivial_app:app", schema) as (base, _):
            note("", "trivial", load(f"{base}/", SECONDS).requests_per_second)
        for tree, src in trees.items():
            with planapi_of(src, schema) as (base, _):
                _warm(base, small, full)
                note(
                    tree, "small", load(f"{base}/graphql", SECONDS, body=small).requests_per_second
                )
                note(tree, "full", load(f"{base}/graphql", SECONDS, body=full).requests_per_second)
                with batches_elsewhere(base, admin):
                    rps = load(f"{base}/graphql", SECONDS, body=small).requests_per_second
                note(tree, "small, batches elsewhere", rps)
            with planapi_of(src, schema, RESPONSE_CACHE_BYTES="0") as (base, _):
                _warm(base, small, full)
                note(
                    tree,
                    "small, cache off",
                    load(f"{base}/graphql", SECONDS, body=small).requests_per_second,
                )
                note(
                    tree,
                    "full, cache off",
                    load(f"{base}/graphql", SECONDS, body=full).requests_per_second,
                )
    return {key: statistics.median(values) for key, values in found.items()}


async def _staleness(schema: str, admin: str, version: int) -> tuple[list[float], list[float]]:
    """Seconds from A's answer to B showing the version, without a token: to the start of the
    first request that showed it (B's heads knew it by then: the cache key is taken first) and
    to its end (which adds B's own first read of the new version, any reader's cost)."""
    known, shown = [], []
    auth = {"authorization": f"Bearer {admin}"}
    with planapi_of("", schema) as (a, _), planapi_of("", schema) as (b, _):
        async with httpx.AsyncClient(timeout=30, headers=auth) as http:
            for n in range(SAMPLES):
                given = {
                    "planId": PLAN_ID,
                    "expectedVersion": version,
                    "authority": "TDAG",
                    "rationale": "bench",
                    "changes": [{"updateNode": {"id": "kpi-0", "title": f"Stale {n}"}}],
                }
                answer = await http.post(
                    f"{a}/graphql", json={"query": AMEND, "variables": {"input": given}}
                )
                answered = time.perf_counter()
                version = answer.json()["data"]["amendPlan"]["plan"]["version"]
                while True:
                    asked = time.perf_counter()
                    seen = await http.post(
                        f"{b}/graphql", json={"query": VERSION, "variables": {"id": PLAN_ID}}
                    )
                    if seen.json()["data"]["plan"]["version"] >= version:
                        break
                    await asyncio.sleep(0.002)
                known.append(asked - answered)
                shown.append(time.perf_counter() - answered)
                await asyncio.sleep(0.05)
    return known, shown


async def _notify_delays() -> list[float]:
    """The baseline: LISTEN/NOTIFY alone, one connection to another (seconds)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(URL).set(drivername="postgresql").render_as_string(hide_password=False)
    listener, sender = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    arrived: asyncio.Queue[float] = asyncio.Queue()
    await listener.add_listener("bench_latest", lambda *_: arrived.put_nowait(time.perf_counter()))
    delays = []
    try:
        for n in range(SAMPLES):
            sent = time.perf_counter()
            await sender.execute("SELECT pg_notify('bench_latest', $1)", str(n))
            delays.append(await asyncio.wait_for(arrived.get(), 30) - sent)
            await asyncio.sleep(0.05)
    finally:
        await listener.close()
        await sender.close()
    return delays


def _spread(delays: list[float]) -> tuple[str, str]:
    ms = sorted(d * 1000 for d in delays)
    return (
        f"p50 {statistics.median(ms):.1f} ms",
        f"p95 {ms[max(0, int(len(ms) * 0.95) - 1)]:.1f} ms, max {ms[-1]:.1f} ms over {len(ms)}",
    )


async def main() -> None:
    tool = "wrk" if ensure_wrk() else "asyncio load generator"
    trees = {"this tree": ""}
    if BASE_SRC:
        trees["base"] = BASE_SRC
    print(
        f"Latest reads over HTTP (PostgreSQL, one uvicorn worker, {tool}, 10 connections, "
        f"medians of {ROUNDS} interleaved rounds of {SECONDS:.0f} s; trees: {', '.join(trees)})"
    )
    async with scratch_schema() as (engine, schema):
        admin, _ = await _tokens(engine)
        with planapi_of("", schema) as (base, _):
            version = _grow(base, admin)
            _other_plan(base, admin)
        figures = _rounds(trees, schema, admin)
        known, shown = await _staleness(schema, admin, version)
        notified = await _notify_delays()

    if figures:
        _print_rounds(figures)
    row("LISTEN/NOTIFY alone, one connection to another (baseline)", *_spread(notified))
    row("another process, no token: A answered → B's heads know it", *_spread(known))
    row("  … → B's answer shows it (+ B's first read of the version)", *_spread(shown))


def _print_rounds(figures: dict[tuple[str, str], float]) -> None:
    trivial = figures[("", "trivial")]
    row("trivial starlette JSON endpoint (baseline)", f"{trivial:,.0f} req/s")
    for name in (
        "small",
        "full",
        "small, batches elsewhere",
        "small, cache off",
        "full, cache off",
    ):
        mine = figures[("this tree", name)]
        beside = f"{mine / trivial:.0%} of trivial"
        if BASE_SRC:
            was = figures[("base", name)]
            beside += f"; base {was:,.0f} req/s ({mine / was:.2f}x)"
        row(f"latest, {name}", f"{mine:,.0f} req/s", beside)


if __name__ == "__main__":
    asyncio.run(main())
