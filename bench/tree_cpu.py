"""CPU per full-tree request in one process, through the ASGI application the HTTP path runs
(middleware, request parsing, strawberry, the compiled executor, encoding), response cache off.

`python -m bench.tree_cpu` (PostgreSQL): the Baku plan grown to 5 priorities x 20 outcomes x
10 KPIs, the full tree of `bench/latest.py` (latest and explicit version) sent as a new request
each time to `create_app()` called directly (no socket, no uvicorn). Each figure is the median
of BENCH_TREE_ROUNDS interleaved rounds of BENCH_TREE_REQUESTS requests, each round timing
every variant in turn:

- `wrappers`: the compiled executor reading fields through the strawberry type instances
  (`api.types`) built per node, as before issue 14's direct reading;
- `direct`: generated readers of the domain nodes (`api.runtime.direct_reading`), no
  per-node wrapper;
- `plain`: graphql-core's ordinary execution (no compiled executor), for scale.

The small query (plan title, priority titles) beside them is what a request costs besides the
tree (HTTP parsing, middleware, strawberry's hooks).

`BENCH_TREE_PROFILE=direct` (or another variant) prints cProfile's top functions instead.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import pstats
import statistics
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from bench.common import URL, scratch_schema
from bench.growth import PLAN_ID, grow_inputs
from bench.http import AMEND, FULL, LIMITS, SMALL, _tokens
from bench.latest import FULL_LATEST
from planapi.api.runtime import direct_reading
from planapi.api.runtime.execution import FastExecutionContext
from planapi.config import Settings
from planapi.entrypoints.asgi import create_app
from planapi.entrypoints.seeding import CREATE_PLAN, seed_input

ROUNDS = int(os.environ.get("BENCH_TREE_ROUNDS", "5"))
REQUESTS = int(os.environ.get("BENCH_TREE_REQUESTS", "20"))
KPIS = 1_000
PROFILE = os.environ.get("BENCH_TREE_PROFILE", "")

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def variant(name: str) -> None:
    FastExecutionContext.enabled = name != "plain"
    direct_reading.ENABLED = name == "direct"


async def post(app: App, body: bytes, token: str | None = None) -> bytes:
    headers = [(b"host", b"bench"), (b"content-type", b"application/json")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(chunks)


def _body(query: str, **variables: Any) -> bytes:
    return json.dumps({"query": query, "variables": {"id": PLAN_ID, **variables}}).encode()


async def _grow(app: App, admin: str) -> int:
    created = json.loads(await post(app, _body(CREATE_PLAN, input=seed_input("baku")), admin))
    assert created["data"]["createPlan"]["__typename"] == "PlanCreated", created
    version = 1
    for given in grow_inputs(1, KPIS):
        found = json.loads(await post(app, _body(AMEND, input=given), admin))
        version = found["data"]["amendPlan"]["plan"]["version"]
    return version


async def _cpu_ms(app: App, body: bytes) -> float:
    start = time.process_time()
    for _ in range(REQUESTS):
        await post(app, body)
    return (time.process_time() - start) * 1000 / REQUESTS


async def _run(app: App, bodies: dict[str, bytes]) -> None:
    answers = {}
    for name in ("plain", "wrappers", "direct"):
        variant(name)
        answers[name] = {shape: await post(app, body) for shape, body in bodies.items()}
    assert answers["plain"] == answers["wrappers"] == answers["direct"], "answers differ"
    size = len(answers["direct"]["full tree, explicit version"])
    assert b'"errors"' not in answers["direct"]["full tree, explicit version"]
    if PROFILE:
        variant(PROFILE)
        profile = cProfile.Profile()
        profile.enable()
        await _cpu_ms(app, bodies["full tree, explicit version"])
        profile.disable()
        order = os.environ.get("BENCH_TREE_SORT", "tottime")
        pstats.Stats(profile).sort_stats(order).print_stats(45)
        return
    figures: dict[tuple[str, str], list[float]] = {}
    for _ in range(ROUNDS):
        for shape, body in bodies.items():
            for name in ("wrappers", "direct", "plain"):
                variant(name)
                figures.setdefault((shape, name), []).append(await _cpu_ms(app, body))
    print(
        f"CPU ms per request, {size:,} bytes, medians of {ROUNDS} interleaved rounds x "
        f"{REQUESTS} requests, load average {os.getloadavg()[0]:.1f}:"
    )
    for (shape, name), samples in figures.items():
        print(f"  {shape:<32} {name:<9} {statistics.median(samples):7.2f} ms")


async def main() -> None:
    async with AsyncExitStack() as stack:
        engine, schema = await stack.enter_async_context(scratch_schema())
        admin, _ = await _tokens(engine)
        limits = {name.lower(): value for name, value in LIMITS.items()}
        settings = Settings(
            database_url=URL, database_schema=schema, response_cache_bytes=0, **limits
        )
        app = create_app(settings)
        await stack.enter_async_context(app.router.lifespan_context(app))
        version = await _grow(app, admin)
        bodies = {
            "full tree, explicit version": _body(FULL, version=version),
            "full tree, latest": _body(FULL_LATEST),
            "small query, explicit version": _body(SMALL, version=version),
        }
        await _run(app, bodies)


if __name__ == "__main__":
    asyncio.run(main())
