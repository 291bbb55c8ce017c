"""Hostile documents and bodies against one uvicorn worker on PostgreSQL (issue 11, items 4-5).

- the fan-out document (`fragment Fi on Plan{...F(i-1) ...F(i-1)}`, F20, 0.9 KB, anonymous):
  its answer time beside a one-field query's, each sent with a fresh comment so no cache helps;
- the p99 of a small query sent one at a time, idle, then while another process sends the
  largest bodies anonymous callers (64 KiB) and admins (8 MiB, the most) may send — comments, one
  string literal, a variable of readings — as fast as the server takes them.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import time
from typing import Any

import httpx

from bench.common import row, scratch_schema
from bench.http import _tokens, planapi
from planapi.entrypoints.seeding import CREATE_PLAN, seed_input

SECONDS = float(os.environ.get("BENCH_HOSTILE_SECONDS", "8"))
SMALL = '{ plan(id: "baku-2026", version: 1) { title priorities { title } } }'
ONE_FIELD = '{ plan(id: "baku-2026") { version } }'
RECORD = "mutation($input: RecordReadingsInput!) { recordReadings(input: $input) { __typename } }"
FANOUT = int(os.environ.get("BENCH_FANOUT", "20"))
SIZES = {"anonymous": 64 * 1024, "admin": 8 * 1024 * 1024}  # the defaults


def fan_out(n: int) -> str:
    fragments = ["fragment F0 on Plan{version}"] + [
        f"fragment F{i} on Plan{{...F{i - 1} ...F{i - 1}}}" for i in range(1, n + 1)
    ]
    return f'{{ plan(id:"baku-2026"){{ ...F{n} }} }}\n' + "\n".join(fragments)


# graphql-core's OverlappingFieldsCanBeMerged compares every pair of same-named fields: the
# costliest document of at most 1 KB under the selection cap found so far.
OVERLAPS = '{ plan(id: "baku-2026") { ' + 'node(id: "a") { id } ' * 47 + "} }"


def hostile_bodies(limit: int) -> list[bytes]:
    """Three bodies just under `limit` bytes: comments, a string literal, readings."""
    room = limit - 200
    comments = json.dumps({"query": ("#" + "x" * 78 + "\n") * (room // 81) + ONE_FIELD})
    literal = json.dumps({"query": '{ plan(id: "' + "x" * room + '") { version } }'})
    reading = {"kpiId": "kpi-1", "period": "2026", "status": "FINAL", "value": "1"}
    count = room // (len(json.dumps(reading)) + 2)
    readings = json.dumps(
        {
            "query": RECORD,
            "variables": {"input": {"planId": "baku-2026", "readings": [reading] * count}},
        }
    )
    return [each.encode() for each in (comments, literal, readings)]


def _attack(base: str, headers: dict[str, str], bodies: list[bytes], stop: Any) -> None:
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        while not stop.is_set():
            for body in bodies:
                http.post("/graphql", content=body, headers={"content-type": "application/json"})


def _latencies(base: str, seconds: float) -> list[float]:
    out: list[float] = []
    payload = json.dumps({"query": SMALL}).encode()
    with httpx.Client(base_url=base, timeout=60) as http:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            start = time.perf_counter()
            response = http.post(
                "/graphql", content=payload, headers={"content-type": "application/json"}
            )
            out.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text
    return out


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] * 1000


def _timed(base: str, query: str, repeat: int = 5) -> tuple[float, str]:
    times, answer = [], ""
    with httpx.Client(base_url=base, timeout=600) as http:
        for n in range(repeat):
            start = time.perf_counter()
            response = http.post("/graphql", json={"query": f"{query}\n# {n} {time.time()}"})
            times.append(time.perf_counter() - start)
            answer = response.text[:60]
    return statistics.median(times) * 1000, answer


def _under_attack(base: str, headers: dict[str, str], bodies: list[bytes]) -> list[float]:
    stop = multiprocessing.Event()
    attacker = multiprocessing.Process(target=_attack, args=(base, headers, bodies, stop))
    attacker.start()
    try:
        time.sleep(0.5)
        return _latencies(base, SECONDS)
    finally:
        stop.set()
        attacker.join(timeout=120)


def _seed(base: str, admin: str) -> None:
    httpx.post(
        f"{base}/graphql",
        json={"query": CREATE_PLAN, "variables": {"input": seed_input("baku")}},
        headers={"authorization": f"Bearer {admin}"},
        timeout=60,
    ).raise_for_status()


async def main() -> None:
    print("Hostile documents and bodies (PostgreSQL, one uvicorn worker, defaults)")
    async with scratch_schema() as (engine, schema):
        admin, _ = await _tokens(engine)
        with planapi(schema, RATE_LIMIT_PER_SECOND="0") as (base, _):
            _seed(base, admin)
            one_field, _ = _timed(base, ONE_FIELD)
            overlaps, _ = _timed(base, OVERLAPS)
            fanned, answer = _timed(
                base, fan_out(FANOUT), int(os.environ.get("BENCH_FANOUT_REPEAT", "5"))
            )
            _latencies(base, 1)  # warm
            idle = _latencies(base, SECONDS)
            anonymous = _under_attack(base, {}, hostile_bodies(SIZES["anonymous"]))
            bearer = {"authorization": f"Bearer {admin}"}
            largest = _under_attack(base, bearer, hostile_bodies(SIZES["admin"]))
    row("one-field query, uncached (baseline)", f"{one_field:.1f} ms p50")
    row(f"F{FANOUT} fan-out document, 0.9 KB, anonymous", f"{fanned:.1f} ms p50", answer[:28])
    row(f"47 same-named fields, {len(OVERLAPS)} B (overlap check)", f"{overlaps:.1f} ms p50")
    idle_p99 = _p99(idle)
    row("small query, idle (baseline)", f"{idle_p99:.1f} ms p99", f"{len(idle)} requests")
    for name, samples in (("anonymous 64 KiB", anonymous), ("admin 8 MiB", largest)):
        ratio = _p99(samples) / idle_p99
        verdict = "target <= 3x: " + ("met" if ratio <= 3 else "NOT met")
        row(
            f"small query while {name} hostile bodies arrive",
            f"{_p99(samples):.1f} ms p99",
            f"{ratio:.1f}x idle, {len(samples)} requests",
            verdict,
        )
