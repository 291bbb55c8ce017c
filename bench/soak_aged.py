"""The soak's throughput as interleaved rounds: `./dev bench soak_aged` (about 15 minutes).

The soak (`bench/soak.py`) compares its last minute with its first, ten minutes apart. On this
kind of machine the speed of the same work swings by a third from one minute to the next
(`bench.machine_probe`), so one such ratio measures the machine as much as the server. Here two
servers, each on its own schema of the same PostgreSQL and each loaded by the soak's 50
clients doing what they do there, are compared in the same minutes instead:

- *aged*: loaded for AGED_MINUTES (9; `BENCH_SOAK_AGED_MINUTES`) first, as the soak's server
  is by its last minute;
- *young*: then loaded for YOUNG_MINUTES (1; `BENCH_SOAK_YOUNG_MINUTES`).

Then ROUNDS rounds (8; `BENCH_SOAK_AGED_ROUNDS`), each loading one and then the other alone
for ROUND_SECONDS (12; `BENCH_SOAK_ROUND_SECONDS`). Young goes first in odd rounds and aged
first in even ones. Each server keeps doing what the soak does: its plan grows, and its
readings table too. By the last round the young server has been loaded for 1 to ~2.6 minutes,
the aged one for 9 to ~10.6: the check compares about the soak's minute 2 with its minute 10.

A round's figure is the aged server's successful requests a second over the young one's. The
verdict takes the median over the rounds, against the soak's own target (>= 90%). A run in
which any request failed is not met. Beside each turn: the server's CPU µs per request, and the
machine's probe taken halfway through it, under that turn's load.
"""

from __future__ import annotations

import asyncio
import math
import os
import tempfile
import time
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass

from bench.common import scratch_schema
from bench.http import _tokens, planapi
from bench.latest import _loadavg
from bench.machine_probe import cpu_seconds, probe_ms
from bench.soak import TARGETS, State, _clients, median_known, prepare, server_settings
from bench.verdicts import Verdict

AGED_MINUTES = float(os.environ.get("BENCH_SOAK_AGED_MINUTES", "9"))
YOUNG_MINUTES = float(os.environ.get("BENCH_SOAK_YOUNG_MINUTES", "1"))
ROUNDS = max(1, int(os.environ.get("BENCH_SOAK_AGED_ROUNDS", "8")))
ROUND_SECONDS = float(os.environ.get("BENCH_SOAK_ROUND_SECONDS", "12"))


@dataclass
class Server:
    name: str
    port: int
    pid: int
    admin: str
    state: State


@dataclass
class Turn:
    rate: float  # successful requests a second
    cpu: float  # the server's CPU µs per request (nan: none completed)
    failed: int = 0
    probe: float = math.nan  # the machine's probe (ms), halfway through the turn


async def drive(server: Server, seconds: float, probed: bool = False) -> Turn:
    """The soak's 50 clients on `server` for `seconds` (and the machine's probe halfway through,
    if `probed`): its successful requests a second, CPU per request, failures."""
    state = server.state
    cpu = cpu_seconds(server.pid)
    state.started = time.perf_counter()
    state.deadline = state.started + seconds

    async def probe() -> float:
        await asyncio.sleep(seconds / 2)
        return await probe_ms()

    load = asyncio.gather(*_clients(server.port, state, server.admin))
    probing = probe() if probed else asyncio.sleep(0, math.nan)
    _, probed_ms = await asyncio.gather(load, probing)
    elapsed = time.perf_counter() - state.started
    count = len(state.done)
    failed = sum(1 for done in state.done if not done[3])
    state.done.clear()  # a 9-minute turn completes millions: not kept past their count
    used = cpu_seconds(server.pid) - cpu
    per_request = used / count * 1e6 if count else math.nan
    return Turn((count - failed) / elapsed, per_request, failed, probed_ms)


