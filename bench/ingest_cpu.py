"""Where `POST /ingest/readings` spends the server's CPU, in process: `python -m bench.ingest_cpu`.

The ASGI app (`create_app`, the whole middleware stack) is driven directly, no socket, on
PostgreSQL, with the plan of `bench/sdmx.py`: alternately an NDJSON request and an SDMX-CSV 2.0
request of 10,000 readings each (the bodies of `bench/readings.py` and `bench/sdmx.py`), and
the CPU this process spends per reading on each (the median of BENCH_INGEST_ROUNDS requests).
CPU time is steadier than rows/s on a shared machine: PostgreSQL's work is not in it.

`BENCH_BASE_SRC=/path/to/other/src` runs the same measure with that tree's planapi in a
separate process, alternating with this tree's (BENCH_ROUNDS processes each): the before and
after of a change in one run. `BENCH_PROFILE=sdmx` (or `ndjson`) prints cProfile's top
functions for that route instead.
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

import orjson
from tests.sdmx_messages import MEDIA_TYPE

from bench.common import measured_apart, scratch_schema
from bench.http import _tokens
from bench.request_profile import App, _scope, call, planapi_app, run
from bench.sdmx import message, plan_input

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("BENCH_INGEST_ROUNDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PROFILE = os.environ.get("BENCH_PROFILE", "")
PER_REQUEST = 10_000
CREATE = "mutation($i: CreatePlanInput!) { createPlan(input: $i) { __typename } }"


def ndjson_body() -> bytes:
    from bench.readings import readings

    return b"\n".join(orjson.dumps(r) for r in readings(PER_REQUEST))


async def _ingest(app: App, token: str, body: bytes, kind: str) -> tuple[float, float]:
    """The CPU seconds of this process for one request, which must store every reading, and
    its wall-clock seconds (above the CPU: waiting for PostgreSQL, or for the machine)."""
    path = "/ingest/readings"
    extra = [(b"content-type", kind.encode()), (b"authorization", f"Bearer {token}".encode())]
    started, wall = time.process_time(), time.perf_counter()
    status, answer = await _call_query(app, path, body, extra)
    spent = time.process_time() - started, time.perf_counter() - wall
    assert status == 200, answer[:500]
    assert orjson.loads(answer)["stored"] == PER_REQUEST, answer[:500]
    return spent


async def _call_query(
    app: App, path: str, body: bytes, extra: list[tuple[bytes, bytes]]
) -> tuple[int, bytes]:
    """One POST through the app with these headers (`call` would send JSON's)."""
    headers = [(b"host", b"127.0.0.1"), *extra, (b"content-length", b"%d" % len(body))]
    scope = {**_scope("POST", path, [], b"planId=bench"), "headers": headers}
    return await run(app, scope, body)


ROUTES = {
    "ndjson": ("application/x-ndjson", ndjson_body),
    "sdmx": (MEDIA_TYPE, lambda: message(PER_REQUEST)),
}


async def measure() -> dict[str, float]:
    """µs of CPU per reading, per route (medians), in this process; and of wall clock (as
    `<route> wall`)."""
    spent: dict[str, list[float]] = {key: [] for name in ROUTES for key in (name, f"{name} wall")}
    async with scratch_schema() as (engine, schema):
        admin, _ = await _tokens(engine)
        async with planapi_app(schema) as app:
            created = await call(
                app,
                orjson.dumps({"query": CREATE, "variables": {"i": plan_input()}}),
                token=admin,
            )
            assert b"PlanCreated" in created[1], created
            for round_ in range(REQUESTS + 1):  # the first round warms up
                for name, (kind, body) in ROUTES.items():
                    given = body()
                    if name == PROFILE and round_ == REQUESTS:
                        await _profiled(app, admin, given, kind)
                        continue
                    cpu, wall = await _ingest(app, admin, given, kind)
                    if round_:
                        spent[name].append(cpu / PER_REQUEST * 1e6)
                        spent[f"{name} wall"].append(wall / PER_REQUEST * 1e6)
    return {name: statistics.median(found) for name, found in spent.items() if found}


async def _profiled(app: App, token: str, body: bytes, kind: str) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    await _ingest(app, token, body, kind)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stderr)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(40)


def _in_process(src: str) -> dict[str, float]:
    """`measure` in a fresh process whose planapi is the one under `src`."""
    found: dict[str, float] = measured_apart(src, "bench.ingest_cpu", "measure()", BENCH_PROFILE="")
    return found


def main() -> None:
    base = os.environ.get("BENCH_BASE_SRC")
    print("POST /ingest/readings, in process: µs per reading of CPU, and wall (10,000/request)")
    if not base:
        for name, us in asyncio.run(measure()).items():
            print(f"  {name:<12} {us:8.1f} µs/reading")
        return
    rounds: dict[str, list[dict[str, float]]] = {"base": [], "this": []}
    for _ in range(ROUNDS):  # interleaved: the load drifts alike for both
        rounds["base"].append(_in_process(base))
        rounds["this"].append(_in_process(str(ROOT / "src")))
    for name in [key for route in ROUTES for key in (route, f"{route} wall")]:
        before = [r[name] for r in rounds["base"]]
        after = [r[name] for r in rounds["this"]]
        print(
            f"  {name:<12} base {statistics.median(before):6.1f} µs  this "
            f"{statistics.median(after):6.1f} µs  (rounds: "
            f"{', '.join(f'{b:.1f}/{a:.1f}' for b, a in zip(before, after, strict=True))})"
        )


if __name__ == "__main__":
    main()
