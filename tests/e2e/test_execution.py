"""Execution of an operational plan over HTTP, on both backends: integrations record status
changes, milestones and expenditure (append-only, idempotent by key, bitemporal), and the
implementation figures follow, per activity, output, priority and year."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import CREATE, update
from tests.operational_fixtures import (
    CONNECTIVITY,
    DATA,
    PLAN_ID,
    TOOLKITS,
    activity,
    operational_input,
)

RECORD = """
mutation Record($input: RecordExecutionInput!) {
  recordExecution(input: $input) {
    __typename
    ... on ExecutionRecorded { stored duplicates recordedAt }
    ... on ValidationFailed { problems { path message } }
    ... on IdempotencyKeyReused { message }
    ... on PlanNotFound { planId }
  }
}
"""

FIGURES = "planned completed implementationRate budgetPlanned budgetExecuted"
IMPLEMENTATION = f"""
query Implementation($id: ID!, $year: Int, $asOf: DateTime) {{
  plan(id: $id) {{
    implementation(year: $year, asOf: $asOf) {{
      total {{ {FIGURES} }}
      activities {{ key figures {{ {FIGURES} }} }}
      outputs {{ key figures {{ {FIGURES} }} }}
      priorities {{ key figures {{ {FIGURES} }} }}
    }}
    activities {{
      nodeId
      execution(asOf: $asOf) {{
        status milestones {{ key reachedOn }} spent {{ year source amount }}
      }}
    }}
  }}
}}
"""


def completed(key: str = "done-1", activity_id: str = "act-toolkit") -> dict[str, Any]:
    return {
        "key": key,
        "activityId": activity_id,
        "kind": "STATUS",
        "status": "COMPLETED",
        "occurredOn": "2027-11-30",
    }


def spent(key: str, amount: str, year: int = 2027) -> dict[str, Any]:
    return {
        "key": key,
        "activityId": "act-toolkit",
        "kind": "EXPENDITURE",
        "year": year,
        "source": "REGULAR_BUDGET",
        "amount": amount,
        "occurredOn": f"{year}-06-30",
    }


async def _record(graphql: GraphQL, *records: dict[str, Any], plan_id: str = PLAN_ID) -> Any:
    body = await graphql(RECORD, input={"planId": plan_id, "records": list(records)})
    assert "errors" not in body, body
    return body["data"]["recordExecution"]


async def _plan(graphql: GraphQL) -> None:
    second = activity("act-data", "A2", outputIds=[DATA], budget=[], milestones=[])
    body = await graphql(CREATE, input=operational_input(activity("act-toolkit", "A1"), second))
    assert body["data"]["createPlan"]["__typename"] == "PlanCreated", body


async def _implementation(graphql: GraphQL, **variables: Any) -> Any:
    body = await graphql(IMPLEMENTATION, id=PLAN_ID, **variables)
    assert "errors" not in body, body
    return body["data"]["plan"]


async def test_execution_records_drive_the_implementation_figures(
    graphql: GraphQL, baku: str
) -> None:
    await _plan(graphql)
    milestone = {
        "key": "m-1",
        "activityId": "act-toolkit",
        "kind": "MILESTONE",
        "milestoneKey": "m1",
        "occurredOn": "2027-06-01",
    }
    recorded = await _record(graphql, completed(), milestone, spent("spend-1", "100000.00"))
    assert recorded["__typename"] == "ExecutionRecorded", recorded
    assert (recorded["stored"], recorded["duplicates"]) == (3, 0)

    plan = await _implementation(graphql, year=2027)
    figures = plan["implementation"]
    assert figures["total"] == {
        "planned": 2,
        "completed": 1,
        "implementationRate": "0.5000",
        "budgetPlanned": "120000.00",
        "budgetExecuted": "100000.00",
    }
    outputs = {o["key"]: o["figures"] for o in figures["outputs"]}
    assert outputs[TOOLKITS]["completed"] == 1
    assert outputs[TOOLKITS]["budgetExecuted"] == "100000.00"
    assert outputs[DATA]["implementationRate"] == "0.0000"
    priorities = {p["key"]: p["figures"] for p in figures["priorities"]}
    assert priorities[CONNECTIVITY]["planned"] == 2
    [toolkit] = [a for a in plan["activities"] if a["nodeId"] == "act-toolkit"]
    assert toolkit["execution"] == {
        "status": "COMPLETED",
        "milestones": [{"key": "m1", "reachedOn": "2027-06-01"}],
        "spent": [{"year": 2027, "source": "REGULAR_BUDGET", "amount": "100000.00"}],
    }


async def test_records_are_idempotent_by_key_and_bitemporal(graphql: GraphQL, baku: str) -> None:
    await _plan(graphql)
    first = await _record(graphql, spent("spend-1", "10.00"))
    again = await _record(graphql, spent("spend-1", "10.00"))
    reused = await _record(graphql, spent("spend-1", "99.00"))
    corrected = await _record(graphql, spent("spend-2", "25.50"))

    assert (again["stored"], again["duplicates"]) == (0, 1)
    assert reused["__typename"] == "IdempotencyKeyReused"
    now = await _implementation(graphql, year=2027)
    then = await _implementation(graphql, year=2027, asOf=first["recordedAt"])
    assert now["implementation"]["total"]["budgetExecuted"] == "25.50"  # the latest record wins
    assert then["implementation"]["total"]["budgetExecuted"] == "10.00"
    assert corrected["stored"] == 1


async def test_bad_records_are_refused_whole_naming_the_field(graphql: GraphQL, baku: str) -> None:
    await _plan(graphql)
    refused = await _record(
        graphql,
        completed(),
        {**completed("x"), "status": "CANCELLED"},
        {**completed("y"), "activityId": "act-nowhere"},
        spent("late", "1.00", year=2030),
        spent("odd", "1.001"),
        {
            "key": "m",
            "activityId": "act-toolkit",
            "kind": "MILESTONE",
            "milestoneKey": "m9",
            "occurredOn": "2027-01-01",
        },
    )
    assert refused["__typename"] == "ValidationFailed"
    paths = {p["path"] for p in refused["problems"]}
    assert paths == {
        "records[1].status",
        "records[2].activityId",
        "records[3].year",
        "records[4].amount",
        "records[5].milestoneKey",
    }
    plan = await _implementation(graphql)
    assert plan["implementation"]["total"]["completed"] == 0  # nothing was stored
    on_action_plan = await _record(graphql, completed(), plan_id=baku)
    assert on_action_plan["__typename"] == "ValidationFailed"


async def test_an_amendment_cancelling_an_activity_takes_it_out_of_the_planned(
    graphql: GraphQL, amend: Any, baku: str
) -> None:
    await _plan(graphql)
    await amend(PLAN_ID, 1, update("act-data", status="CANCELLED"), authority="BDT")
    plan = await _implementation(graphql, year=2027)
    assert plan["implementation"]["total"]["planned"] == 1


async def test_execution_rows_are_append_only_and_chained(
    graphql: GraphQL, baku: str, raw_engine: AsyncEngine
) -> None:
    await _plan(graphql)
    await _record(graphql, spent("spend-1", "10.00"), completed())
    for statement in ("UPDATE execution_records SET amount = '1'", "DELETE FROM execution_records"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with raw_engine.begin() as conn:
                await conn.execute(text(statement))
