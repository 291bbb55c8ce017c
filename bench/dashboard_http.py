"""The dashboard query over HTTP, repeated, while an integration records readings: issue 14's
"≥ 25% of the trivial endpoint repeated while one integration records a 100-reading batch every
second". `./dev bench dashboard_http` (by name only: about two minutes).

One planapi server (one uvicorn worker, response cache on, rate limit off) and the trivial
starlette endpoint (bench/trivial_app.py) on one PostgreSQL; the Baku plan grown to 1,000 KPIs
(5 priorities x 20 outcomes x 10) with 48,000 readings stored (one total series per KPI, 48
months, bench/dashboard.py's rows). The load is bench/latest.py's (`wrk -t1 -c10`, or the
asyncio generator without wrk). Each figure is the median of BENCH_ROUNDS interleaved rounds of
BENCH_LATEST_SECONDS per target: the trivial endpoint, the dashboard query repeated with no
writes, and the same while a thread records a 100-reading batch of the grown plan's total series
(through `recordReadings`, over HTTP) every second — each batch moves the plan's readings head,
so the cached answer is dropped and the next request executes the query (catching the summary
up by that batch) once.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import SimpleNamespace

from bench import dashboard, latest
from bench.common import row, scratch_schema
from bench.growth import PLAN_ID
from bench.http import _post, _tokens, planapi, uvicorn_app
from bench.loadgen import Load, ensure_wrk
from bench.readings import RECORD
from bench.verdicts import Verdict

TARGET_SHARE = 0.25


@contextmanager
def batches_every_second(base: str, admin: str) -> Iterator[list[int]]:
    """A 100-reading batch of the grown plan's total series every second, in a thread: each
    reading a KPI's month, so each batch changes 100 KPIs' current readings."""
    stop = threading.Event()
    done = [0]
    counter = itertools.count()

    def run() -> None:
        while not stop.wait(1.0):
            given = []
            for _ in range(100):
                n = next(counter)
                month = n % 48
                given.append(
                    {
                        "kpiId": f"kpi-{(n * 7) % dashboard.KPIS}",
                        "period": f"{2026 + month // 12}-{month % 12 + 1:02d}",
                        "status": "FINAL",
                        "value": f"{n % 100}.5",
                    }
                )
            found = _post(base, admin, RECORD, input={"planId": PLAN_ID, "readings": given})
            assert found["data"]["recordReadings"]["__typename"] == "ReadingsRecorded", found
            done[0] += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield done
    finally:
        stop.set()
        thread.join()


def _target(name: str, path: str, body: bytes | None) -> latest.Target:
    return latest.Target(name, "", path, body)


def _rounds(trivial: str, base: str, admin: str) -> tuple[dict[str, list[Load]], list[int]]:
    body = latest._body(dashboard.DASHBOARD)
    found: dict[str, list[Load]] = {"trivial": [], "dashboard": [], "with batches": []}
    batches: list[int] = []
    order = ["trivial", "dashboard", "with batches"]
    for round_ in range(latest.ROUNDS):
        shift = round_ % len(order)
        for name in order[shift:] + order[:shift]:
            if name == "trivial":
                found[name].append(latest._load(trivial, _target(name, "/", None)))
            elif name == "dashboard":
                found[name].append(latest._load(base, _target(name, "/graphql", body)))
            else:
                with batches_every_second(base, admin) as done:
                    found[name].append(latest._load(base, _target(name, "/graphql", body)))
                batches.append(done[0])
    return found, batches


def _median(loads: list[Load]) -> float:
    return statistics.median(load.requests_per_second for load in loads)


def report(found: dict[str, list[Load]], batches: list[int]) -> list[Verdict]:
    trivial, alone, written = (_median(found[k]) for k in ("trivial", "dashboard", "with batches"))
    share = written / trivial
    row("trivial starlette JSON endpoint (baseline)", f"{trivial:,.0f} req/s")
    row("dashboard query, repeated (cache on)", f"{alone:,.0f} req/s", f"{alone / trivial:.0%}")
    row(
        "dashboard query, repeated, a 100-reading batch every second",
        f"{written:,.0f} req/s",
        f"{share:.0%} of trivial ({sum(batches)} batches recorded)",
        "met" if share >= TARGET_SHARE else f"NOT met (>= {TARGET_SHARE:.0%})",
    )
    # Met only if the load had no failures and the writes ran in every round: the recorder is
    # a thread, and one whose batch was refused stops without failing the load.
    clean = not any(load.failures for loads in found.values() for load in loads)
    wrote = bool(batches) and all(batches)
    return [
        Verdict(
            "dashboard query repeated, a 100-reading batch a second: "
            f">= {TARGET_SHARE:.0%} of trivial",
            f"{written:,.0f} req/s",
            f"trivial {trivial:,.0f} ({share:.0%})",
            share >= TARGET_SHARE and clean and wrote,
        )
    ]


async def main() -> list[Verdict]:
    tool = "wrk -t1 -c10" if ensure_wrk() else "asyncio load generator (bench/loadgen.py), 10 conn"
    print(
        f"Dashboard query over HTTP while readings are recorded ({tool}; {latest.ROUNDS} "
        f"interleaved rounds x {latest.SECONDS:.0f} s; load average {latest._loadavg()})"
    )
    async with scratch_schema() as (engine, schema):
        admin, _ = await _tokens(engine)
        with ExitStack() as stack:
            trivial = stack.enter_context(uvicorn_app("bench.trivial_app:app", schema))[0]
            base = stack.enter_context(planapi(schema))[0]
            latest._grow(base, admin)
            await dashboard._fill(SimpleNamespace(engine=engine), 0, dashboard.PER_SERIES)  # type: ignore[arg-type]
            check = _post(base, admin, dashboard.DASHBOARD, id=PLAN_ID)
            assert check["data"]["plan"]["progressSummary"]["kpis"] == dashboard.KPIS, check
            found, batches = await asyncio.to_thread(_rounds, trivial, base, admin)
    verdicts = report(found, batches)
    print(f"  load average after: {latest._loadavg()}")
    return verdicts
