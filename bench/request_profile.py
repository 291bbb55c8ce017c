"""Where one GraphQL request's time goes, in process: `python -m bench.request_profile`.

The ASGI app (`create_app`, the whole middleware stack) is driven directly with a fake
`receive`/`send`, no socket and no HTTP parser, on PostgreSQL with the Baku plan grown to
1,000 KPIs, one request at a time: µs per request (median of BENCH_PROFILE_ROUNDS rounds of
BENCH_PROFILE_REQUESTS) for each load of `bench/latest.py`, beside a trivial starlette JSON
endpoint driven the same way. `BENCH_PROFILE=small-off` (a load's name) also prints cProfile's
top functions for that load, cumulative and own time. `BENCH_PROFILE_LOADS=small-on,full-on`
runs only those loads (the trivial endpoint always). The `-gzip` loads send a browser's
`Accept-Encoding: gzip, deflate, br` (planapi gzips answers of 1400 bytes or more).

`BENCH_BASE_SRC=/path/to/other/checkout/src` measures that tree's planapi too, on the same
data: the plan is grown once, then `BENCH_PROFILE_AB` (3) fresh processes per tree take turns
(base, this, base, this, ...), each timing the loads and the trivial endpoint; each figure is
the median over its tree's processes, printed beside the other tree's and the trivial's.

What wrk measures on top of this (uvicorn, httptools, the loopback, wrk itself) is about what
the trivial endpoint pays there beyond here: compare the trivial rows.
"""

from __future__ import annotations

import asyncio
import cProfile
import gzip
import os
import pstats
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson

from bench.common import URL, measured_apart, scratch_schema
from bench.growth import PLAN_ID, grow_inputs
from bench.http import AMEND, LIMITS, _tokens
from bench.latest import (
    FULL_LATEST,
    FULL_VERSION,
    KPIS,
    OUTCOMES_PER_PRIORITY,
    SMALL_LATEST,
    SMALL_VERSION,
)
from planapi.entrypoints.seeding import CREATE_PLAN, seed_input

Body = bytes | list[bytes] | None
REQUESTS = int(os.environ.get("BENCH_PROFILE_REQUESTS", "2000"))
ROUNDS = int(os.environ.get("BENCH_PROFILE_ROUNDS", "5"))
PROFILE = os.environ.get("BENCH_PROFILE", "")
LOADS = [name for name in os.environ.get("BENCH_PROFILE_LOADS", "").split(",") if name]
BASE_SRC = os.environ.get("BENCH_BASE_SRC", "")
AB_ROUNDS = int(os.environ.get("BENCH_PROFILE_AB", "3"))
ROOT = Path(__file__).resolve().parent.parent

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
Extra = tuple[tuple[bytes, bytes], ...]


