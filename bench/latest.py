"""Issue 14's HTTP targets in one run, one table: `./dev bench latest`.

Every server runs at once, one process each (one uvicorn worker, uvloop + httptools, log level
warning, rate limit off; PostGraphile v4 as pinned in bench/postgraphile.py), all on one
PostgreSQL. The load is `wrk -t1 -c10` (bench/loadgen.py's asyncio generator without wrk; the
table says which ran). Each figure is the median of BENCH_ROUNDS interleaved rounds: each round
loads every target once, for BENCH_LATEST_SECONDS, in an order rotated by one each round, so a
machine that slows down (other work on it) slows every target alike.

Targets:
- trivial: a starlette JSON endpoint (bench/trivial_app.py), the ceiling of the stack; and the
  same app sending a prebuilt 176 KB body, the ceiling for an answer the size of the full tree;
- planapi, small query (plan title, priority titles) and full tree (the Baku plan grown to
  5 priorities x 20 outcomes x 10 KPIs, with baselines and targets): the latest version
  (`plan(id:)`) repeated with the response cache on, and with it off
  (PLANAPI_RESPONSE_CACHE_BYTES=0: executed every time); an explicit version repeated;
- planapi, both shapes naming an explicit version with the response cache off: execution
  without any database round trip, the floor of the cache-off latest path once the latest
  version is known in the process (no target of its own);
- PostGraphile v4, the same two shapes read from tables.

The two "browser's Accept-Encoding" rows send `Accept-Encoding: gzip, deflate, br`, as every
browser does: the full tree goes out gzipped (made once per stored answer), the small answer is
below the 1400 bytes planapi compresses from. Every other row asks for identity (wrk and the
asyncio generator send no Accept-Encoding).

`BENCH_ONLY` (comma-separated parts of target names) runs only those targets, with the
baselines they stand beside.

It is not part of CI or the tests: it takes minutes and its figures depend on the machine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import statistics
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from bench import postgraphile
from bench.common import scratch_schema
from bench.growth import PLAN_ID, grow_inputs
from bench.http import AMEND, _post, _tokens, planapi, serving, uvicorn_app
from bench.loadgen import Load, ensure_wrk, run_asyncio, run_wrk
from bench.verdicts import Verdict
from planapi.entrypoints.seeding import CREATE_PLAN, seed_input

SECONDS = float(os.environ.get("BENCH_LATEST_SECONDS", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# Comma-separated parts of target names: only those run (with the baselines they stand beside).
ONLY = [part for part in os.environ.get("BENCH_ONLY", "").split(",") if part]
CONNECTIONS = 10
OUTCOMES_PER_PRIORITY = 20
KPIS = 1_000  # 5 priorities x 20 outcomes x 10 KPIs

SMALL_LATEST = "query Small($id: ID!) { plan(id: $id) { title priorities { title } } }"
TREE = (
    "{ id title version priorities { id code title outcomes { id code title kpis { id code "
    "title unit baseline { period value } targets { period value } } } } }"
)
FULL_LATEST = "query Full($id: ID!) { plan(id: $id) " + TREE + " }"
BROWSER = "gzip, deflate, br"  # what every browser sends: planapi gzips answers >= 1400 bytes
FULL_VERSION = (
    "query Full($id: ID!, $version: Int!) { plan(id: $id, version: $version) " + TREE + " }"
)
SMALL_VERSION = (
    "query Small($id: ID!, $version: Int!) "
    "{ plan(id: $id, version: $version) { title priorities { title } } }"
)


@dataclass(frozen=True)
class Target:
    name: str
    server: str  # key into the running servers' base URLs
    path: str
    body: bytes | None
    peer: str | None = None  # the PostGraphile target of the same shape
    target: str = ""
    meets: Callable[[float, float, float], bool] | None = None  # (figure, trivial, peer)
    encoding: str | None = None  # Accept-Encoding sent (None: none, identity)


def _body(query: str, **variables: Any) -> bytes:
    import json

    return json.dumps({"query": query, "variables": {"id": PLAN_ID, **variables}}).encode()


def targets(version: int) -> list[Target]:
    half = lambda f, trivial, peer: f >= 0.5 * trivial  # noqa: E731
    return [
        Target("trivial starlette JSON endpoint", "trivial", "/", None),
        Target("trivial starlette endpoint, a prebuilt 176 KB body", "trivial", "/large", None),
        Target("PostGraphile v4, small query", "peer", "/graphql", postgraphile.body("small")),
        Target("PostGraphile v4, full tree", "peer", "/graphql", postgraphile.body("full")),
        Target(
            "planapi small, latest, repeated (cache on)",
            "on",
            "/graphql",
            _body(SMALL_LATEST),
            "PostGraphile v4, small query",
            ">= 50% of trivial",
            half,
        ),
        Target(
            "planapi small, latest, repeated (cache on), browser's Accept-Encoding",
            "on",
            "/graphql",
            _body(SMALL_LATEST),
            "PostGraphile v4, small query",
            ">= 50% of trivial",
            half,
            BROWSER,
        ),
        Target(
            "planapi small, latest, response cache off",
            "off",
            "/graphql",
            _body(SMALL_LATEST),
            "PostGraphile v4, small query",
            ">= 1.5x PostGraphile",
            lambda f, trivial, peer: f >= 1.5 * peer,
        ),
        Target(
            "planapi small, explicit version, repeated",
            "on",
            "/graphql",
            _body(SMALL_VERSION, version=version),
            "PostGraphile v4, small query",
            ">= 50% of trivial",
            half,
        ),
        Target(
            "planapi small, explicit version, response cache off",
            "off",
            "/graphql",
            _body(SMALL_VERSION, version=version),
            "PostGraphile v4, small query",
            "(no heads lookup: latest's floor)",
        ),
        Target(
            "planapi full tree, latest, repeated (cache on)",
            "on",
            "/graphql",
            _body(FULL_LATEST),
            "PostGraphile v4, full tree",
            ">= 50% of trivial",
            half,
        ),
        Target(
            "planapi full tree, latest, repeated (cache on), browser's Accept-Encoding",
            "on",
            "/graphql",
            _body(FULL_LATEST),
            "PostGraphile v4, full tree",
            ">= 50% of trivial",
            half,
            BROWSER,
        ),
        Target(
            "planapi full tree, latest, response cache off",
            "off",
            "/graphql",
            _body(FULL_LATEST),
            "PostGraphile v4, full tree",
            ">= 2x PostGraphile",
            lambda f, trivial, peer: f >= 2 * peer,
        ),
        Target(
            "planapi full tree, explicit version, repeated",
            "on",
            "/graphql",
            _body(FULL_VERSION, version=version),
            "PostGraphile v4, full tree",
            ">= 50% of trivial",
            half,
        ),
        Target(
            "planapi full tree, explicit version, response cache off",
            "off",
            "/graphql",
            _body(FULL_VERSION, version=version),
            "PostGraphile v4, full tree",
            "(no heads lookup: latest's floor)",
        ),
    ]


def chosen(every: list[Target]) -> list[Target]:
    if not ONLY:
        return every
    wanted = [t for t in every if any(part in t.name for part in ONLY)]
    needed = {"trivial starlette JSON endpoint", *(t.peer for t in wanted if t.peer)}
    return [t for t in every if t in wanted or t.name in needed]


def _load(base: str, target: Target) -> Load:
    headers = {"Content-Type": "application/json"} if target.body else {}
    if target.encoding is not None:
        headers["Accept-Encoding"] = target.encoding
    wrk = ensure_wrk()
    url = base + target.path
    if wrk is not None:
        return run_wrk(wrk, url, SECONDS, CONNECTIONS, target.body, headers, threads=1)
    return asyncio.run(run_asyncio(url, SECONDS, CONNECTIONS, target.body, headers))


def _grow(base: str, admin: str) -> int:
    """Seed the Baku draft and grow it to 5 x 20 x 10; the version that has it all."""
    created = _post(base, admin, CREATE_PLAN, input=seed_input("baku"))
    assert created["data"]["createPlan"]["__typename"] == "PlanCreated", created
    version = 1
    for given in grow_inputs(1, KPIS, outcomes_per_priority=OUTCOMES_PER_PRIORITY):
        found = _post(base, admin, AMEND, input=given)
        assert found["data"]["amendPlan"]["__typename"] == "AmendmentApplied", found
        version = found["data"]["amendPlan"]["plan"]["version"]
    return version


def _check(bases: dict[str, str], every: list[Target]) -> dict[str, tuple[int, int]]:
    """Each target answers 200 without errors; the same KPIs on both sides. Sizes by name:
    the body's, and the bytes sent (gzipped or not)."""
    import httpx

    sizes = {}
    kpis = {}
    for target in every:
        url = bases[target.server] + target.path
        given = {"accept-encoding": target.encoding or "identity"}
        if target.body is None:
            response = httpx.get(url, headers=given, timeout=120)
        else:
            given["content-type"] = "application/json"
            response = httpx.post(url, content=target.body, headers=given, timeout=120)
        assert response.status_code == 200, (target.name, response.text[:500])
        assert b'"errors"' not in response.content[:200], response.text[:500]
        sent = int(response.headers["content-length"])
        sizes[target.name] = (len(response.content), sent)
        kpis[target.name] = response.content.count(b'"Indicator ')
    peer = kpis.get("PostGraphile v4, full tree", KPIS)
    ours = [count for name, count in kpis.items() if name.startswith("planapi full tree")]
    gzipped = [name for name, (size, sent) in sizes.items() if size != sent]
    assert all("Accept-Encoding" in name for name in gzipped), gzipped
    assert peer == KPIS, peer
    assert all(count == KPIS for count in ours), ours
    return sizes