async def _server(name: str, base: str, pid: int, admin: str) -> Server:
    state = await asyncio.to_thread(prepare, base, admin)
    return Server(name, int(base.rsplit(":", 1)[1]), pid, admin, state)


def ratio(young: Turn, aged: Turn) -> float:
    """The aged server's rate over the young one's (nan: the young one completed nothing)."""
    return aged.rate / young.rate if young.rate else math.nan


Round = tuple[Turn, Turn]  # young's turn, aged's turn


async def rounds(young: Server, aged: Server) -> list[Round]:
    """ROUNDS rounds of a turn each, in alternating order."""
    found = []
    for n in range(ROUNDS):
        order = (young, aged) if n % 2 == 0 else (aged, young)
        turns = {server.name: await drive(server, ROUND_SECONDS, probed=True) for server in order}
        y, a = turns["young"], turns["aged"]
        found.append((y, a))
        print(
            f"  round {n + 1}: young {y.rate:,.0f} req/s ({y.cpu:.0f} µs/req, probe "
            f"{y.probe:.2f} ms), aged {a.rate:,.0f} req/s ({a.cpu:.0f} µs/req, probe "
            f"{a.probe:.2f} ms): {ratio(y, a):.0%}"
            + (f"; failed: young {y.failed}, aged {a.failed}" if y.failed or a.failed else "")
        )
    return found


def verdict(found: list[Round], failed_before: int = 0) -> Verdict:
    """The median of the rounds' ratios against the soak's target; not met with any failure
    (`failed_before`: in the turns that aged the two), no figure without a ratio."""
    ratios = tuple(ratio(young, aged) for young, aged in found)
    kept = median_known(ratios)
    failed = failed_before + sum(young.failed + aged.failed for young, aged in found)
    known = [r for r in ratios if not math.isnan(r)]
    spread = f"{min(known):.0%} to {max(known):.0%}" if known else "no round"
    return Verdict(
        f"soak, aged {AGED_MINUTES:g} min beside young {YOUNG_MINUTES:g} min, "
        f"{len(found)} interleaved rounds: aged req/s >= 90% of young",
        f"{kept:.0%}",
        f"young server, same rounds ({spread})"
        + (f"; {failed:,} requests failed" if failed else ""),
        None if math.isnan(kept) else kept >= TARGETS[0] and not failed,
    )


async def main() -> list[Verdict]:
    print(
        f"issue 14 soak, aged beside young: {AGED_MINUTES:g} and {YOUNG_MINUTES:g} min, "
        f"{ROUNDS} rounds of {ROUND_SECONDS:g} s each, load average {_loadavg()}"
    )
    async with AsyncExitStack() as schemas:
        aged_engine, aged_schema = await schemas.enter_async_context(scratch_schema())
        young_engine, young_schema = await schemas.enter_async_context(scratch_schema())
        aged_admin, _ = await _tokens(aged_engine)
        young_admin, _ = await _tokens(young_engine)
        with tempfile.TemporaryDirectory(prefix="planapi-soak-") as keys, ExitStack() as running:
            settings = server_settings(os.path.join(keys, "snapshot.key"))
            aged_base, aged_pid = running.enter_context(planapi(aged_schema, **settings))
            young_base, young_pid = running.enter_context(planapi(young_schema, **settings))
            aged = await _server("aged", aged_base, aged_pid, aged_admin)
            young = await _server("young", young_base, young_pid, young_admin)
            failed_before = 0
            for server, minutes in ((aged, AGED_MINUTES), (young, YOUNG_MINUTES)):
                loaded = await drive(server, 60 * minutes)
                failed_before += loaded.failed
                print(
                    f"  {server.name}, loaded for {minutes:g} min: {loaded.rate:,.0f} req/s "
                    f"on average, {loaded.failed:,} failed"
                )
            found = await rounds(young, aged)
    said = verdict(found, failed_before)
    print(f"  {said.target}: {said.figure} ({said.baseline}) — {said.said}")
    return [said]


if __name__ == "__main__":
    asyncio.run(main())
