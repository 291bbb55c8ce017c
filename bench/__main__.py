"""`./dev bench [NAME ...]`: every benchmark (or the named ones: plan_writes, plan_reads,
readings, sdmx, verify, verify_load, http), one after another, each beside its own baseline."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import sys

from bench import (
    hostile,
    http,
    merkle,
    plan_reads,
    plan_writes,
    readings,
    sdmx,
    verify,
    verify_load,
)

BENCHMARKS = {
    "plan_writes": plan_writes.main,
    "plan_reads": plan_reads.main,
    "readings": readings.main,
    "sdmx": sdmx.main,
    "verify": verify.main,
    "verify_load": verify_load.main,
    "http": http.main,
    "merkle": merkle.main,
    "hostile": hostile.main,
}


async def main(names: list[str]) -> None:
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    print(
        f"planapi benchmarks — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores"
    )
    for name in names or list(BENCHMARKS):
        await BENCHMARKS[name]()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
