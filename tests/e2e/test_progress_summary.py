"""Results rollups over HTTP (issue 16): `progressSummary` on the plan, a priority and an
outcome counts the KPIs under them by standing and says how many reported the expected period,
and follows each batch of readings (corrections included) at once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import GraphQL
from tests.e2e.test_readings_http import CREATE, RECORD
from tests.readings_fixtures import PLAN_ID, create_plan_input

FIELDS = "kpis achieved onTrack offTrack notAssessed withoutData expectedPeriod reported "
FIELDS += "dataCompleteness"
SUMMARY = f"""
query Summary($plan: ID!, $expected: String) {{
  plan(id: $plan) {{
    progressSummary(expectedPeriod: $expected) {{ {FIELDS} }}
    priorities {{
      progressSummary(expectedPeriod: $expected) {{ {FIELDS} }}
      outcomes {{ progressSummary(expectedPeriod: $expected) {{ {FIELDS} }} }}
    }}
  }}
}}
"""


@pytest.fixture
async def plan(graphql: GraphQL) -> str:
    """Four KPIs under one outcome: kpi-1 rising to 70 (2027) and 80 (2029), kpi-2 falling to
    2 by 2029, kpi-3 qualitative, kpi-4 without targets."""
    body = await graphql(CREATE, input=create_plan_input())
    assert body["data"]["createPlan"]["__typename"] == "PlanCreated", body
    return PLAN_ID


async def record(graphql: GraphQL, *readings: dict[str, Any]) -> None:
    body = await graphql(RECORD, input={"planId": PLAN_ID, "readings": list(readings)})
    assert body["data"]["recordReadings"]["__typename"] == "ReadingsRecorded", body


def numeric(kpi: str, period: str, value: str) -> dict[str, Any]:
    return {"kpiId": kpi, "period": period, "status": "FINAL", "value": value}


async def summaries(graphql: GraphQL, expected: str | None = None) -> list[dict[str, Any]]:
    """The plan's, its priority's and its outcome's summaries (the same KPIs under each)."""
    body = await graphql(SUMMARY, plan=PLAN_ID, expected=expected)
    assert "errors" not in body, body
    found = body["data"]["plan"]
    priority = found["priorities"][0]
    return [
        found["progressSummary"],
        priority["progressSummary"],
        priority["outcomes"][0]["progressSummary"],
    ]


async def test_a_plan_without_readings_has_every_kpi_without_data(
    graphql: GraphQL, plan: str
) -> None:
    for summary in await summaries(graphql):
        assert summary == {
            "kpis": 4,
            "achieved": 0,
            "onTrack": 0,
            "offTrack": 0,
            "notAssessed": 0,
            "withoutData": 4,
            "expectedPeriod": None,
            "reported": 0,
            "dataCompleteness": 0.0,
        }


async def test_each_kpi_counts_once_and_a_correction_moves_it_at_once(
    graphql: GraphQL, plan: str
) -> None:
    await record(
        graphql,
        numeric("kpi-1", "2029", "85"),  # its last target met: achieved
        # 5 falling to 2 by 2029 stands at 3.50 at the end of 2027: 4 is off track
        numeric("kpi-2", "2027", "4"),
        {"kpiId": "kpi-3", "period": "2028", "status": "FINAL", "text": "Adopted"},
    )
    plan_summary, priority, outcome = await summaries(graphql)
    assert plan_summary == {
        "kpis": 4,
        "achieved": 1,
        "onTrack": 0,
        "offTrack": 1,
        "notAssessed": 1,  # readings, but no target to judge them by
        "withoutData": 1,
        "expectedPeriod": "2029",  # the latest period any KPI reported
        "reported": 1,
        "dataCompleteness": 0.25,
    }
    assert priority == outcome == plan_summary

    await record(graphql, numeric("kpi-2", "2027", "3"))  # corrected: now on track
    corrected = (await summaries(graphql))[0]
    assert (corrected["onTrack"], corrected["offTrack"]) == (1, 0)


async def test_the_expected_period_can_be_named_and_a_bad_one_is_refused_by_name(
    graphql: GraphQL, plan: str
) -> None:
    await record(
        graphql,
        numeric("kpi-1", "2027", "71"),
        numeric("kpi-2", "2027-Q4", "3"),
        numeric("kpi-4", "2026-05", "120"),
    )
    summary = (await summaries(graphql, "2027"))[0]
    # a quarter ending with the year covers it; May 2026 does not
    assert (summary["expectedPeriod"], summary["reported"]) == ("2027", 2)
    assert summary["dataCompleteness"] == 0.5

    body = await graphql(SUMMARY, plan=PLAN_ID, expected="2027-13")
    assert body["data"] == {"plan": None}
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["problems"][0]["path"] == "expectedPeriod"