def measure(bases: dict[str, str], every: list[Target]) -> dict[str, list[Load]]:
    found: dict[str, list[Load]] = {target.name: [] for target in every}
    for round_ in range(ROUNDS):
        shift = round_ % len(every)
        for target in every[shift:] + every[:shift]:
            found[target.name].append(_load(bases[target.server], target))
    return found


def _median(loads: list[Load]) -> float:
    return statistics.median(load.requests_per_second for load in loads)


def report(
    every: list[Target], found: dict[str, list[Load]], sizes: dict[str, tuple[int, int]]
) -> list[Verdict]:
    """The table of every target, printed; the verdicts of those with a target."""
    trivial = _median(found["trivial starlette JSON endpoint"])
    verdicts = []
    print(
        f"  {'target':<92} {'req/s (median)':>15} {'rounds min-max':>17} "
        f"{'x PostGraphile':>15} {'of trivial':>10}  target"
    )
    for target in every:
        loads = found[target.name]
        figure = _median(loads)
        low = min(load.requests_per_second for load in loads)
        high = max(load.requests_per_second for load in loads)
        failures = sum(load.failures for load in loads)
        peer = _median(found[target.peer]) if target.peer else 0.0
        ratio = f"{figure / peer:.2f}x" if peer else ""
        verdict = ""
        if target.meets is not None:
            ok = target.meets(figure, trivial, peer) and not failures
            verdict = f"{target.target}: " + ("met" if ok else "NOT met")
            against = f"PostGraphile {peer:,.0f} ({ratio})"
            if "PostGraphile" not in target.target:
                against = f"trivial {trivial:,.0f} ({figure / trivial:.0%})"
            verdicts.append(
                Verdict(
                    f"{target.name}: {target.target}",
                    f"{figure:,.0f} req/s",
                    against,
                    ok,
                )
            )
        else:
            verdict = target.target
        if failures:
            verdict += f" ({failures} failed)"
        name = target.name
        size, sent = sizes.get(target.name, (0, 0))
        if size > 10_000:
            name += f" ({size / 1024:,.0f} KB" + (
                f", {sent / 1024:,.1f} KB sent)" if sent < size else ")"
            )
        print(
            f"  {name:<92} {figure:>15,.0f} {f'{low:,.0f}-{high:,.0f}':>17} "
            f"{ratio:>15} {figure / trivial:>10.0%}  {verdict}"
        )
    return verdicts


