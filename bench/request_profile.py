"""Where one GraphQL request's time goes, in process: `python -m bench.request_profile`.

The ASGI app (`create_app`, the whole middleware stack) is driven directly with a fake
`receive`/`send`, no socket and no HTTP parser, on PostgreSQL with the Baku plan grown to
1,000 KPIs, one request at a time: µs per request (median of BENCH_PROFILE_ROUNDS rounds of
BENCH_PROFILE_REQUESTS) for each load of `bench/latest.py`, beside a trivial starlette JSON
endpoint driven the same way. `BENCH_PROFILE=small-off` (a load's name) also prints cProfile's
top functions for that load, cumulative and own time.

What wrk measures on top of this (uvicorn, httptools, the loopback, wrk itself) is about what
the trivial endpoint pays there beyond here: compare the trivial rows.
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson

from bench.common import URL, scratch_schema
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

REQUESTS = int(os.environ.get("BENCH_PROFILE_REQUESTS", "2000"))
ROUNDS = int(os.environ.get("BENCH_PROFILE_ROUNDS", "5"))
PROFILE = os.environ.get("BENCH_PROFILE", "")

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]], query: bytes) -> dict:
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


async def per_request(app: App, body: bytes | None, path: str) -> tuple[float, float]:
    """µs per request, wall clock and this process's CPU: the medians of ROUNDS rounds of
    REQUESTS, one after another (wall above CPU: waiting, for the database say)."""
    status, answer = await call(app, body, path=path)
    assert status == 200, (status, answer[:300])
    assert b'"errors"' not in answer[:200], answer[:300]
    walls, cpus = [], []
    for _ in range(ROUNDS):
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(REQUESTS):
            await call(app, body, path=path)
        walls.append((time.perf_counter() - started) / REQUESTS * 1e6)
        cpus.append((time.process_time() - cpu) / REQUESTS * 1e6)
    return statistics.median(walls), statistics.median(cpus)


async def profile(app: App, body: bytes | None, path: str, name: str) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(REQUESTS):
        await call(app, body, path=path)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"\n--- cProfile, {name}, {REQUESTS} requests ---")
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)


async def main() -> None:
    figures: dict[str, tuple[float, float]] = {}
    async with scratch_schema() as (engine, schema):
        admin, _ = await _tokens(engine)
        async with planapi_app(schema) as app:
            version = await grow(app, admin)
        loads = {
            "small-on": ("", _body(SMALL_LATEST)),
            "small-off": ("0", _body(SMALL_LATEST)),
            "small-version-on": ("", _body(SMALL_VERSION, version=version)),
            "small-version-off": ("0", _body(SMALL_VERSION, version=version)),
            "full-on": ("", _body(FULL_LATEST)),
            "full-off": ("0", _body(FULL_LATEST)),
            "full-version-on": ("", _body(FULL_VERSION, version=version)),
        }
        trivial = trivial_app()
        figures["trivial"] = await per_request(trivial, None, "/")
        for name, (cache, body) in loads.items():
            settings = {"RESPONSE_CACHE_BYTES": cache} if cache else {}
            async with planapi_app(schema, **settings) as app:
                figures[name] = await per_request(app, body, "/graphql")
                if name == PROFILE:
                    await profile(app, body, "/graphql", name)
        figures["trivial (again)"] = await per_request(trivial, None, "/")
    print(f"\nIn process, µs per request (medians of {ROUNDS} rounds of {REQUESTS}):")
    for name, (wall, cpu) in figures.items():
        print(f"  {name:<20} {wall:8.1f} µs wall {cpu:8.1f} µs CPU {1e6 / wall:9,.0f} /s")


if __name__ == "__main__":
    asyncio.run(main())
