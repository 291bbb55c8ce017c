"""A `planapi serve` killed with SIGKILL in the middle of bulk ingestion and amendments leaves
only whole batches and whole amendments, on both backends: after a restart every chain
verifies, every batch holds exactly the readings it says, every amendment every change it was
sent with, and everything the server acknowledged before it died is there."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from planapi.adapters.database import create_engine
from planapi.adapters.tables import events, reading_batches, readings
from tests.conftest import drop_schema, make_database
from tests.processes import Process, environment, run, serving, with_admin_token
from tests.readings_fixtures import PLAN_ID, create_plan_input

BATCH = 2_000  # readings per ingestion request
CHANGES = 5  # nodes added per amendment
LOAD_SECONDS = 2.0


@pytest.fixture
async def deployment(backend: str, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    if backend == "sqlite":
        env = environment(PLANAPI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
        schema = None
    else:
        url, _, schema = await make_database("postgres", tmp_path)
        env = environment(PLANAPI_DATABASE_URL=url, PLANAPI_DATABASE_SCHEMA=schema or "")
    env["PLANAPI_RATE_LIMIT_PER_SECOND"] = "0"
    try:
        migrated = run(["migrate"], env)
        assert migrated.returncode == 0, migrated.stderr
        yield with_admin_token(env)
    finally:
        await drop_schema(schema)


def ndjson(batch: int) -> bytes:
    lines = (
        {
            "kpiId": "kpi-4",
            "period": f"{2026 + i // 12}-{i % 12 + 1:02d}",  # distinct months
            "status": "FINAL",
            "value": str(batch),
        }
        for i in range(BATCH)
    )
    return "\n".join(json.dumps(line) for line in lines).encode()


class Load:
    """Ingestion and amendments, back to back, until the server dies; what was acknowledged."""

    def __init__(self, server: Process) -> None:
        self.server = server
        self.batches: dict[int, int] = {}  # batch id -> readings stored, as acknowledged
        self.amendments: dict[str, int] = {}  # rationale -> version, as acknowledged
        self.sent: dict[str, int] = {}  # rationale -> changes sent
        self.cut_off = 0  # requests the kill interrupted
        self.both_acknowledged = asyncio.Event()  # a batch and an amendment, at least

    def _noted(self) -> None:
        if self.batches and self.amendments:
            self.both_acknowledged.set()

    async def ingest(self, http: httpx.AsyncClient, lane: int) -> None:
        number = 0
        while True:
            number += 1
            try:
                response = await http.post(
                    f"/ingest/readings?planId={PLAN_ID}",
                    content=ndjson(lane * 100_000 + number),
                    headers={"content-type": "application/x-ndjson"},
                )
            except httpx.TransportError:
                self.cut_off += 1
                return
            assert response.status_code == 200, response.text[:300]
            self.batches[response.json()["batchId"]] = response.json()["stored"]
            self._noted()

    async def amend(self, http: httpx.AsyncClient, lane: int) -> None:
        number = 0
        while True:
            number += 1
            rationale = f"lane {lane}, amendment {number}"
            changes = [
                {
                    "addNode": {
                        "kind": "OUTCOME",
                        "id": f"o-{lane}-{number}-{i}",
                        "parentId": "p1",
                        "title": f"Outcome {i} of {rationale}",
                    }
                }
                for i in range(CHANGES)
            ]
            try:
                version = await self._version(http)
                self.sent[rationale] = len(changes)
                response = await http.post(
                    "/graphql",
                    json={
                        "query": "mutation($input: AmendPlanInput!) { amendPlan(input: $input) "
                        "{ __typename ... on AmendmentApplied { amendment { version } } } }",
                        "variables": {
                            "input": {
                                "planId": PLAN_ID,
                                "expectedVersion": version,
                                "authority": "TDAG",
                                "rationale": rationale,
                                "changes": changes,
                            }
                        },
                    },
                )
            except httpx.TransportError:
                self.cut_off += 1
                return
            result = response.json()["data"]["amendPlan"]
            if result["__typename"] == "AmendmentApplied":
                self.amendments[rationale] = result["amendment"]["version"]
                self._noted()
            else:
                assert result["__typename"] == "VersionConflict", result

    async def _version(self, http: httpx.AsyncClient) -> int:
        response = await http.post(
            "/graphql", json={"query": f'{{ plan(id: "{PLAN_ID}") {{ version }} }}'}
        )
        version: int = response.json()["data"]["plan"]["version"]
        return version


async def test_a_sigkilled_server_leaves_only_whole_batches_and_whole_amendments(
    deployment: dict[str, str], tmp_path: Path
) -> None:
    with serving(deployment, tmp_path / "first.log") as server:
        timeout = httpx.Timeout(30.0)
        async with httpx.AsyncClient(
            base_url=server.url, headers=server.headers, timeout=timeout
        ) as http:
            created = await http.post(
                "/graphql",
                json={
                    "query": "mutation($input: CreatePlanInput!) "
                    "{ createPlan(input: $input) { __typename } }",
                    "variables": {"input": create_plan_input(period_end=2600)},
                },
            )
            assert created.json()["data"]["createPlan"]["__typename"] == "PlanCreated"
            load = Load(server)
            lanes = [
                asyncio.create_task(load.ingest(http, 1)),
                asyncio.create_task(load.ingest(http, 2)),
                asyncio.create_task(load.amend(http, 1)),
                asyncio.create_task(load.amend(http, 2)),
            ]
            await asyncio.sleep(LOAD_SECONDS)
            # On a slow machine SQLite's single writer may not have let an amendment through
            # yet: the kill must come after both kinds of write were acknowledged.
            await asyncio.wait_for(load.both_acknowledged.wait(), 30)
            started = time.monotonic()
            server.process.kill()  # SIGKILL: no drain, no cleanup, mid-request
            server.process.wait()
            await asyncio.wait_for(asyncio.gather(*lanes), 30)
    assert time.monotonic() - started < 30
    assert load.batches, "some batches were acknowledged before the kill"
    assert load.amendments, "some amendments were acknowledged before the kill"
    assert load.cut_off >= 1, "the kill interrupted requests in flight"

    # Restarted on the same database: it comes up, and everything holds.
    with serving(deployment, tmp_path / "second.log") as restarted:
        async with httpx.AsyncClient(base_url=restarted.url) as http:
            assert (await http.get("/healthz")).status_code == 200
    verified = run(["verify"], deployment)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    schema = deployment.get("PLANAPI_DATABASE_SCHEMA")
    options = {"connect_args": {"server_settings": {"search_path": schema}}} if schema else {}
    engine = create_engine(deployment["PLANAPI_DATABASE_URL"], **options)
    try:
        async with engine.connect() as conn:
            per_batch = dict(
                (
                    await conn.execute(
                        select(readings.c.batch_id, func.count()).group_by(readings.c.batch_id)
                    )
                ).all()
            )
            batches = dict(
                (await conn.execute(select(reading_batches.c.id, reading_batches.c.stored))).all()
            )
            stored_events = (
                await conn.execute(
                    select(events.c.version, events.c.data, events.c.meta).where(
                        events.c.stream_id == f"plan:{PLAN_ID}"
                    )
                )
            ).all()
    finally:
        await engine.dispose()

    # Whole batches: each holds exactly the readings it counts; no reading without its batch.
    assert set(per_batch) <= set(batches), "readings of a batch that was never committed"
    for batch_id, stored in batches.items():
        assert per_batch.get(batch_id, 0) == stored, f"batch {batch_id} is not whole"
    for batch_id, stored in load.batches.items():
        assert batches.get(batch_id) == stored, f"acknowledged batch {batch_id} was lost"

    # Whole amendments: each with every change it was sent; every acknowledged one there.
    versions = sorted(version for version, _, _ in stored_events)
    assert versions == list(range(1, len(versions) + 1))
    by_rationale = {}
    for version, data, meta in stored_events:
        data = json.loads(data) if isinstance(data, str) else data
        meta = json.loads(meta) if isinstance(meta, str) else meta
        if version > 1:
            by_rationale[meta["rationale"]] = (version, data)
    for rationale, (_, data) in by_rationale.items():
        added = [c for c in data["changes"] if c["type"] == "NodeAdded"]
        assert len(added) == len(data["changes"]) == load.sent[rationale], (
            f"{rationale!r} is not whole"
        )
    for rationale, version in load.amendments.items():
        assert by_rationale[rationale][0] == version, f"acknowledged {rationale!r} was lost"
