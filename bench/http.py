"""GraphQL over HTTP on PostgreSQL, each figure beside its baseline from the same run.

Servers run as real processes (uvicorn with uvloop and httptools, one worker each); load comes
from `wrk` (10 connections) or, without it, an asyncio load generator (bench/loadgen.py).

- the baseline: a trivial starlette JSON endpoint (bench/trivial_app.py);
- the full tree of the seeded plan grown to 1,000 KPIs, and a small query (plan title and
  priority titles), both naming an explicit version: repeated (the response cache answers),
  and cold (PLANAPI_RESPONSE_CACHE_BYTES=0: executed every time, from the in-memory version)
  beside plain strawberry serving the same in-memory data (bench/plain_app.py);
- amendments: 8 clients, each amending its own plan as fast as it can;
- memory: the resident size of the one worker after serving 1,000 distinct versions.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.common import URL, row, scratch_schema
from bench.growth import PLAN_ID, grow_inputs
from bench.loadgen import Load, ensure_wrk, load, run_asyncio
from planapi.entrypoints.processes import free_port, terminate
from planapi.entrypoints.seeding import CREATE_PLAN, seed_input

SECONDS = float(os.environ.get("BENCH_HTTP_SECONDS", "10"))
KPIS = int(os.environ.get("BENCH_KPIS", "1000"))
VERSIONS = int(os.environ.get("BENCH_VERSIONS", "1000"))
WRITERS = 8
PYTHON = (sys.executable, "-m")
FAST = ("--loop", "uvloop", "--http", "httptools")  # as `planapi serve` runs uvicorn
QUIET = ("--log-level", "warning")

FULL = (
    "query Full($id: ID!, $version: Int!) { plan(id: $id, version: $version) { id title version "
    "priorities { id code title outcomes { id code title kpis { id code title unit "
    "baseline { period value } targets { period value } } } } } }"
)
SMALL = (
    "query Small($id: ID!, $version: Int!) "
    "{ plan(id: $id, version: $version) { title priorities { title } } }"
)
AMEND = (
    "mutation Amend($input: AmendPlanInput!) { amendPlan(input: $input) { __typename "
    "... on AmendmentApplied { plan { version } } ... on VersionConflict { actualVersion } } }"
)
LIMITS = {
    "GRAPHIQL": "false",
    "RATE_LIMIT_PER_SECOND": "0",
    **{f"MAX_QUERY_COST_{role}": str(10**12) for role in ("ANONYMOUS", "READER", "EDITOR")},
    **{f"MAX_QUERY_COST_{role}": str(10**12) for role in ("AUDITOR", "INTEGRATOR", "ADMIN")},
}


@contextmanager
def spawned(
    command: list[str], settings: dict[str, str], extra: dict[str, str] | None, stop: float = 15
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """Start `command` (`{port}` filled in) with only the PLANAPI_ settings given (and `extra`
    variables as they are); yield the process and its port; stop it at the end (killed after
    `stop` seconds)."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PLANAPI_")},
        **{f"PLANAPI_{name}": value for name, value in settings.items()},
        **(extra or {}),
    }
    process = subprocess.Popen(
        [part.format(port=port) for part in command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process, port
    finally:
        terminate(process, stop)


@contextmanager
def serving(
    command: list[str], settings: dict[str, str], probe: str, extra: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """Run `command` (`{port}` filled in) with PLANAPI_ settings (and `extra` variables as
    they are); yield (base URL, pid) once `probe` answers."""
    with spawned(command, settings, extra) as (process, port):
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"{command[:4]} exited with {process.returncode}")
            try:
                httpx.get(f"{base}{probe}", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{command[:4]} did not start")
        yield base, process.pid


def planapi(schema: str, **settings: str) -> Any:
    return serving(
        [*PYTHON, "planapi.entrypoints.cli", "serve", "--port", "{port}", *QUIET],
        {"DATABASE_URL": URL, "DATABASE_SCHEMA": schema, **LIMITS, **settings},
        "/healthz",
    )


def uvicorn_app(target: str, schema: str, *factory: str) -> Any:
    return serving(
        [
            *PYTHON,
            "uvicorn",
            target,
            *factory,
            "--port",
            "{port}",
            *FAST,
            *QUIET,
            "--no-access-log",
        ],
        {"DATABASE_URL": URL, "DATABASE_SCHEMA": schema},
        "/",
    )


def body(query: str, **variables: Any) -> bytes:
    return json.dumps({"query": query, "variables": variables}).encode()


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _tokens(engine: Any) -> tuple[str, str]:
    from planapi.adapters.clock import SystemClock
    from planapi.adapters.token_store import SqlTokenStore
    from planapi.application.access import Role
    from planapi.application.tokens import TokenService

    tokens = TokenService(SqlTokenStore(engine), SystemClock())
    admin = await tokens.create("bench-admin", Role.ADMIN, created_by="bench")
    editor = await tokens.create("bench-editor", Role.EDITOR, created_by="bench")
    return admin.secret, editor.secret


def _post(base: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/graphql",
        content=body(query, **variables),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        timeout=120,
    )
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    if found.get("errors"):
        raise RuntimeError(found["errors"])
    return found


def _grow(base: str, admin: str) -> int:
    """Seed the Baku draft and grow it to KPIS KPIs; the version that has them all."""
    created = _post(base, admin, CREATE_PLAN, input=seed_input("baku"))
    assert created["data"]["createPlan"]["__typename"] == "PlanCreated", created
    version = 1
    for given in grow_inputs(1, KPIS):
        found = _post(base, admin, AMEND, input=given)
        assert found["data"]["amendPlan"]["__typename"] == "AmendmentApplied", found
        version = found["data"]["amendPlan"]["plan"]["version"]
    return version


def _verdict(ok: bool, target: str) -> str:
    return f"target {target}: " + ("met" if ok else "NOT met")


def _rps(found: Load) -> str:
    failed = f", {found.failures} failed" if found.failures else ""
    return f"{found.requests_per_second:,.0f} req/s{failed}"


async def _amendments(base: str, admin: str, editor: str) -> tuple[Load, int]:
    """WRITERS clients, each amending its own plan in a loop; conflicts are counted too."""
    plans = [f"bench-writer-{n}" for n in range(WRITERS)]
    for plan_id in plans:
        given = {
            "id": plan_id,
            "title": f"Writer {plan_id}",
            "periodStart": 2026,
            "periodEnd": 2029,
            "authority": "WTDC",
            "rationale": "bench",
            "changes": [{"addNode": {"kind": "PRIORITY", "id": "p", "title": "P"}}],
        }
        _post(base, admin, CREATE_PLAN, input=given)
    versions = dict.fromkeys(range(WRITERS), 1)
    conflicts = [0]

    def request(index: int) -> bytes:
        return body(
            AMEND,
            input={
                "planId": plans[index],
                "expectedVersion": versions[index],
                "authority": "TDAG",
                "rationale": "bench",
                "changes": [{"updateNode": {"id": "p", "title": f"P{versions[index]}"}}],
            },
        )

    def answer(index: int, raw: bytes) -> None:
        result = json.loads(raw)["data"]["amendPlan"]
        if result["__typename"] == "AmendmentApplied":
            versions[index] = result["plan"]["version"]
        else:
            conflicts[0] += 1
            versions[index] = result.get("actualVersion", versions[index])

    found = await run_asyncio(
        f"{base}/graphql",
        SECONDS,
        WRITERS,
        request,
        {"Content-Type": "application/json", "Authorization": f"Bearer {editor}"},
        answer,
    )
    return found, conflicts[0]


async def _serve_versions(base: str, editor: str, first: int, count: int) -> int:
    """Amend the grown plan `count` times (one KPI title each), then read the full tree of
    each of those versions once; the bytes read."""
    version = first
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        auth = {"authorization": f"Bearer {editor}"}
        for n in range(count):
            given = {
                "planId": PLAN_ID,
                "expectedVersion": version,
                "authority": "TDAG",
                "rationale": "bench",
                "changes": [{"updateNode": {"id": f"kpi-{n % KPIS}", "title": f"KPI, take {n}"}}],
            }
            response = await client.post(
                "/graphql", json={"query": AMEND, "variables": {"input": given}}, headers=auth
            )
            version = response.json()["data"]["amendPlan"]["plan"]["version"]
        limit = asyncio.Semaphore(10)

        async def one(wanted: int) -> int:
            async with limit:
                response = await client.post(
                    "/graphql",
                    json={"query": FULL, "variables": {"id": PLAN_ID, "version": wanted}},
                )
                assert response.json()["data"]["plan"]["version"] == wanted
                return len(response.content)

        sizes = await asyncio.gather(*(one(v) for v in range(first + 1, version + 1)))
    return sum(sizes)


async def main() -> None:
    tool = "wrk" if ensure_wrk() else "asyncio load generator"
    print(
        f"GraphQL over HTTP (PostgreSQL, one uvicorn worker per server, uvloop + httptools, "
        f"{tool}, 10 connections, {SECONDS:.0f} s each)"
    )
    results: dict[str, Load] = {}
    async with scratch_schema() as (engine, schema):
        admin, editor = await _tokens(engine)
        with uvicorn_app("bench.trivial_app:app", schema) as (base, _):
            results["trivial"] = load(f"{base}/", SECONDS)
        with planapi(schema) as (base, _):
            version = _grow(base, admin)
            full, small = (
                body(FULL, id=PLAN_ID, version=version),
                body(SMALL, id=PLAN_ID, version=version),
            )
            size = _warm(base, full)
            results["full repeated"] = load(f"{base}/graphql", SECONDS, body=full)
            results["small repeated"] = load(f"{base}/graphql", SECONDS, body=small)
        with planapi(schema, RESPONSE_CACHE_BYTES="0") as (base, _):
            _warm(base, full, small)
            results["full cold"] = load(f"{base}/graphql", SECONDS, body=full)
            results["small cold"] = load(f"{base}/graphql", SECONDS, body=small)
        with uvicorn_app("bench.plain_app:create_app", schema, "--factory") as (base, _):
            _warm(base, full, small, probe="/graphql")
            results["full plain"] = load(f"{base}/graphql", SECONDS, body=full)
            results["small plain"] = load(f"{base}/graphql", SECONDS, body=small)
        with planapi(schema) as (base, _):
            writes, conflicts = await _amendments(base, admin, editor)
        with planapi(schema) as (base, pid):
            started = resident_mb(pid)
            read = await _serve_versions(base, editor, version, VERSIONS)
            resident = resident_mb(pid)
            metrics = _metrics(base)
    cached = _metric(metrics, "planapi_response_cache_bytes")

    trivial = results["trivial"].requests_per_second
    row("trivial starlette JSON endpoint (baseline)", _rps(results["trivial"]))
    full_repeated = results["full repeated"].requests_per_second
    row(
        f"full tree, {KPIS:,} KPIs ({size / 1024:,.0f} KB), same version repeated",
        _rps(results["full repeated"]),
        f"{full_repeated / trivial:.0%} of trivial",
        _verdict(full_repeated >= 0.3 * trivial, ">= 30%"),
    )
    plain_full = results["full plain"].requests_per_second
    cold_full = results["full cold"].requests_per_second
    row("full tree, plain strawberry, in-memory data (baseline)", _rps(results["full plain"]))
    row(
        "full tree, cold (response cache off)",
        _rps(results["full cold"]),
        f"{cold_full / plain_full:.1f}x plain strawberry",
        _verdict(cold_full >= 2 * plain_full, ">= 2x"),
    )
    small_repeated = results["small repeated"].requests_per_second
    row(
        "small query (plan and priority titles), repeated",
        _rps(results["small repeated"]),
        f"{small_repeated / trivial:.0%} of trivial",
        _verdict(small_repeated >= 0.5 * trivial, ">= 50%"),
    )
    cold_small = results["small cold"].requests_per_second
    plain_small = results["small plain"].requests_per_second
    row(
        "small query, cold (response cache off)",
        _rps(results["small cold"]),
        f"{cold_small / plain_small:.1f}x plain ({plain_small:,.0f}/s)",
        _verdict(cold_small >= 2000, ">= 2,000/s"),
    )
    row(
        f"amendments over HTTP, {WRITERS} clients on distinct plans",
        f"{writes.requests_per_second:,.0f} /s",
        f"p50 {writes.p50_ms:.1f} ms, {writes.failures + conflicts} failed",
        _verdict(writes.requests_per_second >= 500, ">= 500/s"),
    )
    row(
        f"resident memory after serving {VERSIONS:,} distinct versions",
        f"{resident:,.0f} MB",
        f"from {started:,.0f} MB; {read / 2**20:,.0f} MB served, {cached / 2**20:,.0f} MB cached",
        _verdict(resident <= 300, "<= 300 MB"),
    )


_JSON = {"content-type": "application/json"}


def _warm(base: str, *bodies: bytes, probe: str = "/graphql") -> int:
    """Ask each once (so the version is in memory); the size of the first answer."""
    sizes = []
    for given in bodies:
        response = httpx.post(f"{base}{probe}", content=given, headers=_JSON, timeout=120)
        response.raise_for_status()
        assert "errors" not in response.json(), response.text[:500]
        sizes.append(len(response.content))
    return sizes[0]


def _metrics(base: str) -> str:
    return httpx.get(f"{base}/metrics", timeout=30).text


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


if __name__ == "__main__":
    asyncio.run(main())
