"""The hash chain over HTTP: `verifyIntegrity` vouches for an untouched log and finds a tampered
row; the database itself refuses to UPDATE or DELETE an event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy import update as sql_update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from planapi.adapters.tables import events
from tests.e2e.conftest import GraphQL
from tests.e2e.queries import KIGALI, add, update

Amend = Callable[..., Awaitable[dict[str, Any]]]

VERIFY = """
query Verify($id: ID!) {
  verifyIntegrity(planId: $id) {
    planId ok checked headVersion headHash
    firstBreak { version what detail }
  }
}
"""

# The SQLite guards, spelt as migrations/versions/0001_event_log.py creates them.
SQLITE_GUARDS = [
    f"CREATE TRIGGER events_no_{action.lower()} BEFORE {action} ON events "
    f"BEGIN SELECT RAISE(ABORT, 'the events table is append-only: {action} refused'); "
    "END"
    for action in ("UPDATE", "DELETE")
]


async def verify(graphql: GraphQL, plan_id: str) -> dict[str, Any]:
    body = await graphql(VERIFY, id=plan_id)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["verifyIntegrity"]
    return result


async def guards(conn: AsyncConnection) -> list[tuple[str, str]]:
    """The triggers on `events` as the database describes them (name, definition or state)."""
    if conn.dialect.name == "postgresql":
        found = await conn.execute(
            text(
                "SELECT tgname, tgenabled FROM pg_trigger "
                "WHERE tgrelid = 'events'::regclass AND NOT tgisinternal ORDER BY tgname"
            )
        )
    else:
        found = await conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = 'events' ORDER BY name"
            )
        )
    return [(row[0], str(row[1])) for row in found]


async def tamper(engine: AsyncEngine, plan_id: str, version: int, **meta: Any) -> None:
    """Rewrite one stored event's metadata behind the app's back: lift the append-only guard,
    UPDATE, and put the guard back, all in one transaction."""
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                select(events.c.position, events.c.meta).where(
                    events.c.stream_id == f"plan:{plan_id}", events.c.version == version
                )
            )
        ).one()
        altered = {**row.meta, **meta}
        change = sql_update(events).where(events.c.position == row.position).values(meta=altered)
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
            await conn.execute(change)
            await conn.execute(text("ALTER TABLE events ENABLE TRIGGER USER"))
        else:
            await conn.execute(text("DROP TRIGGER events_no_update"))
            await conn.execute(text("DROP TRIGGER events_no_delete"))
            await conn.execute(change)
            for guard in SQLITE_GUARDS:
                await conn.execute(text(guard))


@pytest.fixture
async def amended(amend: Amend, baku: str) -> list[dict[str, Any]]:
    """Three amendments after creation: versions 2, 3 and 4."""
    applied = []
    for version, change in enumerate(
        [
            add(
                "OUTCOME",
                "Broadband for all",
                id="outcome-broadband",
                parentId="priority-affordable-connectivity",
            ),
            update("output-toolkits", title="Toolkits and guidelines"),
            update("enabler-openness", code="E3a"),
        ],
        start=1,
    ):
        result = await amend(baku, version, change, rationale=f"TDAG decision {version + 1}")
        assert result["__typename"] == "AmendmentApplied", result
        applied.append(result["amendment"])
    return applied


async def test_a_freshly_seeded_plan_verifies(graphql: GraphQL, baku: str) -> None:
    plan = await graphql('{ plan(id: "baku-2026") { hash } }')

    assert await verify(graphql, baku) == {
        "planId": "baku-2026",
        "ok": True,
        "checked": 1,
        "headVersion": 1,
        "headHash": plan["data"]["plan"]["hash"],
        "firstBreak": None,
    }


async def test_an_untouched_log_verifies_every_version(
    graphql: GraphQL, baku: str, amended: list[dict[str, Any]]
) -> None:
    result = await verify(graphql, baku)

    assert result["ok"] is True
    assert result["checked"] == 4, "one event per version, every one re-hashed"
    assert result["headVersion"] == 4
    assert result["headHash"] == amended[-1]["hash"]
    assert result["firstBreak"] is None


async def test_a_row_tampered_behind_the_apps_back_is_found_by_the_chain(
    graphql: GraphQL, raw_engine: AsyncEngine, baku: str, amended: list[dict[str, Any]]
) -> None:
    async with raw_engine.connect() as conn:
        guards_before = await guards(conn)

    await tamper(raw_engine, baku, 3, rationale="Nobody decided anything", actor="mallory")

    result = await verify(graphql, baku)
    assert result["ok"] is False
    assert result["firstBreak"]["version"] == 3
    assert result["firstBreak"]["what"] == "altered"
    assert result["firstBreak"]["detail"]
    assert result["checked"] == 2, "versions 1 and 2 still hold"
    assert result["headVersion"] == 2
    assert result["headHash"] == amended[0]["hash"], "the last version that can be trusted"
    async with raw_engine.connect() as conn:
        assert await guards(conn) == guards_before, "the guards are back as they were"


async def test_a_tampered_creation_event_breaks_the_chain_at_version_1(
    graphql: GraphQL, raw_engine: AsyncEngine, baku: str, amended: list[dict[str, Any]]
) -> None:
    await tamper(raw_engine, baku, 1, authority="COUNCIL")

    result = await verify(graphql, baku)

    assert result["ok"] is False
    assert result["firstBreak"]["version"] == 1
    assert result["firstBreak"]["what"] == "altered"
    assert result["checked"] == 0
    assert result["headHash"] is None


async def test_tampering_with_one_plan_leaves_another_verified(
    graphql: GraphQL, amend: Amend, raw_engine: AsyncEngine, baku: str
) -> None:
    from tests.e2e.queries import CREATE

    created = await graphql(
        CREATE,
        input=KIGALI,
    )
    assert created["data"]["createPlan"]["__typename"] == "PlanCreated"

    await tamper(raw_engine, "kigali-2022", 1, rationale="Adopted somewhere else")

    assert (await verify(graphql, "kigali-2022"))["ok"] is False
    assert (await verify(graphql, baku))["ok"] is True


async def test_the_database_refuses_a_plain_update_of_an_event(
    graphql: GraphQL, raw_engine: AsyncEngine, baku: str, amended: list[dict[str, Any]]
) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        async with raw_engine.begin() as conn:
            await conn.execute(
                sql_update(events)
                .where(events.c.stream_id == "plan:baku-2026", events.c.version == 2)
                .values(meta={"actor": "mallory"})
            )

    assert (await verify(graphql, baku))["ok"] is True


async def test_the_database_refuses_to_delete_an_event(
    graphql: GraphQL, raw_engine: AsyncEngine, baku: str, amended: list[dict[str, Any]]
) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        async with raw_engine.begin() as conn:
            await conn.execute(delete(events).where(events.c.stream_id == "plan:baku-2026"))

    result = await verify(graphql, baku)
    assert (result["ok"], result["checked"]) == (True, 4)
    body = await graphql('{ plan(id: "baku-2026") { version } }')
    assert body["data"]["plan"]["version"] == 4


async def test_verifying_an_unknown_plan_is_an_error_saying_so(graphql: GraphQL, baku: str) -> None:
    body = await graphql(VERIFY, id="no-such-plan")

    [error] = body["errors"]
    assert error["extensions"]["code"] == "PLAN_NOT_FOUND"
    assert "no-such-plan" in error["message"]
