"""An integrity verdict reflects the bytes stored when it is asked: never a cached answer, forged
snapshots are neither served nor vouched for, a hidden node-index entry is reported, and a
plan's verification covers the plan's own readings unless asked for all of them."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.snapshot_format import decode_state, encode_state
from planapi.adapters.tables import event_nodes, events, snapshots
from planapi.config import Settings
from planapi.entrypoints.asgi import create_app
from tests.contract.builders import guards_lifted
from tests.e2e.conftest import GraphQL, bearer
from tests.e2e.queries import CREATE, KIGALI, add, update
from tests.e2e.test_verify_cli import (  # noqa: F401 (measured: a fixture)
    measured,
    run_verify,
    tamper_reading,
)

Amend = Callable[..., Awaitable[dict[str, Any]]]

VERIFY = """
query Verify($id: ID!, $all: Boolean! = false) {
  verifyIntegrity(planId: $id, allReadings: $all) {
    ok checkedAt
    firstBreak { version what }
    problems { what version nodeId detail }
    readings { ok scope checkedBatches firstBreak { version what } }
  }
}
"""
BROADBAND = add(
    "OUTCOME",
    "Broadband for all",
    id="outcome-broadband",
    parentId="priority-affordable-connectivity",
)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """A snapshot every 2 versions, sealed with a key file of the test's own (on PostgreSQL
    too, where snapshots are off without one)."""
    return settings.model_copy(
        update={"snapshot_interval": 2, "snapshot_key_file": str(tmp_path / "keys" / "snap.key")}
    )


async def verify(http: httpx.AsyncClient, plan_id: str, **variables: Any) -> httpx.Response:
    response = await http.post(
        "/graphql", json={"query": VERIFY, "variables": {"id": plan_id, **variables}}
    )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text
    return response


def verdict(response: httpx.Response) -> dict[str, Any]:
    result: dict[str, Any] = response.json()["data"]["verifyIntegrity"]
    return result


async def rewrite_data(engine: AsyncEngine, plan_id: str, version: int, data: Any) -> Any:
    """Replace one stored event's data behind the app's back; return what it was."""
    where = (events.c.stream_id == f"plan:{plan_id}") & (events.c.version == version)
    async with guards_lifted(engine, "events") as conn:
        before = (await conn.execute(select(events.c.data).where(where))).scalar_one()
        await conn.execute(sql_update(events).where(where).values(data=data))
    return before


@asynccontextmanager
async def restarted(settings: Settings, token: str) -> AsyncIterator[httpx.AsyncClient]:
    """A new process's worth of app: no cached version, no cached answer."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://planapi", headers=bearer(token)
        ) as http:
            yield http


# -- 1. never a cached verdict ---------------------------------------------------------------
async def test_tampering_and_repair_are_seen_by_the_same_document_asked_again(
    client: httpx.AsyncClient, amend: Amend, raw_engine: AsyncEngine, baku: str
) -> None:
    assert (await amend(baku, 1, BROADBAND))["__typename"] == "AmendmentApplied"
    read = {"query": '{ plan(id: "baku-2026") { title } }'}
    plan_etag = (await client.post("/graphql", json=read)).headers["etag"]
    first = await verify(client, baku)
    assert verdict(first)["ok"] is True
    assert "etag" not in first.headers
    assert first.headers["cache-control"] == "no-store"

    data = await rewrite_data(raw_engine, baku, 2, {"changes": []})
    tampered = await verify(client, baku)

    found = verdict(tampered)
    assert found["ok"] is False, "the heads did not move, the bytes did"
    assert found["firstBreak"] == {"version": 2, "what": "altered"}
    checked = [dt.datetime.fromisoformat(verdict(r)["checkedAt"]) for r in (first, tampered)]
    assert checked[0] < checked[1], "each answer is a new reading of the table"

    await rewrite_data(raw_engine, baku, 2, data)
    assert verdict(await verify(client, baku))["ok"] is True, "the repair is seen as well"
    again = await client.post("/graphql", json=read, headers={"if-none-match": plan_etag})
    assert again.status_code == 304, "plan reads stay cached"