async def main() -> list[Verdict]:
    postgraphile.install()
    tool = "wrk -t1 -c10" if ensure_wrk() else "asyncio load generator (bench/loadgen.py), 10 conn"
    print(
        f"issue 14, latest reads over HTTP — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores, load average {_loadavg()}, CPython {platform.python_version()}, "
        f"node {postgraphile.node_version()}; {tool}; {ROUNDS} interleaved rounds x "
        f"{SECONDS:.0f} s per target"
    )
    async with scratch_schema() as (engine, schema):
        admin, _ = await _tokens(engine)
        with ExitStack() as stack:
            bases = {
                "trivial": stack.enter_context(uvicorn_app("bench.trivial_app:app", schema))[0],
                "on": stack.enter_context(planapi(schema))[0],
                "off": stack.enter_context(planapi(schema, RESPONSE_CACHE_BYTES="0"))[0],
            }
            version = _grow(bases["on"], admin)
            await postgraphile.load(version, OUTCOMES_PER_PRIORITY, KPIS)
            try:
                bases["peer"] = stack.enter_context(
                    serving(postgraphile.command(), {}, "/graphql", postgraphile.ENV)
                )[0]
                every = chosen(targets(version))
                sizes = _check(bases, every)
                found = measure(bases, every)
            finally:
                stack.close()
                await postgraphile.drop()
    verdicts = report(every, found, sizes)
    print(f"  load average after: {_loadavg()}")
    return verdicts


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    asyncio.run(main())
