"""Whether a version read costs more on a plan with more versions: `./dev bench version_count`
(about 5 minutes).

The soak's server slows ~10% between its first minute and its tenth (`bench.soak_aged`), evenly
over every part of its work, while its plan grows from a few hundred versions to ~10,000. This
asks the same question in process, where the machine's swings matter less: the ASGI app driven
directly (`bench.request_profile`), on PostgreSQL, the Baku plan grown to 1,000 KPIs and then
amended until it has FEW (1,000; `BENCH_VERSION_COUNT_FEW`) or MANY (10,000;
`BENCH_VERSION_COUNT_MANY`) versions, each version's small query read once so that the response
cache holds them all. Then, µs of CPU per request (the median of five passes over REQUESTS):

- *one version*: the newest, again and again;
- *newest 1,000*: random versions among the newest SPREAD, the same number of distinct answers
  for both plans — so a difference is not the response cache's or the memo's hit rate;
- *every version*: random versions among them all, as the soak's readers read;
- *the trivial endpoint*: the machine's own speed meanwhile;
- *calls*: Python calls per request for each load (cProfile's count, in a pass after the timed
  ones): the same count on both plans means the same code ran, so a slower read would be the
  same work on memory laid out differently; more calls, work done again (a body the memo of
  prepared bodies no longer holds, prepared anew).

Each count is measured in ROUNDS fresh processes (3; `BENCH_VERSION_COUNT_ROUNDS`), few and many
in turn; each figure is the median over its processes, printed beside the other's.
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import random
import statistics
import tempfile
import time

import orjson

from bench.common import ROOT, measured_apart, scratch_schema
from bench.growth import PLAN_ID
from bench.http import AMEND, _tokens
from bench.latest import SMALL_VERSION
from bench.request_profile import App, _post, call, grow, per_request, planapi_app, trivial_app

FEW = int(os.environ.get("BENCH_VERSION_COUNT_FEW", "1000"))
MANY = int(os.environ.get("BENCH_VERSION_COUNT_MANY", "10000"))
ROUNDS = max(1, int(os.environ.get("BENCH_VERSION_COUNT_ROUNDS", "3")))
SPREAD = 1_000
REQUESTS = 3_000
PASSES = 5
NEWEST = f"newest {SPREAD:,}"
LOADS = (
    "trivial",
    "one version",
    NEWEST,
    "every version",
    f"calls: {NEWEST}",
    "calls: every version",
)


def _read(version: int) -> bytes:
    return orjson.dumps({"query": SMALL_VERSION, "variables": {"id": PLAN_ID, "version": version}})


async def _amend_to(app: App, admin: str, version: int, target: int) -> int:
    """Amend the grown plan (one KPI's title at a time, as the soak does) to `target`."""
    while version < target:
        change = {"updateNode": {"id": "kpi-0", "title": f"Counted {version}"}}
        given = {
            "planId": PLAN_ID,
            "expectedVersion": version,
            "authority": "TDAG",
            "rationale": "version count",
            "changes": [change],
        }
        found = await _post(app, admin, AMEND, input=given)
        version = found["data"]["amendPlan"]["plan"]["version"]
    return version


async def _load(app: App, bodies: list[bytes]) -> tuple[float, float]:
    """µs of CPU per request (the median of PASSES over `bodies`, after a pass that warms them
    and checks every answer) and Python calls per request (cProfile's count of calls, in one
    more pass, on the memo the timed passes left)."""
    for body in bodies:
        status, answer = await call(app, body)
        if status != 200 or b'"errors"' in answer[:100]:
            raise RuntimeError(f"a version read failed: {status} {answer[:300]!r}")
    passes = []
    for _ in range(PASSES):
        started = time.process_time()
        for body in bodies:
            await call(app, body)
        passes.append((time.process_time() - started) / len(bodies) * 1e6)
    profiler = cProfile.Profile()
    profiler.enable()
    for body in bodies:
        await call(app, body)
    profiler.disable()
    counted = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    calls: int = sum(found[1] for found in counted.values())
    return statistics.median(passes), calls / len(bodies)


async def measure(versions: int, key_file: str) -> dict[str, float]:
    """Every load's figures for a plan amended to `versions` (this process's own schema)."""
    async with scratch_schema() as (engine, schema):
        admin, _ = await _tokens(engine)
        async with planapi_app(schema, SNAPSHOT_KEY_FILE=key_file) as app:
            newest = await _amend_to(app, admin, await grow(app, admin), versions)
            for version in range(1, newest + 1):
                await call(app, _read(version))
            chosen = random.Random(versions)
            oldest = max(1, newest - SPREAD + 1)
            loads = {
                "one version": [_read(newest)] * REQUESTS,
                NEWEST: [_read(chosen.randint(oldest, newest)) for _ in range(REQUESTS)],
                "every version": [_read(chosen.randint(1, newest)) for _ in range(REQUESTS)],
            }
            found = {"trivial": (await per_request(trivial_app(), None, "/"))[1]}
            for name, bodies in loads.items():
                found[name], found[f"calls: {name}"] = await _load(app, bodies)
            return found


def _in_process(versions: int, key_file: str) -> dict[str, float]:
    """`measure` in a fresh process: its heap holds only that plan's data."""
    call = f"measure({versions}, {key_file!r})"
    found: dict[str, float] = measured_apart(str(ROOT / "src"), "bench.version_count", call)
    return found


def table(found: dict[int, list[dict[str, float]]]) -> list[str]:
    """One line per load: each count's median over its processes, and many over few."""
    lines = [f"  {'load':<20} {FEW:>8,} versions {MANY:>8,} versions   many / few"]
    for load in LOADS:
        few = statistics.median(figures[load] for figures in found[FEW])
        many = statistics.median(figures[load] for figures in found[MANY])
        unit = "" if load.startswith("calls") else " µs"
        lines.append(
            f"  {load:<20} {few:>11.1f}{unit:<3} {many:>14.1f}{unit:<3} {many / few:>9.0%}"
        )
    return lines


async def main() -> None:
    print(
        f"\nversion reads in process, a plan of {FEW:,} versions beside one of {MANY:,}: "
        f"CPU µs per request, medians of {ROUNDS} processes each (few and many in turn)"
    )
    found: dict[int, list[dict[str, float]]] = {FEW: [], MANY: []}
    with tempfile.TemporaryDirectory(prefix="planapi-versions-") as keys:
        key_file = os.path.join(keys, "snapshot.key")  # snapshots on, as deployed
        for _ in range(ROUNDS):
            for versions in (FEW, MANY):
                found[versions].append(await asyncio.to_thread(_in_process, versions, key_file))
    print("\n".join(table(found)))


if __name__ == "__main__":
    asyncio.run(main())