def _scope(
    method: str, path: str, headers: list[tuple[bytes, bytes]], query: bytes
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(
    app: App,
    body: bytes | None,
    *,
    path: str = "/graphql",
    token: str | None = None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> tuple[int, bytes]:
    """One request through the app: its status and body."""
    headers = [(b"accept", b"application/json"), *(extra or [])]
    if body is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = _scope("POST" if body is not None else "GET", path, headers, b"")
    return await run(app, scope, body or b"")


async def run(app: App, scope: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    """Drive `app` with one request of `scope` and `body`: the status and body it sends."""
    sent = [{"type": "http.request", "body": body, "more_body": False}]
    status, chunks = [0], []

    async def receive() -> dict[str, Any]:
        if sent:
            return sent.pop()
        await asyncio.sleep(3600)  # the client never leaves
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status[0] = message["status"]
        else:
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status[0], b"".join(chunks)


@asynccontextmanager
async def planapi_app(schema: str, **settings: str) -> AsyncIterator[App]:
    from planapi.config import Settings
    from planapi.entrypoints.asgi import create_app

    given = {"DATABASE_URL": URL, "DATABASE_SCHEMA": schema, **LIMITS, **settings}
    saved = {k: v for k, v in os.environ.items() if k.startswith("PLANAPI_")}
    for name in saved:
        del os.environ[name]
    os.environ.update({f"PLANAPI_{k}": v for k, v in given.items()})
    try:
        app = create_app(Settings())
    finally:
        for name in given:
            os.environ.pop(f"PLANAPI_{name}", None)
        os.environ.update(saved)
    async with app.router.lifespan_context(app):
        yield app


def trivial_app() -> App:
    from bench.trivial_app import app

    return app


async def _post(app: App, token: str, query: str, **variables: Any) -> dict[str, Any]:
    body = orjson.dumps({"query": query, "variables": variables})
    status, answer = await call(app, body, token=token)
    found: dict[str, Any] = orjson.loads(answer)
    assert status == 200, (status, answer[:500])
    assert not found.get("errors"), answer[:500]
    return found


async def grow(app: App, admin: str) -> int:
    created = await _post(app, admin, CREATE_PLAN, input=seed_input("baku"))
    assert created["data"]["createPlan"]["__typename"] == "PlanCreated", created
    version = 1
    for given in grow_inputs(1, KPIS, outcomes_per_priority=OUTCOMES_PER_PRIORITY):
        found = await _post(app, admin, AMEND, input=given)
        version = found["data"]["amendPlan"]["plan"]["version"]
    return version


def _body(query: str, **variables: Any) -> bytes:
    return orjson.dumps({"query": query, "variables": {"id": PLAN_ID, **variables}})


async def per_request(
    app: App, body: Body, path: str, token: str | None = None, extra: Extra = ()
) -> tuple[float, float]:
    """µs per request, wall clock and this process's CPU: the medians of ROUNDS rounds of
    REQUESTS, one after another (wall above CPU: waiting, for the database say). A list of
    bodies is sent in turn."""
    bodies = body if isinstance(body, list) else [body]
    status, answer = await call(app, bodies[0], path=path, token=token, extra=[*extra])
    assert status == 200, (status, answer[:300])
    if extra:
        answer = gzip.decompress(answer) if answer[:2] == b"\x1f\x8b" else answer
    assert b'"errors"' not in answer[:200], answer[:300]
    walls, cpus = [], []
    for _ in range(ROUNDS):
        started, cpu = time.perf_counter(), time.process_time()
        for n in range(REQUESTS):
            await call(app, bodies[n % len(bodies)], path=path, token=token, extra=[*extra])
        walls.append((time.perf_counter() - started) / REQUESTS * 1e6)
        cpus.append((time.process_time() - cpu) / REQUESTS * 1e6)
    return statistics.median(walls), statistics.median(cpus)


async def profile(
    app: App, body: Body, path: str, name: str, token: str | None = None, extra: Extra = ()
) -> None:
    bodies = body if isinstance(body, list) else [body]
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(REQUESTS):
        await call(app, bodies[n % len(bodies)], path=path, token=token, extra=[*extra])
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"\n--- cProfile, {name}, {REQUESTS} requests ---")
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)


OFF = {"RESPONSE_CACHE_BYTES": "0"}
STACK = {"RESPONSE_CACHE_HIT_LAYER": "false"}  # hits through every layer (hit_layer.py)


BROWSER: Extra = ((b"accept-encoding", b"gzip, deflate, br"),)  # what browsers send
Load = tuple[dict[str, str], "Body", str | None, Extra]
# More bodies than the memo of prepared bodies holds (2 MiB: ~1,400 small ones), each the same
# query and variables spelled with its own whitespace, so every one finds the same stored
# answer: a dashboard's reads of any of thousands of versions, without thousands of versions.
SPELLINGS = 5_000


def _spellings(query: str, version: int) -> list[bytes]:
    given = orjson.dumps({"id": PLAN_ID, "version": version}).decode()
    return [
        f'{{"query": {orjson.dumps(query).decode()},{" " * n}"variables": {given}}}'.encode()
        for n in range(SPELLINGS)
    ]


def _loads(version: int, token: str) -> dict[str, Load]:
    """Each load: the settings it runs with, the body, the token (None: anonymous), the
    headers it adds."""
    small, full = _body(SMALL_LATEST), _body(FULL_LATEST)
    small_version = _body(SMALL_VERSION, version=version)
    loads: dict[str, Load] = {
        "small-on": ({}, small, None, ()),
        "small-on-stack": (STACK, small, None, ()),
        "small-off": (OFF, small, None, ()),
        "small-version-on": ({}, small_version, None, ()),
        "small-version-off": (OFF, small_version, None, ()),
        "small-version-spelled": ({}, _spellings(SMALL_VERSION, version), None, ()),
        "full-on": ({}, full, None, ()),
        "full-on-stack": (STACK, full, None, ()),
        "full-off": (OFF, full, None, ()),
        "full-version-on": ({}, _body(FULL_VERSION, version=version), None, ()),
        "small-on-token": ({}, small, token, ()),  # a role's cached answer
        "small-on-token-stack": (STACK, small, token, ()),
        "small-on-gzip": ({}, small, None, BROWSER),  # below 1400 bytes: identity all the same
        "full-on-gzip": ({}, full, None, BROWSER),  # the stored gzip variant, sent as is
        "full-on-gzip-stack": (STACK, full, None, BROWSER),
    }
    return {name: found for name, found in loads.items() if not LOADS or name in LOADS}


async def measure(schema: str, version: int, token: str) -> dict[str, tuple[float, float]]:
    """µs per request (wall, CPU) of each load and the trivial endpoint, on grown data."""
    figures: dict[str, tuple[float, float]] = {}
    trivial = trivial_app()
    figures["trivial"] = await per_request(trivial, None, "/")
    for name, (settings, body, caller, extra) in _loads(version, token).items():
        async with planapi_app(schema, **settings) as app:
            figures[name] = await per_request(app, body, "/graphql", caller, extra)
            if name == PROFILE:
                await profile(app, body, "/graphql", name, caller, extra)
    figures["trivial (again)"] = await per_request(trivial, None, "/")
    return figures


def _in_process(src: str, schema: str, version: int, reader: str) -> dict[str, list[float]]:
    """`measure` in a fresh process whose planapi is the one under `src`."""
    call = f"measure({schema!r}, {version}, {reader!r})"
    found: dict[str, list[float]] = measured_apart(
        src, "bench.request_profile", call, BENCH_PROFILE=""
    )
    return found


def _print(figures: dict[str, tuple[float, float]]) -> None:
    print(f"\nIn process, µs per request (medians of {ROUNDS} rounds of {REQUESTS}):")
    for name, (wall, cpu) in figures.items():
        print(f"  {name:<20} {wall:8.1f} µs wall {cpu:8.1f} µs CPU {1e6 / wall:9,.0f} /s")


def _print_ab(rounds: dict[str, list[dict[str, list[float]]]]) -> None:
    print(
        f"\nIn process, µs CPU per request, base and this tree in {AB_ROUNDS} interleaved "
        f"processes each (each: medians of {ROUNDS} rounds of {REQUESTS}); median (each process):"
    )
    for name in rounds["this"][0]:
        base = [found[name][1] for found in rounds["base"] if name in found]
        this = [found[name][1] for found in rounds["this"]]
        each = ", ".join(f"{b:.1f}/{t:.1f}" for b, t in zip(base, this, strict=False))
        before = f"{statistics.median(base):8.1f}" if base else "       -"
        print(f"  {name:<20} base {before} µs  this {statistics.median(this):8.1f} µs  ({each})")


@asynccontextmanager
async def _grown() -> AsyncIterator[tuple[str, int, str]]:
    async with scratch_schema() as (engine, schema):
        admin, reader = await _tokens(engine)  # the second: an editor's token
        async with planapi_app(schema) as app:
            version = await grow(app, admin)
        yield schema, version, reader


async def main() -> None:
    async with _grown() as (schema, version, reader):
        if not BASE_SRC:
            _print(await measure(schema, version, reader))
            return
        rounds: dict[str, list[dict[str, list[float]]]] = {"base": [], "this": []}
        for _ in range(AB_ROUNDS):  # interleaved: the machine's load drifts alike for both
            for tree, src in (("base", BASE_SRC), ("this", str(ROOT / "src"))):
                found = await asyncio.to_thread(_in_process, src, schema, version, reader)
                rounds[tree].append(found)
        _print_ab(rounds)


if __name__ == "__main__":
    asyncio.run(main())
