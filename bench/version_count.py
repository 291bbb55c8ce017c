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
- *Python calls per request* (cProfile's count over the newest 1,000): the same count means the
  same code ran, so a slower read is the same work on memory laid out differently.

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
LOADS = ("trivial", "one version", f"newest {SPREAD:,}", "every version", "calls per request")


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


async def _cpu(app: App, bodies: list[bytes]) -> float:
    """µs of CPU per request: the median of PASSES over `bodies`, after one to warm them."""
    passes = []
    for _ in range(PASSES + 1):
        started = time.process_time()
        for body in bodies:
            await call(app, body)
        passes.append((time.process_time() - started) / len(bodies) * 1e6)
    return statistics.median(passes[1:])


async def _calls(app: App, bodies: list[bytes]) -> float:
    """Python calls per request (cProfile's primitive calls) over `bodies`, already warm."""
    profiler = cProfile.Profile()
    profiler.enable()
    for body in bodies:
        await call(app, body)
    profiler.disable()
    counted = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    calls: int = sum(found[1] for found in counted.values())
    return calls / len(bodies)


async def measure(versions: int, key_file: str) -> dict[str, float]:
    """Every load's figure for a plan amended to `versions` (this process's own schema)."""
    async with scratch_schema() as (engine, schema):
        admin, _ = await _tokens(engine)
        async with planapi_app(schema, SNAPSHOT_KEY_FILE=key_file) as app:
            newest = await _amend_to(app, admin, await grow(app, admin), versions)
            for version in range(1, newest + 1):
                await call(app, _read(version))
            chosen = random.Random(versions)
            oldest = max(1, newest - SPREAD + 1)
            spread = [_read(chosen.randint(oldest, newest)) for _ in range(REQUESTS)]
            every = [_read(chosen.randint(1, newest)) for _ in range(REQUESTS)]
            return {
                "trivial": (await per_request(trivial_app(), None, "/"))[1],
                "one version": await _cpu(app, [_read(newest)] * REQUESTS),
                f"newest {SPREAD:,}": await _cpu(app, spread),
                "every version": await _cpu(app, every),
                "calls per request": await _calls(app, spread),
            }


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
        unit = "" if load == "calls per request" else " µs"
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
