"""Over HTTP, on both backends: the draft adopted by the WTDC, the plan in force on a date,
documents that show the status, and the values a KPI's range refuses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import add, update

Amend = Callable[..., Awaitable[dict[str, Any]]]
CONNECTIVITY = "priority-affordable-connectivity"

IN_FORCE = """
query($id: ID!, $on: Date!, $asOf: DateTime) {
  plan(id: $id, inForceOn: $on, asOf: $asOf) { version status }
}
"""
RECORD = """
mutation Record($input: RecordReadingsInput!) {
  recordReadings(input: $input) {
    __typename
    ... on ReadingsRecorded { stored }
    ... on ValidationFailed { problems { path message } }
  }
}
"""


def problems(result: dict[str, Any]) -> dict[str, str]:
    assert result["__typename"] == "ValidationFailed", result
    return {p["path"]: p["message"] for p in result["problems"]}


async def test_the_seeded_draft_is_adopted_by_the_wtdc_and_then_in_force(
    graphql: GraphQL, amend: Amend, baku: str, client: httpx.AsyncClient
) -> None:
    draft = await graphql(f'{{ plan(id: "{baku}") {{ status succeeds supersededBy }} }}')
    refused = await amend(baku, 1, status="ADOPTED", authority="TDAG")
    adopted = await amend(
        baku,
        1,
        status="ADOPTED",
        authority="WTDC",
        rationale="Adopted by WTDC-25",
        effectiveFrom="2026-01-01",
    )
    before = await graphql(IN_FORCE, id=baku, on="2025-12-31")
    during = await graphql(IN_FORCE, id=baku, on="2026-06-01")
    believed = await graphql(
        IN_FORCE, id=baku, on="2026-06-01", asOf=adopted["amendment"]["recordedAt"]
    )
    earlier = await graphql(IN_FORCE, id=baku, on="2026-06-01", asOf="2000-01-01T00:00:00Z")
    document = await client.get(f"/plans/{baku}/document", params={"inForceOn": "2026-06-01"})
    draft_doc = await client.get(f"/plans/{baku}/document", params={"version": 1})
    none_yet = await client.get(f"/plans/{baku}/document", params={"inForceOn": "2025-01-01"})
    bad_date = await client.get(f"/plans/{baku}/document", params={"inForceOn": "soon"})

    assert draft["data"]["plan"] == {"status": "DRAFT", "succeeds": None, "supersededBy": None}
    assert problems(refused) == {
        "status": "only WTDC may change the status of an action plan; this amendment's "
        "authority is TDAG"
    }
    assert adopted["__typename"] == "AmendmentApplied", adopted
    assert before["data"]["plan"] is None
    assert during["data"]["plan"] == {"version": 2, "status": "ADOPTED"}
    assert believed["data"]["plan"] == {"version": 2, "status": "ADOPTED"}
    assert earlier["data"]["plan"] is None
    assert document.status_code == 200
    assert "> Status: ADOPTED  " in document.text.splitlines()
    assert "> Status: DRAFT  " in draft_doc.text.splitlines()
    assert none_yet.status_code == 404
    assert bad_date.status_code == 400
    assert "inForceOn" in bad_date.json()["message"]


async def test_in_force_on_with_a_version_is_refused_naming_it(graphql: GraphQL, baku: str) -> None:
    body = await graphql(
        'query { plan(id: "baku-2026", version: 1, inForceOn: "2027-01-01") { version } }'
    )

    assert body["data"]["plan"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "inForceOn" in body["errors"][0]["message"]


def _kpi(node_id: str, measure: str, unit: str, *targets: str, **more: Any) -> dict[str, Any]:
    return add(
        "KPI",
        f"KPI {node_id}",
        id=node_id,
        parentId="outcome-x",
        unit=unit,
        measure=measure,
        targets=[{"period": str(2026 + i), "value": v} for i, v in enumerate(targets)],
        **more,
    )


async def test_targets_must_fit_the_kpis_range(amend: Amend, baku: str) -> None:
    outcome = add("OUTCOME", "Connectivity for all", id="outcome-x", parentId=CONNECTIVITY)
    percent = await amend(baku, 1, outcome, _kpi("k-pct", "PERCENTAGE", "%", "80", "180"))
    declared = await amend(baku, 1, outcome, _kpi("k-cap", "UNIT", "schools", "60", maximum="50"))
    crossed = await amend(
        baku, 1, outcome, _kpi("k-bad", "UNIT", "schools", minimum="10", maximum="5")
    )
    # A rate per 100 inhabitants is not a percentage: 130 subscriptions per 100 people is fine.
    rate = await amend(
        baku,
        1,
        outcome,
        _kpi("k-rate", "RATIO", "per 100 inhabitants", "130"),
        _kpi("k-ok", "PERCENTAGE", "%", "75", baseline={"period": "2025", "value": "67.4"}),
    )
    lowered = await amend(baku, 2, update("k-ok", maximum="70"))

    assert problems(percent) == {
        "changes[1].addNode.targets[1].value": "target 2027: 180 is outside KPI k-pct's "
        "range, from 0 to 100 (a percentage)"
    }
    assert list(problems(declared)) == ["changes[1].addNode.targets[0].value"]
    assert problems(crossed) == {"changes[1].addNode.minimum": "minimum 10 is above maximum 5"}
    assert rate["__typename"] == "AmendmentApplied", rate
    assert set(problems(lowered)) == {"changes[0].updateNode.maximum"}


async def test_readings_must_fit_the_range_and_the_plans_period(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    outcome = add("OUTCOME", "Connectivity for all", id="outcome-x", parentId=CONNECTIVITY)
    kpi = _kpi("k-pct", "PERCENTAGE", "%", "80", baseline={"period": "2025", "value": "60"})
    assert (await amend(baku, 1, outcome, kpi))["__typename"] == "AmendmentApplied"

    async def record(*readings: dict[str, Any]) -> dict[str, Any]:
        body = await graphql(RECORD, input={"planId": baku, "readings": list(readings)})
        result: dict[str, Any] = body["data"]["recordReadings"]
        return result

    refused = await record(
        {"kpiId": "k-pct", "status": "FINAL", "period": "2027", "value": "150"},
        {"kpiId": "k-pct", "status": "FINAL", "period": "2031", "value": "50"},
        {
            "kpiId": "k-pct",
            "status": "FINAL",
            "period": "2028",
            "numerator": "3",
            "denominator": "2",
        },
    )
    accepted = await record(
        {
            "kpiId": "k-pct",
            "status": "FINAL",
            "period": "2025",
            "value": "61",
        },  # the baseline's year: exempt
        {"kpiId": "k-pct", "status": "FINAL", "period": "2027-Q2", "value": "100"},
    )

    assert problems(refused) == {
        "readings[0].value": "150 is outside KPI k-pct's range, from 0 to 100 (a percentage)",
        "readings[1].period": "2031 is outside the plan period 2026-2029",
        "readings[2].numerator": "150 is outside KPI k-pct's range, from 0 to 100 (a percentage)",
    }
    assert accepted == {"__typename": "ReadingsRecorded", "stored": 2}