# -- 2. snapshots sealed, the node index checked ----------------------------------------------
async def test_a_forged_snapshot_is_ignored_after_a_restart_and_reported_by_verify(
    client: httpx.AsyncClient,
    graphql: GraphQL,
    amend: Amend,
    raw_engine: AsyncEngine,
    settings: Settings,
    admin_token: str,
    baku: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert (await amend(baku, 1, BROADBAND))["__typename"] == "AmendmentApplied"
    assert (await amend(baku, 2, update("output-toolkits", title="Toolkits")))[
        "__typename"
    ] == "AmendmentApplied"
    genuine = (await graphql('{ plan(id: "baku-2026") { title version hash } }'))["data"]["plan"]
    where = (snapshots.c.stream_id == "plan:baku-2026") & (snapshots.c.version == 2)
    async with raw_engine.connect() as conn:
        payload = (await conn.execute(select(snapshots.c.payload).where(where))).scalar_one()
    key_file = Path(str(settings.snapshot_key_file))
    assert stat.S_IMODE((await asyncio.to_thread(key_file.stat)).st_mode) == 0o600

    with pytest.raises(DBAPIError):  # the table refuses UPDATE ...
        async with raw_engine.begin() as conn:
            await conn.execute(sql_update(snapshots).where(where).values(state={}))
    async with guards_lifted(raw_engine, "snapshots") as conn:  # ... unless its guard is lifted
        # A well-formed state, as the snapshot's own format writes it, under the old seal.
        forged = encode_state(dataclasses.replace(decode_state(payload), title="A forged plan"))
        await conn.execute(sql_update(snapshots).where(where).values(payload=forged))

    caplog.set_level(logging.WARNING, logger="planapi.snapshots")
    async with restarted(settings, admin_token) as http:
        for version in (3, 2):
            read = await http.post(
                "/graphql",
                json={"query": f'{{ plan(id: "baku-2026", version: {version}) {{ title hash }} }}'},
            )
            assert read.json()["data"]["plan"]["title"] == genuine["title"]
        found = verdict(await verify(http, baku))

    warnings = [r for r in caplog.records if r.name == "planapi.snapshots"]
    assert len(warnings) == 1, "logged once per snapshot"
    assert "version 2 ignored" in warnings[0].getMessage()
    assert warnings[0].exc_info is None
    assert found["ok"] is False
    assert found["firstBreak"] is None, "the events themselves are intact"
    assert [(p["what"], p["version"], p["nodeId"]) for p in found["problems"]] == [
        ("snapshot", 2, None)
    ]
    assert "differs" in found["problems"][0]["detail"]


async def test_a_deleted_node_index_entry_is_reported_by_version_and_node(
    client: httpx.AsyncClient,
    graphql: GraphQL,
    amend: Amend,
    raw_engine: AsyncEngine,
    baku: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (await amend(baku, 1, BROADBAND))["__typename"] == "AmendmentApplied"
    history = '{ nodeHistory(planId: "baku-2026", nodeId: "outcome-broadband") { version } }'
    assert (await graphql(history))["data"]["nodeHistory"] == [{"version": 2}]

    async with guards_lifted(raw_engine, "event_nodes") as conn:
        gone = await conn.execute(
            delete(event_nodes).where(
                event_nodes.c.node_id == "outcome-broadband", event_nodes.c.version == 2
            )
        )
        assert gone.rowcount == 1

    found = verdict(await verify(client, baku))
    assert found["ok"] is False
    assert found["firstBreak"] is None
    assert [(p["what"], p["version"], p["nodeId"]) for p in found["problems"]] == [
        ("index", 2, "outcome-broadband")
    ]
    monkeypatch.setenv("PLANAPI_SNAPSHOT_KEY_FILE", str(settings.snapshot_key_file))
    code, lines = await run_verify(settings, monkeypatch, capsys, baku)
    assert code == 1
    assert "plan baku-2026: 1 PROBLEMS" in lines[0]
    assert "index at version 2 node outcome-broadband" in lines[1]


# -- 3. only what the question covers ----------------------------------------------------------
async def test_a_plans_verdict_covers_its_own_readings_unless_all_are_asked_for(
    client: httpx.AsyncClient,
    graphql: GraphQL,
    raw_engine: AsyncEngine,
    measured: list[int],  # noqa: F811
) -> None:
    created = await graphql(CREATE, input=KIGALI)
    assert created["data"]["createPlan"]["__typename"] == "PlanCreated", created
    await tamper_reading(raw_engine, "2028", "99")  # in baku-2026's second batch

    own = verdict(await verify(client, "kigali-2022"))
    assert own["ok"] is True, "nothing of Kigali's was touched"
    assert own["readings"] == {"ok": True, "scope": "plan", "checkedBatches": 0, "firstBreak": None}
    everything = verdict(await verify(client, "kigali-2022", all=True))
    assert everything["ok"] is False
    assert everything["readings"]["scope"] == "all"
    assert everything["readings"]["firstBreak"] == {"version": measured[1], "what": "altered"}
    baku = verdict(await verify(client, "baku-2026"))
    assert baku["readings"]["firstBreak"] == {"version": measured[1], "what": "altered"}
    assert baku["readings"]["checkedBatches"] == 1
