"""The soak of issue 14: `./dev bench soak [--minutes N]` (10 by default).

One planapi server (one uvicorn worker, response cache on, rate limit off, PostgreSQL) and 50
keep-alive clients in this process for N minutes, each doing one kind of thing in a loop:

- 30 read a version: the small query (plan title, priority titles) naming a version of the
  grown Baku plan picked at random among all it has (new ones appear all the time);
- 10 read the latest full tree of the grown plan (5 priorities x 20 outcomes x 10 KPIs);
- 4 amend: one amends the grown plan (a KPI's title), three amend plans of their own;
- 6 record readings: batches of 100 new readings (20 KPIs x 50 regions x 120 months), so the
  readings table grows for the whole run.

Per minute: requests completed (all kinds), version reads' p50 and p99, the server's resident
memory at the minute's end, the server's CPU per request, and the machine's own speed
(`bench.machine_probe`: the median CPU time of a fixed piece of work, sampled every
PROBE_EVERY seconds). The checks: the last minute's throughput >= 90% of the first, p99 of version
reads <= 100 ms (over the run), resident memory growing <= 5% from minute 2 to the last. The
clients share the machine's cores with the server and PostgreSQL, like wrk does.
`BENCH_SOAK_CACHE_BYTES` sets the server's response cache bound (64 MiB by default, which this
run fills only after ~40 minutes): a bound full by minute 2 shows the steady state;
`BENCH_SOAK_PREPARED_BYTES` the memo of prepared bodies' (2 MiB, ~1,400 small bodies).
`BENCH_SOAK_RUNS` (1) repeats the whole soak, each run on a fresh schema and server, then prints
each run's three checks and their medians: on one machine, the first minute's rate alone has
differed by 45% between two quiet runs of the same code (docs/performance.md, 2026-12-07 09:24).
The throughput check is judged as the issue words it, the probe's last minute against its first
printed beside it: a run whose probe took 1/0.9 = 1.11 times as long at the end as at the start
ran on a machine that alone would have cost it the 10% the check allows.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import latest
from bench.common import scratch_schema
from bench.growth import PLAN_ID
from bench.http import AMEND, _post, _tokens, planapi, resident_mb
from bench.machine_probe import cpu_seconds, probe_ms
from bench.readings import RECORD, plan_input, readings
from bench.verdicts import Verdict, said
from planapi.entrypoints.seeding import CREATE_PLAN

MINUTES = float(os.environ.get("BENCH_SOAK_MINUTES", "10"))
# The server's response cache bound (PLANAPI_RESPONSE_CACHE_BYTES), when not the default: a
# bound the run fills within its first two minutes shows what minute 2 -> 10 holds after it.
CACHE_BYTES = os.environ.get("BENCH_SOAK_CACHE_BYTES")
# The memo of prepared bodies' bound (PLANAPI_PREPARED_REQUESTS_BYTES), when not the default.
PREPARED_BYTES = os.environ.get("BENCH_SOAK_PREPARED_BYTES")
RUNS = max(1, int(os.environ.get("BENCH_SOAK_RUNS", "1")))
VERSION_READERS, LATEST_READERS, AMENDERS, RECORDERS = 30, 10, 4, 6
PER_BATCH = 100


@dataclass
class State:
    deadline: float
    started: float
    latest_version: int
    first_version: int
    versions: dict[str, int] = field(default_factory=dict)
    # (kind, completed at, seconds, ok)
    done: list[tuple[str, float, float, bool]] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # the server's CPU s: start, minutes' ends
    probes: list[tuple[float, float]] = field(default_factory=list)  # (at, the probe's CPU ms)


def _request(path: str, body: bytes, token: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _client(
    port: int,
    state: State,
    kind: str,
    make: Callable[[], bytes],
    seen: Callable[[bytes], bool] | None = None,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**24)
    try:
        while time.perf_counter() < state.deadline:
            started = time.perf_counter()
            writer.write(make())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length) if length else b""
            ended = time.perf_counter()
            ok = status == 200 and (seen(body) if seen else b'"errors"' not in body[:100])
            state.done.append((kind, ended - state.started, ended - started, ok))
    finally:
        writer.close()


def _clients(port: int, state: State, admin: str) -> list[Any]:
    small = (
        "query Small($id: ID!, $version: Int!) "
        "{ plan(id: $id, version: $version) { title priorities { title } } }"
    )
    full = latest._body(latest.FULL_LATEST)
    path = "/graphql"

    def version_read() -> bytes:
        version = random.randint(1, state.latest_version)
        body = json.dumps({"query": small, "variables": {"id": PLAN_ID, "version": version}})
        return _request(path, body.encode(), admin)

    def amend(plan: str, node: str) -> tuple[Callable[[], bytes], Callable[[bytes], bool]]:
        titles = itertools.count()

        def make() -> bytes:
            given = {
                "planId": plan,
                "expectedVersion": state.versions[plan],
                "authority": "TDAG",
                "rationale": "soak",
                "changes": [{"updateNode": {"id": node, "title": f"Soaked {next(titles)}"}}],
            }
            return _request(
                path, json.dumps({"query": AMEND, "variables": {"input": given}}).encode(), admin
            )

        def seen(body: bytes) -> bool:
            try:  # an error answer (`data` or `amendPlan` null) fails the request, not the soak
                result = json.loads(body)["data"]["amendPlan"]
                if result["__typename"] != "AmendmentApplied":
                    return False
                state.versions[plan] = result["plan"]["version"]
            except (ValueError, KeyError, TypeError):
                return False
            if plan == PLAN_ID:
                state.latest_version = state.versions[plan]
            return True

        return make, seen

    keys = itertools.count()

    def record() -> bytes:
        given = {
            "planId": "bench",
            "idempotencyKey": f"soak-{next(keys)}-{time.time_ns()}",
            "readings": readings(PER_BATCH),
        }
        return _request(
            path, json.dumps({"query": RECORD, "variables": {"input": given}}).encode(), admin
        )

    def recorded(body: bytes) -> bool:
        return b'"ReadingsRecorded"' in body

    tasks = [_client(port, state, "version", version_read) for _ in range(VERSION_READERS)]
    tasks += [
        _client(port, state, "latest", lambda: _request(path, full, admin))
        for _ in range(LATEST_READERS)
    ]
    for n in range(AMENDERS):
        plan, node = (PLAN_ID, "kpi-0") if n == 0 else (f"soak-{n}", "p")
        make, seen = amend(plan, node)
        tasks.append(_client(port, state, "amend", make, seen))
    tasks += [_client(port, state, "readings", record, recorded) for _ in range(RECORDERS)]
    return tasks


def server_settings(key_file: str) -> dict[str, str]:
    """The soak's server settings besides the database: snapshots on, as deployed (every
    process gets the key file, docs/security.md: without a key, PostgreSQL folds each cold
    version from the plan's first event, and the soak makes thousands of versions), and the
    bounds `BENCH_SOAK_CACHE_BYTES` and `BENCH_SOAK_PREPARED_BYTES` choose."""
    chosen = {"SNAPSHOT_KEY_FILE": key_file}
    if CACHE_BYTES:
        chosen["RESPONSE_CACHE_BYTES"] = CACHE_BYTES
    if PREPARED_BYTES:
        chosen["PREPARED_REQUESTS_BYTES"] = PREPARED_BYTES
    return chosen


def prepare(base: str, admin: str) -> State:
    """The grown plan and the plans the soak amends, on the server at `base`: its state."""
    version = latest._grow(base, admin)
    state = State(deadline=0.0, started=0.0, latest_version=version, first_version=version)
    _create_plans(base, admin, state)
    return state


def _create_plans(base: str, admin: str, state: State) -> None:
    _post(base, admin, CREATE_PLAN, input=plan_input())
    for n in range(1, AMENDERS):
        given = {
            "id": f"soak-{n}",
            "title": f"Soak {n}",
            "periodStart": 2026,
            "periodEnd": 2029,
            "authority": "WTDC",
            "rationale": "soak",
            "changes": [{"addNode": {"kind": "PRIORITY", "id": "p", "title": "P"}}],
        }
        _post(base, admin, CREATE_PLAN, input=given)
        state.versions[f"soak-{n}"] = 1
    state.versions[PLAN_ID] = state.latest_version


# What the server's /metrics says of its bounded caches and its collector, each minute: so the
# memory curve can be read as caches filling towards their bounds (warm-up) or not.
# The memo of parsed request bodies fills towards its bound as the version reads name more
# distinct versions; what the collector frees is what requests left in reference cycles.
SCRAPED = {
    "planapi_response_cache_bytes": "cache MB",
    "planapi_response_cache_entries": "answers",
    "planapi_version_cache_entries": "versions",
    "planapi_version_cache_bytes": "versions bytes",
    "planapi_version_cache_capacity": "versions bound",
    "planapi_version_cache_max_bytes": "versions bytes bound",
    "planapi_prepared_requests": "memo",
    "planapi_prepared_requests_bytes": "memo bytes",
    # Versions not in memory, folded from a cached one or a snapshot: the cold reads.
    "planapi_version_cache_misses_total": "cold reads",
    'python_gc_collections_total{generation="2"}': "full GCs",
    **{
        f'python_gc_objects_collected_total{{generation="{g}"}}': f"collected {g}" for g in range(3)
    },
}


async def _scrape(base: str) -> dict[str, float]:
    import httpx

    found: dict[str, float] = {}
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            text = (await client.get(f"{base}/metrics")).text
    except httpx.HTTPError:
        return found
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name in SCRAPED:
            found[SCRAPED[name]] = float(value)
    return found


async def _sample_memory(
    pid: int, base: str, state: State, rss: list[float], scraped: list[dict[str, float]]
) -> None:
    state.cpu.append(cpu_seconds(pid))
    for minute in itertools.count(1):
        wait = state.started + 60 * minute - time.perf_counter()
        if time.perf_counter() + wait > state.deadline + 1:
            return
        await asyncio.sleep(max(0.0, wait))
        rss.append(resident_mb(pid))
        state.cpu.append(cpu_seconds(pid))
        scraped.append(await _scrape(base))


# Seconds between the machine's probes: four a minute, never at a minute's edge (the first
# would run before the clients' load does).
PROBE_EVERY = 15


async def _probe_machine(state: State) -> None:
    for turn in itertools.count():
        planned = PROBE_EVERY * (turn + 0.5)
        if state.started + planned > state.deadline:
            return
        await asyncio.sleep(max(0.0, state.started + planned - time.perf_counter()))
        at = time.perf_counter() - state.started  # when it ran, if late: the minute it ran in
        if state.started + at < state.deadline:
            state.probes.append((at, await probe_ms()))


nan = float("nan")


def median_known(figures: tuple[float, ...]) -> float:
    """The median of the figures known (nan: none) — a run under 3 minutes has no memory
    growth, a failed probe no ms."""
    known = [figure for figure in figures if not math.isnan(figure)]
    return statistics.median(known) if known else nan


def _freed(metrics: dict[str, float]) -> float:
    """Objects the collector has freed so far (all generations): garbage left in cycles."""
    found = [metrics[f"collected {g}"] for g in range(3) if f"collected {g}" in metrics]
    return sum(found) if found else nan


def _p(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


Checks = tuple[float, float, float]  # last minute / first, version p99 (ms), RSS growth
TARGETS: Checks = (0.9, 100.0, 0.05)  # kept at least; p99 and growth at most


def report(
    state: State, rss: list[float], minutes: int, scraped: list[dict[str, float]] | None = None
) -> Checks:
    scraped = scraped or []
    print(
        f"  {'minute':>6} {'req/s':>8} {'version p50':>12} {'version p99':>12} "
        f"{'latest p50':>11} {'amend/s':>8} {'batches/s':>9} {'failed':>6} {'RSS MB':>7} "
        f"{'cache MB':>8} {'answers':>7} {'versions':>8} {'cold/s':>6} {'memo':>5} "
        f"{'full GCs':>8} {'GC freed':>9} {'CPU/req':>8} {'probe':>8}"
    )
    rates = []
    for minute in range(minutes):
        inside = [d for d in state.done if minute * 60 <= d[1] < (minute + 1) * 60]
        versions = [d[2] for d in inside if d[0] == "version"]
        latest_reads = [d[2] for d in inside if d[0] == "latest"]
        rate = len(inside) / 60
        rates.append(rate)
        amends = sum(1 for d in inside if d[0] == "amend") / 60
        batches = sum(1 for d in inside if d[0] == "readings") / 60
        failed = sum(1 for d in inside if not d[3])
        memory = rss[minute] if minute < len(rss) else float("nan")
        metrics = scraped[minute] if minute < len(scraped) else {}
        cache_mb = metrics.get("cache MB", float("nan")) / 2**20
        before = scraped[minute - 1] if 0 < minute <= len(scraped) else {}
        cold = (metrics.get("cold reads", nan) - before.get("cold reads", 0)) / 60
        cells = (
            f"{minute + 1:>6} {rate:>8,.0f} {_p(versions, 0.5):>9.1f} ms",
            f"{_p(versions, 0.99):>9.1f} ms {_p(latest_reads, 0.5):>8.1f} ms",
            f"{amends:>8.1f} {batches:>9.1f} {failed:>6} {memory:>7.0f}",
            f"{cache_mb:>8.1f} {metrics.get('answers', float('nan')):>7.0f}",
            f"{metrics.get('versions', float('nan')):>8.0f} {cold:>6.1f}",
            f"{metrics.get('memo', nan):>5.0f}",
            f"{metrics.get('full GCs', nan):>8.0f} {_freed(metrics):>9,.0f}",
            _control(state, minute, len(inside)),
        )
        print("  " + " ".join(cells))
    every_version = [d[2] for d in state.done if d[0] == "version" and d[1] < minutes * 60]
    p99 = _p(every_version, 0.99)
    kept = rates[-1] / rates[0] if rates and rates[0] else float("nan")
    growth = rss[-1] / rss[1] - 1 if len(rss) >= 3 else nan
    said = verdicts((kept, p99, growth))
    print(f"  throughput, last minute / first: {kept:.0%} — target >= 90%: {said[0]}")
    print(f"  the machine: the probe's CPU ms, last minute / first: {machine(state):.0%}")
    print(
        f"  version reads over the run: p50 {_p(every_version, 0.5):.1f} ms, p99 {p99:.1f} ms — "
        f"target p99 <= 100 ms: {said[1]}"
    )
    if math.isnan(growth):
        print("  resident memory growth minute 2 -> last: needs 3 minutes or more")
    else:
        print(
            f"  resident memory minute 2 -> {len(rss)}: {rss[1]:,.0f} -> {rss[-1]:,.0f} MB "
            f"({growth:+.1%}) — target <= +5%: {said[2]}"
        )
        _bounded(scraped)
    return kept, p99, growth


def _control(state: State, minute: int, requests: int) -> str:
    """The server's CPU µs per request in `minute`, and the probe's ms then (`_probe`)."""
    cpu = state.cpu
    if minute + 1 >= len(cpu) or not requests:
        return f"{nan:>5.0f} µs {_probe(state, minute):>5.2f} ms"
    per_request = (cpu[minute + 1] - cpu[minute]) / requests * 1e6
    return f"{per_request:>5.0f} µs {_probe(state, minute):>5.2f} ms"


def _probe(state: State, minute: int) -> float:
    """The median of the probe's ms taken in `minute` (nan: none)."""
    # A failed probe is nan: left out, as a run without a figure is from the runs' medians.
    return median_known(
        tuple(ms for at, ms in state.probes if minute * 60 <= at < (minute + 1) * 60)
    )


