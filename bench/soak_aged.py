"""The soak's throughput as interleaved rounds: `./dev bench soak_aged` (about 15 minutes).

The soak (`bench/soak.py`) compares its last minute with its first, ten minutes apart; on this
kind of machine the speed of the same work swings by a third from one minute to the next
(`bench.machine_probe`), so one such ratio is as much the machine's as the server's. Here two
servers, each on its own schema of the same PostgreSQL and each loaded by the soak's 50
clients doing what they do there, are compared in the same minutes instead:

- *aged*: loaded for AGED_MINUTES (9), as the soak's server is by its last minute;
- *young*: loaded for YOUNG_MINUTES (1), as the soak's server is in its first.

Then ROUNDS (5) rounds, each loading one and then the other for ROUND_SECONDS (15) alone, in
turns (young first in odd rounds, aged first in even ones), each still doing what the soak does
(its plan grows, its readings table too). Each round's figure is the aged server's requests a
second over the young one's; the verdict takes their median, against the soak's own target
(>= 90%). By their last round the young server has aged ~2.3 minutes and the aged one ~10.3.
Beside each: the server's CPU µs per request in that turn, the machine's probe in that round.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass

from bench import latest
from bench.common import scratch_schema
from bench.http import _tokens, planapi
from bench.machine_probe import cpu_seconds, probe_ms
from bench.soak import TARGETS, State, _clients, _create_plans
from bench.verdicts import Verdict

AGED_MINUTES = float(os.environ.get("BENCH_SOAK_AGED_MINUTES", "9"))
YOUNG_MINUTES = float(os.environ.get("BENCH_SOAK_YOUNG_MINUTES", "1"))
ROUNDS = int(os.environ.get("BENCH_SOAK_AGED_ROUNDS", "5"))
ROUND_SECONDS = float(os.environ.get("BENCH_SOAK_ROUND_SECONDS", "15"))


@dataclass
class Server:
    name: str
    port: int
    pid: int
    admin: str
    state: State


@dataclass
class Turn:
    rate: float  # requests a second
    cpu: float  # the server's CPU µs per request


async def drive(server: Server, seconds: float) -> Turn:
    """The soak's 50 clients on `server` for `seconds`: its requests a second, CPU per request."""
    state = server.state
    state.done.clear()
    cpu = cpu_seconds(server.pid)
    state.started = time.perf_counter()
    state.deadline = state.started + seconds
    await asyncio.gather(*_clients(server.port, state, server.admin))
    elapsed = time.perf_counter() - state.started
    count = len(state.done)
    failed = sum(1 for done in state.done if not done[3])
    if failed:
        print(f"  {server.name}: {failed} of {count} requests failed")
    used = cpu_seconds(server.pid) - cpu
    return Turn(count / elapsed, used / count * 1e6 if count else float("nan"))


async def _server(name: str, base: str, pid: int, admin: str) -> Server:
    version = await asyncio.to_thread(latest._grow, base, admin)
    state = State(deadline=0.0, started=0.0, latest_version=version, first_version=version)
    await asyncio.to_thread(_create_plans, base, admin, state)
    return Server(name, int(base.rsplit(":", 1)[1]), pid, admin, state)


async def rounds(young: Server, aged: Server) -> list[tuple[Turn, Turn, float]]:
    """ROUNDS rounds of a turn each, in alternating order: (young, aged, the probe's ms)."""
    found = []
    for n in range(ROUNDS):
        probe = await probe_ms()
        order = (young, aged) if n % 2 == 0 else (aged, young)
        turns = {server.name: await drive(server, ROUND_SECONDS) for server in order}
        found.append((turns["young"], turns["aged"], probe))
        print(
            f"  round {n + 1}: young {turns['young'].rate:,.0f} req/s "
            f"({turns['young'].cpu:.0f} µs/req), aged {turns['aged'].rate:,.0f} req/s "
            f"({turns['aged'].cpu:.0f} µs/req): {turns['aged'].rate / turns['young'].rate:.0%}; "
            f"probe {probe:.2f} ms"
        )
    return found


def verdict(found: list[tuple[Turn, Turn, float]]) -> Verdict:
    ratios = [aged.rate / young.rate for young, aged, _ in found]
    kept = statistics.median(ratios)
    return Verdict(
        f"soak, aged {AGED_MINUTES:g} min beside young {YOUNG_MINUTES:g} min, "
        f"{ROUNDS} interleaved rounds: aged req/s >= 90% of young",
        f"{kept:.0%}",
        f"young server, same rounds (rounds {min(ratios):.0%} to {max(ratios):.0%})",
        kept >= TARGETS[0],
    )


async def main() -> list[Verdict]:
    print(
        f"issue 14 soak, aged beside young: {AGED_MINUTES:g} and {YOUNG_MINUTES:g} min, "
        f"{ROUNDS} rounds of {ROUND_SECONDS:g} s each, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    async with AsyncExitStack() as schemas:
        (aged_engine, aged_schema) = await schemas.enter_async_context(scratch_schema())
        (young_engine, young_schema) = await schemas.enter_async_context(scratch_schema())
        aged_admin, _ = await _tokens(aged_engine)
        young_admin, _ = await _tokens(young_engine)
        with tempfile.TemporaryDirectory(prefix="planapi-soak-") as keys, ExitStack() as running:
            key_file = os.path.join(keys, "snapshot.key")  # snapshots on, as the soak has them
            aged_base, aged_pid = running.enter_context(
                planapi(aged_schema, SNAPSHOT_KEY_FILE=key_file)
            )
            young_base, young_pid = running.enter_context(
                planapi(young_schema, SNAPSHOT_KEY_FILE=key_file)
            )
            aged = await _server("aged", aged_base, aged_pid, aged_admin)
            young = await _server("young", young_base, young_pid, young_admin)
            first = await drive(aged, 60 * AGED_MINUTES)
            print(f"  aged for {AGED_MINUTES:g} min: {first.rate:,.0f} req/s on average")
            warm = await drive(young, 60 * YOUNG_MINUTES)
            print(f"  young for {YOUNG_MINUTES:g} min: {warm.rate:,.0f} req/s on average")
            found = await rounds(young, aged)
    found_verdict = verdict(found)
    print(f"  {found_verdict.target}: {found_verdict.figure} — {found_verdict.said}")
    return [found_verdict]


if __name__ == "__main__":
    asyncio.run(main())
