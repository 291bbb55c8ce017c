"""`./dev bench`: every benchmark, one after another, each beside its own baseline."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform

from bench import plan_reads, plan_writes, readings, verify


async def main() -> None:
    print(
        f"planapi benchmarks — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores"
    )
    await plan_writes.main()
    await plan_reads.main()
    await readings.main()
    await verify.main()


if __name__ == "__main__":
    asyncio.run(main())