def probe_said(slowed: float) -> str:
    """`machine`'s figure in words: how much longer the probe's work took (a slower machine)."""
    return f"probe's work took {slowed - 1:+.0%}"


def machine(state: State) -> float:
    """How much longer the probe's work took in the last minute than in the first (1.1: the
    machine ran 10% slower); nan without both."""
    last = math.floor(max((at for at, _ in state.probes), default=0) / 60)
    return _probe(state, last) / _probe(state, 0) if last > 0 else nan


def met(checks: Checks) -> list[bool | None]:
    """Whether each check meets TARGETS; None where the run has no figure."""
    kept, p99, growth = checks
    meets = (kept >= TARGETS[0], p99 <= TARGETS[1], growth <= TARGETS[2])
    return [None if math.isnan(f) else ok for f, ok in zip(checks, meets, strict=True)]


def verdicts(checks: Checks) -> list[str]:
    """Each check's verdict against TARGETS; "no figure" where the run has none."""
    return [said(ok) for ok in met(checks)]


def _bounded(scraped: list[dict[str, float]]) -> None:
    """What the structures that may legitimately grow held at minute 2 and at the end: the
    part of the memory curve that is caches filling towards their bounds."""
    if len(scraped) < 3:
        return
    first, last = scraped[1], scraped[-1]

    def pair(name: str, scale: float = 1) -> str:
        return f"{first.get(name, nan) / scale:,.0f} -> {last.get(name, nan) / scale:,.0f}"

    print(
        f"  meanwhile, held within bounds: response cache {pair('cache MB', 2**20)} MB "
        f"({pair('answers')} answers), versions {pair('versions')} (of "
        f"{last.get('versions bound', nan):,.0f}; {pair('versions bytes', 2**20)} MiB by their "
        f"count, of {last.get('versions bytes bound', nan) / 2**20:,.0f}), parsed-request "
        f"memo {pair('memo')} bodies ({pair('memo bytes', 1024)} KiB, bounded in bytes); "
        "objects the collector freed "
        f"{_freed(last) - _freed(first):,.0f}"
    )


