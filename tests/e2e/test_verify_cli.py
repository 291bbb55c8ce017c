"""Proving the record unaltered: `verifyIntegrity` re-computes the readings' chain as well as the
plan's, and `planapi verify` checks every plan and the readings and exits 1 when one is broken."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from planapi.config import Settings
from tests.e2e.cli import planapi
from tests.e2e.conftest import GraphQL
from tests.e2e.queries import CREATE, KIGALI, add, update
from tests.e2e.test_integrity_http import tamper

Amend = Callable[..., Awaitable[dict[str, Any]]]

VERIFY = """
query Verify($id: ID!) {
  plan(id: $id) { version hash }
  verifyIntegrity(planId: $id) {
    planId ok checked headVersion headHash
    firstBreak { version what detail }
    readings { ok checkedBatches checkedReadings headHash firstBreak { version what detail } }
  }
}
"""
RECORD = """
mutation Record($input: RecordReadingsInput!) {
  recordReadings(input: $input) {
    __typename
    ... on ReadingsRecorded { batchId stored duplicates }
  }
}
"""


async def verify(graphql: GraphQL, plan_id: str = "baku-2026") -> dict[str, Any]:
    body = await graphql(VERIFY, id=plan_id)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["verifyIntegrity"]
    result["plan"] = body["data"]["plan"]
    return result


def reading(period: str, value: str) -> dict[str, Any]:
    return {"kpiId": "kpi-online", "period": period, "status": "FINAL", "value": value}


@pytest.fixture
async def measured(graphql: GraphQL, amend: Amend, baku: str) -> list[int]:
    """Baku with a KPI (version 2) and two batches of readings of it; returns the batch ids."""
    result = await amend(
        baku,
        1,
        add(
            "OUTCOME",
            "Broadband for all",
            id="outcome-broadband",
            parentId="priority-affordable-connectivity",
        ),
        add("KPI", "Individuals online", id="kpi-online", parentId="outcome-broadband", unit="%"),
    )
    assert result["__typename"] == "AmendmentApplied", result
    batches = []
    for readings in ([reading("2026", "61"), reading("2027", "64")], [reading("2028", "66.5")]):
        body = await graphql(RECORD, input={"planId": baku, "readings": readings})
        recorded = body["data"]["recordReadings"]
        assert recorded["__typename"] == "ReadingsRecorded", body
        batches.append(recorded["batchId"])
    return batches


async def _readings_triggers(conn: AsyncConnection) -> list[tuple[str, str]]:
    found = await conn.execute(
        text(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'trigger' AND tbl_name = 'readings' ORDER BY name"
        )
    )
    return [(row.name, row.sql) for row in found]


@asynccontextmanager
async def readings_guards_lifted(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """As a tamperer with owner rights could: the append-only triggers on readings lifted for
    one transaction, and put back exactly as they were."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ALTER TABLE readings DISABLE TRIGGER USER"))
            yield conn
            await conn.execute(text("ALTER TABLE readings ENABLE TRIGGER USER"))
            return
        triggers = await _readings_triggers(conn)
        assert [name for name, _ in triggers] == ["readings_no_delete", "readings_no_update"]
        for name, _ in triggers:
            await conn.execute(text(f"DROP TRIGGER {name}"))
        yield conn
        for _, sql in triggers:
            await conn.execute(text(sql))


async def tamper_reading(engine: AsyncEngine, period: str, value: str) -> None:
    async with readings_guards_lifted(engine) as conn:
        changed = await conn.execute(
            text("UPDATE readings SET value = :value WHERE period = :period"),
            {"value": value, "period": period},
        )
        assert changed.rowcount == 1


# -- verifyIntegrity -----------------------------------------------------------------------------
async def test_verify_integrity_reports_the_readings_chain_too(
    graphql: GraphQL, measured: list[int]
) -> None:
    result = await verify(graphql)

    assert (result["ok"], result["checked"], result["headVersion"]) == (True, 2, 2)
    assert result["headHash"] == result["plan"]["hash"]
    readings = result["readings"]
    assert (readings["ok"], readings["checkedBatches"], readings["checkedReadings"]) == (True, 2, 3)
    assert readings["firstBreak"] is None
    assert len(bytes.fromhex(readings["headHash"])) == 32


async def test_verify_integrity_with_no_readings_vouches_for_an_empty_chain(
    graphql: GraphQL, baku: str
) -> None:
    readings = (await verify(graphql))["readings"]

    assert readings == {
        "ok": True,
        "checkedBatches": 0,
        "checkedReadings": 0,
        "headHash": None,
        "firstBreak": None,
    }


