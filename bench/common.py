"""Shared set-up: a throw-away PostgreSQL schema, migrated, and the service on top of it."""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.clock import SystemClock
from planapi.adapters.database import create_engine
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.migrations import upgrade
from planapi.adapters.snapshots import SqlSnapshotStore, UnkeyedSnapshotStore
from planapi.application.plans import PlanService

URL = os.environ.get(
    "PLANAPI_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
ASYNCPG_DSN = URL.replace("postgresql+asyncpg://", "postgresql://")


@asynccontextmanager
async def scratch_schema() -> AsyncIterator[tuple[AsyncEngine, str]]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade(engine)
        yield engine, schema
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


# One sealing key for every service of a run (and its child processes), as a deployment's key
# file gives every process: a service with a key of its own would ignore the others' snapshots.
SNAPSHOT_KEY = hashlib.sha256(b"planapi benchmarks: not a secret").digest()


def service(
    engine: AsyncEngine,
    *,
    snapshot_interval: int = 100,
    cache_size: int = 512,
    snapshots: bool = True,
) -> PlanService:
    """`snapshots=False`: none read or written (no key), every version folded from its events."""
    clock = SystemClock()
    store = (
        SqlSnapshotStore(engine, clock, SNAPSHOT_KEY)
        if snapshots
        else UnkeyedSnapshotStore(engine, clock)
    )
    return PlanService(
        SqlEventStore(engine, clock),
        store,
        default_actor="bench",
        snapshot_interval=snapshot_interval,
        cache_size=cache_size,
    )


async def timings(action: Callable[[], Awaitable[object]], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        await action()
        out.append(time.perf_counter() - start)
    return out


def p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def row(name: str, figure: str, baseline: str = "", verdict: str = "") -> None:
    print(f"  {name:<52} {figure:>16} {baseline:>28} {verdict}")


ROOT = Path(__file__).resolve().parent.parent


def measured_apart(src: str, module: str, call: str, **env: str) -> Any:
    """`asyncio.run(<module>.<call>)` in a fresh Python process whose planapi is the one under
    `src` (this tree's bench beside it), `env` added to its environment: the JSON it printed
    last. A heap of its own per measurement, and another tree's code measured beside this one."""
    given = {**os.environ, "PYTHONPATH": os.pathsep.join([src, str(ROOT)]), **env}
    code = f"import asyncio, json, {module}; print(json.dumps(asyncio.run({module}.{call})))"
    done = subprocess.run([sys.executable, "-c", code], env=given, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])