async def main() -> list[Verdict]:
    minutes = max(1, round(MINUTES))
    from bench.soak_runs import settle, summary

    runs, machines = [], []
    for n in range(RUNS):
        if n:
            settle()
        checks, slowed = await _run(minutes)
        runs.append(checks)
        machines.append(slowed)
    checks = summary(runs, machines) if len(runs) > 1 else runs[0]
    slowed = median_known(tuple(machines))
    return soak_verdicts(checks, minutes, len(runs), slowed)


def soak_verdicts(checks: Checks, minutes: int, runs: int, slowed: float = nan) -> list[Verdict]:
    """The three checks as issue 14's table has them (the medians of `runs` runs), the
    throughput's beside how much slower the machine ran its last minute (`machine`)."""
    kept, p99, growth = checks
    said = met(checks)
    of = f"{minutes}-minute soak, 50 clients" + (f", median of {runs} runs" if runs > 1 else "")
    against = "minute 1" + ("" if math.isnan(slowed) else f"; {probe_said(slowed)}")
    return [
        Verdict(f"{of}: last minute's req/s >= 90% of the first", f"{kept:.0%}", against, said[0]),
        Verdict(f"{of}: version reads' p99 <= 100 ms", f"{p99:.1f} ms", "", said[1]),
        Verdict(
            f"{of}: resident memory minute 2 -> last <= +5%", f"{growth:+.1%}", "minute 2", said[2]
        ),
    ]


