"""Run the real server (uvicorn, one worker) in a subprocess against a scratch schema."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bench.common import URL
from planapi.entrypoints.processes import free_port, terminate


@contextmanager
def running_server(schema: str, src: str | None = None, **settings: str) -> Iterator[str]:
    """`src`: another tree's `src` directory, whose planapi the server runs (a before/after)."""
    port = free_port()
    env = {
        **({"PYTHONPATH": src} if src else {}),
        **os.environ,
        "PLANAPI_DATABASE_URL": URL,
        "PLANAPI_DATABASE_SCHEMA": schema,
        "PLANAPI_GRAPHIQL": "false",
        # A benchmark is one client sending as fast as it can: no per-token rate limit.
        "PLANAPI_RATE_LIMIT_PER_SECOND": "0",
        **{f"PLANAPI_{k.upper()}": v for k, v in settings.items()},
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "planapi.entrypoints.cli",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        yield base
    finally:
        terminate(process)  # killed after 10 s rather than left serving


def admin_headers(schema: str, name: str = "bench") -> dict[str, str]:
    """An admin API token for the scratch schema (`planapi tokens create`), as headers: writes
    need one (docs/security.md)."""
    env = {**os.environ, "PLANAPI_DATABASE_URL": URL, "PLANAPI_DATABASE_SCHEMA": schema}
    command = [sys.executable, "-m", "planapi.entrypoints.cli", "tokens", "create"]
    done = subprocess.run(
        [*command, "--name", name, "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    secret = next(line for line in done.stdout.splitlines() if line.startswith("planapi_"))
    return {"authorization": f"Bearer {secret}"}