async def test_a_reading_altered_behind_the_guards_is_found_in_its_batch(
    graphql: GraphQL, raw_engine: AsyncEngine, measured: list[int]
) -> None:
    first, second = measured

    await tamper_reading(raw_engine, "2028", "99")

    result = await verify(graphql)
    readings = result["readings"]
    assert readings["ok"] is False
    assert readings["firstBreak"]["version"] == second
    assert readings["firstBreak"]["what"] == "altered"
    assert readings["firstBreak"]["detail"]
    assert readings["checkedBatches"] == 1, f"batch {first} still vouched for"
    assert result["firstBreak"] is None, "the plan's own chain holds"
    assert result["ok"] is False, "one verdict for the auditor: something was altered"
    async with raw_engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            assert [n for n, _ in await _readings_triggers(conn)] == [
                "readings_no_delete",
                "readings_no_update",
            ]


# -- planapi verify ------------------------------------------------------------------------------


async def run_verify(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *plan_id: str,
) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = await asyncio.to_thread(planapi(settings, monkeypatch, "verify", *plan_id))
    return code, capsys.readouterr().out.splitlines()


@pytest.fixture
async def two_plans(graphql: GraphQL, amend: Amend, measured: list[int]) -> dict[str, str]:
    """baku-2026 at version 3 and kigali-2022 at version 1; returns each plan's head hash."""
    result = await amend("baku-2026", 2, update("output-toolkits", title="Toolkits and guides"))
    assert result["__typename"] == "AmendmentApplied", result
    created = await graphql(
        CREATE,
        input=KIGALI,
    )
    assert created["data"]["createPlan"]["__typename"] == "PlanCreated", created
    return {
        plan_id: (await verify(graphql, plan_id))["plan"]["hash"]
        for plan_id in ("baku-2026", "kigali-2022")
    }


async def test_planapi_verify_checks_every_plan_and_the_readings(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    two_plans: dict[str, str],
) -> None:
    code, lines = await run_verify(settings, monkeypatch, capsys)

    assert code == 0
    assert sorted(lines) == [
        f"plan baku-2026: ok, 3 events checked; version 3 hash {two_plans['baku-2026']}",
        f"plan kigali-2022: ok, 1 events checked; version 1 hash {two_plans['kigali-2022']}",
        "readings: ok, 2 batches and 3 readings checked",
    ]
    assert lines[-1].startswith("readings: "), "the readings come after the plans"


async def test_planapi_verify_of_one_plan_checks_it_and_the_readings(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    two_plans: dict[str, str],
) -> None:
    code, lines = await run_verify(settings, monkeypatch, capsys, "kigali-2022")

    assert code == 0
    assert lines == [
        f"plan kigali-2022: ok, 1 events checked; version 1 hash {two_plans['kigali-2022']}",
        "readings: ok, 2 batches and 3 readings checked",
    ]


async def test_planapi_verify_fails_naming_the_broken_version(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    raw_engine: AsyncEngine,
    two_plans: dict[str, str],
) -> None:
    await tamper(raw_engine, "baku-2026", 2, rationale="Nobody decided this", actor="mallory")

    code, lines = await run_verify(settings, monkeypatch, capsys)

    assert code == 1
    assert (
        "plan baku-2026: BROKEN at version 2: altered "
        "(its content no longer matches its hash)" in lines
    )
    assert any(line.startswith("plan kigali-2022: ok, 1 events checked") for line in lines)
    assert "readings: ok, 2 batches and 3 readings checked" in lines
    only_kigali = await run_verify(settings, monkeypatch, capsys, "kigali-2022")
    assert only_kigali[0] == 0, "the other plan alone still verifies"


async def test_planapi_verify_fails_naming_the_broken_batch_of_readings(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    raw_engine: AsyncEngine,
    measured: list[int],
) -> None:
    await tamper_reading(raw_engine, "2026", "16")

    code, lines = await run_verify(settings, monkeypatch, capsys, "baku-2026")

    assert code == 1
    assert lines[0].startswith("plan baku-2026: ok, 2 events checked")
    assert lines[1].startswith(f"readings: BROKEN at batch {measured[0]}: altered (")


async def test_planapi_verify_of_an_unknown_plan_says_so(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    baku: str,
) -> None:
    with pytest.raises(SystemExit) as refused:
        await run_verify(settings, monkeypatch, capsys, "no-such-plan")

    assert "no-such-plan" in str(refused.value.code)