async def _run(minutes: int) -> tuple[Checks, float]:
    """The run's three checks, and how much slower the machine ran its last minute."""
    print(
        f"issue 14 soak: {minutes} min, {VERSION_READERS + LATEST_READERS + AMENDERS + RECORDERS} "
        f"clients, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    async with scratch_schema() as (engine, schema):
        admin, _ = await _tokens(engine)
        keys = tempfile.TemporaryDirectory(prefix="planapi-soak-")  # gone with the run
        key_file = os.path.join(keys.name, "snapshot.key")
        with keys, planapi(schema, **server_settings(key_file)) as (base, pid):
            state = prepare(base, admin)
            version = state.first_version
            port = int(base.rsplit(":", 1)[1])
            rss: list[float] = []
            scraped: list[dict[str, float]] = []
            state.started = time.perf_counter()
            state.deadline = state.started + 60 * minutes
            sampling = _sample_memory(pid, base, state, rss, scraped)
            probing = _probe_machine(state)
            await asyncio.gather(*_clients(port, state, admin), sampling, probing)
            final = state.latest_version
    checks = report(state, rss, minutes, scraped)
    print(
        f"  the grown plan went from version {version:,} to {final:,}; "
        f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    return checks, machine(state)


if __name__ == "__main__":
    if "--minutes" in sys.argv:
        MINUTES = float(sys.argv[sys.argv.index("--minutes") + 1])
    asyncio.run(main())
