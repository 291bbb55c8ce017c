"""`./dev bench [NAME ...]`: every benchmark (or the named ones: plan_writes, plan_reads,
readings, verify, verify_load, http, merkle, hostile, proposals, dashboard, operational, search,
sdmx, tree_cpu, snapshot_decode, cache_entries, version_cache), one after another, each beside
its own baseline. Issue 14's `latest` (every HTTP target beside PostGraphile, one table), `soak`
(`--minutes N`, 10 by default), `soak_aged` (the soak's throughput as interleaved rounds of an
aged server beside a young one), `version_count` (version reads in process on a plan of 1,000
versions beside one of 10,000) and `dashboard_http` (the dashboard repeated while readings are
recorded) take minutes and run only when named."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from bench import (
    cache_entries,
    dashboard,
    dashboard_http,
    hostile,
    http,
    latest,
    merkle,
    operational,
    plan_reads,
    plan_writes,
    proposals,
    readings,
    sdmx,
    search,
    snapshot_decode,
    soak,
    soak_aged,
    tree_cpu,
    verdicts,
    verify,
    verify_load,
    version_cache,
    version_count,
)

Benchmark = Callable[[], Awaitable[Any]]
BENCHMARKS: dict[str, Benchmark] = {
    "plan_writes": plan_writes.main,
    "plan_reads": plan_reads.main,
    "readings": readings.main,
    "sdmx": sdmx.main,
    "verify": verify.main,
    "verify_load": verify_load.main,
    "http": http.main,
    "merkle": merkle.main,
    "hostile": hostile.main,
    "proposals": proposals.main,
    "dashboard": dashboard.main,
    "operational": operational.main,
    "search": search.main,
    "tree_cpu": tree_cpu.main,
    "snapshot_decode": snapshot_decode.main,
    "cache_entries": cache_entries.main,
    "version_cache": version_cache.main,
}
# Issue 14's: minutes each, run by name only (`./dev bench latest`, `./dev bench soak`);
# `issue14` runs the four of them and prints every target's verdict in one table.
ISSUE_14 = (
    ("latest", latest.main),
    ("dashboard", dashboard.main),
    ("dashboard_http", dashboard_http.main),
    ("soak", soak.main),
)
BY_NAME_ONLY: dict[str, Benchmark] = {
    "latest": latest.main,
    "soak": soak.main,
    "soak_aged": soak_aged.main,
    "version_count": version_count.main,
    "dashboard_http": dashboard_http.main,
    "issue14": partial(verdicts.run_all, ISSUE_14),
}


async def main(names: list[str]) -> None:
    known = {**BENCHMARKS, **BY_NAME_ONLY}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(known)}")
    print(
        f"planapi benchmarks — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores"
    )
    for name in names or list(BENCHMARKS):
        await known[name]()


def _options(argv: list[str]) -> list[str]:
    """`--minutes N` (the soak's length) taken out; the names left."""
    if "--minutes" in argv:
        at = argv.index("--minutes")
        soak.MINUTES = float(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
    return argv


if __name__ == "__main__":
    asyncio.run(main(_options(sys.argv[1:])))
