"""The peer of issue 14: PostGraphile v4 serving the same plan tree from tables.

Everything about it is pinned here and in `bench/peer/`: the npm packages (`package.json` and
the committed `package-lock.json`, installed with `npm ci`: postgraphile 4 needs graphql 15),
the table schema (`schema.sql`), the two queries (`small.graphql`, `full.graphql`, the same
fields as planapi's small query and full tree) and the command-line flags below (those the
PostGraphile docs recommend for production, one process, no query log, no GraphiQL).

The rows are planapi's own: the seeded Baku plan's priorities and the outcomes and KPIs
`bench/growth.py` adds, so both servers answer with the same titles, codes and values.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import asyncpg

from bench.common import ASYNCPG_DSN
from bench.growth import PLAN_ID, grow_changes
from planapi.entrypoints.seeding import seed_input

HERE = Path(__file__).parent / "peer"
SCHEMA = "bench_peer_postgraphile"
CLI = HERE / "node_modules" / "postgraphile" / "cli.js"
FLAGS = (
    "--disable-query-log",
    "--disable-graphiql",
    "--no-setof-functions-contain-nulls",
    "--no-ignore-rbac",
    "--dynamic-json",
    "--legacy-relations",
    "omit",
    "--max-pool-size",
    "10",
)


def install() -> None:
    """`npm ci` from the committed lock, unless node_modules already matches it."""
    stamp = HERE / "node_modules" / ".package-lock.json"
    lock = HERE / "package-lock.json"
    if stamp.exists() and CLI.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True
    )


def command() -> list[str]:
    """The peer's command line, `{port}` to fill in (bench.http.serving does)."""
    connection = ASYNCPG_DSN
    return [
        "node",
        str(CLI),
        "--connection",
        connection,
        "--schema",
        SCHEMA,
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        *FLAGS,
    ]


ENV = {"NODE_ENV": "production"}


def query(name: str) -> str:
    return (HERE / f"{name}.graphql").read_text()


def body(name: str) -> bytes:
    return json.dumps({"query": query(name), "variables": {"id": PLAN_ID}}).encode()


def _rows(outcomes_per_priority: int, kpis: int) -> tuple[list[tuple[Any, ...]], ...]:
    seeded = seed_input("baku")
    priorities = [
        change["addNode"]
        for change in seeded["changes"]
        if "addNode" in change  # the seed also links outputs to priorities
        and change["addNode"]["kind"] == "PRIORITY"
        and "parentId" not in change["addNode"]
    ]
    plan = [(seeded["id"], seeded["title"], 0)]
    priority_rows = [
        (node["id"], seeded["id"], n, node.get("code"), node["title"])
        for n, node in enumerate(priorities)
    ]
    outcome_rows: list[tuple[Any, ...]] = []
    kpi_rows: list[tuple[Any, ...]] = []
    target_rows: list[tuple[Any, ...]] = []
    positions: dict[str, int] = {}
    for change in grow_changes(kpis, outcomes_per_priority):
        node = change["addNode"]
        parent = node["parentId"]
        position = positions[parent] = positions.get(parent, -1) + 1
        if node["kind"] == "OUTCOME":
            outcome_rows.append((node["id"], parent, position, node["code"], node["title"]))
            continue
        baseline = node["baseline"]
        kpi_rows.append(
            (
                node["id"],
                parent,
                position,
                node["code"],
                node["title"],
                node["unit"],
                baseline["period"],
                baseline["value"],
            )
        )
        target_rows.extend((node["id"], t["period"], t["value"]) for t in node["targets"])
    return plan, priority_rows, outcome_rows, kpi_rows, target_rows


async def load(version: int, outcomes_per_priority: int, kpis: int) -> None:
    """(Re)create the peer's schema with the grown plan's rows; `version`: planapi's."""
    tables = ("plans", "priorities", "outcomes", "kpis", "kpi_targets")
    rows = _rows(outcomes_per_priority, kpis)
    connection = await asyncpg.connect(ASYNCPG_DSN)
    try:
        async with connection.transaction():
            await connection.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
            await connection.execute(f'CREATE SCHEMA "{SCHEMA}"')
            await connection.execute(f'SET LOCAL search_path TO "{SCHEMA}"')
            await connection.execute((HERE / "schema.sql").read_text())
            for table, found in zip(tables, rows, strict=True):
                if table == "plans":
                    found = [(found[0][0], found[0][1], version)]
                await connection.copy_records_to_table(
                    table, records=_typed(table, found), schema_name=SCHEMA
                )
        await connection.execute(f'ANALYZE "{SCHEMA}".kpis, "{SCHEMA}".kpi_targets')
    finally:
        await connection.close()


def _typed(table: str, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Numbers as numeric (COPY's binary format wants Decimal)."""
    from decimal import Decimal

    if table == "kpis":
        return [(*row[:7], Decimal(row[7])) for row in rows]
    if table == "kpi_targets":
        return [(row[0], row[1], Decimal(row[2])) for row in rows]
    return rows


async def drop() -> None:
    connection = await asyncpg.connect(ASYNCPG_DSN)
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
    finally:
        await connection.close()


def node_version() -> str:
    return subprocess.run(
        ["node", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip() or os.environ.get("NODE", "node")
