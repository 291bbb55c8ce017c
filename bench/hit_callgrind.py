"""Instructions per cached full-tree hit, counted by callgrind: `python -m bench.hit_callgrind`.

Wall-clock figures on a shared 2-core machine swing 2x between rounds; instructions do not.
Each server runs under `valgrind --tool=callgrind --instr-atstart=no`; once it is warm and its
start-up work is over, instrumentation goes on for BENCH_CG_SECONDS of `wrk -t1 -c10` POSTing
the full tree's latest query (identity, anonymous, as `bench/latest.py` sends it), then is
dumped; as many seconds idle before and after are dumped apart (the relay's poll, timers). Per
request = (instructions under load - the idle rate either side x the load's seconds) / requests.
The log follower is off (PLANAPI_LOG_FOLLOW_INTERVAL=0) on every server counted: its bursty
rounds would be most of what is subtracted, and their swing the figure's.

- `BENCH_BASE_SRC=/path/to/other/src` counts that tree's code too, on the same database and
  plan, alternating with this tree, BENCH_ROUNDS times each;
- the trivial starlette endpoint POSTed the same body and sending a 176 KB answer is counted
  once, the floor of what uvicorn and the socket cost.

Needs valgrind (callgrind_control) and wrk. Not part of CI; minutes per run.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.common import URL, scratch_schema
from bench.http import LIMITS, PYTHON, QUIET, serving, spawned
from bench.latest import FULL_LATEST, _body, _grow
from bench.loadgen import _lua, ensure_wrk

SECONDS = int(os.environ.get("BENCH_CG_SECONDS", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BASE_SRC = os.environ.get("BENCH_BASE_SRC", "")
TRIVIAL = os.environ.get("BENCH_CG_TRIVIAL", "1") != "0"  # 0: skip the trivial endpoint
# BENCH_CG_SRC: a copy of this tree to count (one edited meanwhile would be read mid-edit).
HERE = os.environ.get("BENCH_CG_SRC") or str(Path(__file__).resolve().parents[1] / "src")
SETTLED = 10e6  # instructions a second: idle (the relay's poll, timers), under valgrind
VALGRIND = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]


def _totals(path: Path) -> int:
    found = re.search(r"^(?:summary|totals): (\d+)", path.read_text(), re.M)
    assert found, path
    return int(found[1])


def _dump(pid: int, directory: Path) -> int:
    """Dump the counters since the last dump (callgrind zeroes them) and return their total."""
    before = set(directory.glob("callgrind.out.*"))
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True)
    for _ in range(200):
        new = set(directory.glob("callgrind.out.*")) - before
        if new:
            time.sleep(0.5)  # written in full
            return _totals(new.pop())
        time.sleep(0.1)
    raise RuntimeError("callgrind wrote no dump")


def _wrk(url: str, seconds: int, body: bytes) -> int:
    wrk = ensure_wrk()
    assert wrk is not None, "wrk is needed"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(body, {"Content-Type": "application/json"}))
    try:
        out = subprocess.run(
            [wrk, "-t1", "-c10", f"-d{seconds}s", "--timeout", "30s", "-s", script.name, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    assert "Non-2xx" not in out, out
    return int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]


def count(command: list[str], settings: dict[str, str], extra: dict[str, str], path: str) -> float:
    """Instructions per request of `command` run under callgrind, POSTed the full tree's query."""
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        given = [*VALGRIND, f"--callgrind-out-file={directory}/callgrind.out.%p", *command]
        with _valgrind(given, settings, extra) as (base, pid):
            given_body = _body(FULL_LATEST)
            headers = {"content-type": "application/json"}
            httpx.post(base + path, content=given_body, headers=headers, timeout=600)
            _wrk(base + path, 3, given_body)  # warm: the answer stored, code paths hot
            subprocess.run(
                ["callgrind_control", "-i", "on", str(pid)], check=True, capture_output=True
            )
            _settled(pid, directory)
            before = _idle(pid, directory)
            started = time.monotonic()
            requests = _wrk(base + path, SECONDS, _body(FULL_LATEST))
            loaded = _dump(pid, directory)
            load_seconds = time.monotonic() - started
            rate = (before + _idle(pid, directory)) / 2  # the idle rate either side of the load
        idle_share = rate * load_seconds
        print(f"  {requests} requests, {loaded:,} instructions, idle {idle_share:,.0f}", flush=True)
        return (loaded - idle_share) / requests


def _idle(pid: int, directory: Path) -> float:
    """Instructions a second over SECONDS of no load."""
    started = time.monotonic()
    time.sleep(SECONDS)
    return _dump(pid, directory) / (time.monotonic() - started)


def _settled(pid: int, directory: Path) -> None:
    """Wait for the server's start-up work (the log follower catching the Merkle trees up
    after the plan grew) to end: until a few seconds idle count under SETTLED a second."""
    deadline = time.monotonic() + 300
    _dump(pid, directory)  # zero what came before
    while True:
        started = time.monotonic()
        time.sleep(3)
        rate = _dump(pid, directory) / (time.monotonic() - started)
        if rate < SETTLED or time.monotonic() > deadline:
            print(f"  idle at {rate / 1e6:.1f} M instructions/s", flush=True)
            return


@contextmanager
def _valgrind(
    command: list[str], settings: dict[str, str], extra: dict[str, str]
) -> Iterator[tuple[str, int]]:
    """`bench.http.serving` with the minutes a server takes to start under valgrind."""
    with spawned(command, settings, extra, stop=120) as (process, port):
        deadline = time.monotonic() + 600
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[-8:]} exited with {process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[-8:]} did not start") from None
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", process.pid


def main() -> None:
    asyncio.run(_prepare_and_count())


async def _prepare_and_count() -> None:
    from bench.http import _tokens

    async with scratch_schema() as (engine, schema):
        admin, _ = await _tokens(engine)
        settings = {"DATABASE_URL": URL, "DATABASE_SCHEMA": schema, **LIMITS}
        # The log follower's rounds (seconds apart, bursty) would be most of the idle
        # instructions subtracted, and their swing the figure's: off on every server counted.
        counted = {**settings, "LOG_FOLLOW_INTERVAL": "0"}
        planapi = [*PYTHON, "planapi.entrypoints.cli", "serve", "--port", "{port}", *QUIET]
        with serving(planapi, settings, "/healthz") as (base, _pid):
            _grow(base, admin)
        trees = [("this tree", HERE)] + ([("base", BASE_SRC)] if BASE_SRC else [])
        trivial = [*PYTHON, "uvicorn", "bench.trivial_app:app", "--port", "{port}"]
        trivial += ["--loop", "uvloop", "--http", "httptools", *QUIET, "--no-access-log"]
        if TRIVIAL:
            found = count(trivial, {}, {"PYTHONPATH": HERE}, "/large")
            print(f"trivial, 176 KB body, POSTed: {found:,.0f} instructions/request", flush=True)
        for round_ in range(ROUNDS):
            for name, src in trees if round_ % 2 == 0 else trees[::-1]:
                found = count(planapi, counted, {"PYTHONPATH": src}, "/graphql")
                print(f"{name} ({src}), round {round_ + 1}: {found:,.0f}", flush=True)


if __name__ == "__main__":
    main()
