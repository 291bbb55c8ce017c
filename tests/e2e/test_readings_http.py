"""KPI readings over HTTP, as integrations push them and front-ends and auditors read them:
`recordReadings`, `Kpi.readings / latest / progress`, and the plain bulk endpoint
`POST /ingest/readings` with NDJSON and CSV."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from planapi.config import Settings
from planapi.entrypoints.asgi import create_app
from tests.e2e.conftest import GraphQL, bearer
from tests.readings_fixtures import PLAN_ID, create_plan_input

CREATE = """
mutation Create($input: CreatePlanInput!) {
  createPlan(input: $input) { __typename ... on PlanCreated { plan { version } } }
}
"""

REMOVE = """
mutation Remove($planId: ID!, $version: Int!, $id: ID!) {
  amendPlan(input: {planId: $planId, expectedVersion: $version, authority: TDAG,
                    rationale: "Merged into 1.1.1", changes: [{removeNode: {id: $id}}]}) {
    __typename ... on AmendmentApplied { plan { version } }
  }
}
"""

RECORD = """
mutation Record($input: RecordReadingsInput!) {
  recordReadings(input: $input) {
    __typename
    ... on ReadingsRecorded { batchId stored duplicates recordedAt replayed }
    ... on ValidationFailed { message problems { path message } }
    ... on IdempotencyKeyReused { message idempotencyKey }
    ... on PlanNotFound { message planId }
  }
}
"""

READING_FIELDS = """
fragment ReadingFields on Reading {
  id kpiId period periodStart periodEnd value text numerator denominator
  disaggregation { dimension value }
  status source { integration readingId } note recordedAt isCurrent supersededAt
}
"""

READINGS = (
    """
query Readings($plan: ID!, $kpi: ID!, $version: Int, $from: String, $to: String,
               $disaggregation: [DimensionValueInput!], $asOf: DateTime,
               $includeSuperseded: Boolean! = false) {
  plan(id: $plan, version: $version) {
    version
    node(nodeId: $kpi) {
      ... on Kpi {
        readings(from: $from, to: $to, disaggregation: $disaggregation, asOf: $asOf,
                 includeSuperseded: $includeSuperseded) { ...ReadingFields }
      }
    }
  }
}
"""
    + READING_FIELDS
)

LATEST_AND_PROGRESS = """
query Progress($plan: ID!, $kpi: ID!, $female: [DimensionValueInput!]) {
  plan(id: $plan) {
    node(nodeId: $kpi) {
      ... on Kpi {
        latest { period value }
        latestFemale: latest(disaggregation: $female) { period value }
        progress {
          direction onTrack
          targets { period target latest { period value } expected onTrack achieved }
        }
      }
    }
  }
}
"""

FEMALE = [{"dimension": "sex", "value": "female"}]
FEMALE_AFRICA = [
    {"dimension": "sex", "value": "female"},
    {"dimension": "region", "value": "Africa"},
]
NDJSON = {"content-type": "application/x-ndjson"}
CSV = {"content-type": "text/csv; charset=utf-8"}


@pytest.fixture
async def plan(graphql: GraphQL) -> str:
    """Our plan of four KPIs, created over GraphQL as version 1."""
    body = await graphql(CREATE, input=create_plan_input())
    assert body["data"]["createPlan"]["__typename"] == "PlanCreated", body
    return PLAN_ID


def numeric(period: str, value: Any, kpi: str = "kpi-1", **fields: Any) -> dict[str, Any]:
    return {"kpiId": kpi, "period": period, "status": "FINAL", "value": value, **fields}


async def record(
    graphql: GraphQL, *readings: dict[str, Any], key: str | None = None, plan_id: str = PLAN_ID
) -> dict[str, Any]:
    given = {"planId": plan_id, "readings": list(readings), "idempotencyKey": key}
    body = await graphql(RECORD, input=given)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["recordReadings"]
    return result


async def series(graphql: GraphQL, kpi: str = "kpi-1", **arguments: Any) -> list[dict[str, Any]]:
    body = await graphql(READINGS, plan=PLAN_ID, kpi=kpi, **arguments)
    assert "errors" not in body, body
    found: list[dict[str, Any]] = body["data"]["plan"]["node"]["readings"]
    return found


async def values(graphql: GraphQL, kpi: str = "kpi-1", **arguments: Any) -> list[tuple[Any, ...]]:
    """(period, value, the series as `dim=value;…`) of each reading."""
    return [
        (
            r["period"],
            r["value"] if r["text"] is None else r["text"],
            ";".join(f"{d['dimension']}={d['value']}" for d in r["disaggregation"]),
        )
        for r in await series(graphql, kpi, **arguments)
    ]


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# -- recordReadings ----------------------------------------------------------------------------
async def test_recorded_readings_read_back_exactly_with_the_batch_that_took_them(
    graphql: GraphQL, plan: str
) -> None:
    recorded = await record(
        graphql,
        numeric(
            "2026",
            "2.50",
            status="PROVISIONAL",
            numerator="1",
            denominator="40.0",
            source={"integration": "nso-kenya", "readingId": "KE-2026-001"},
            note="Household survey, wave 3\nrevised",
        ),
        numeric("2026", 0.1, disaggregation=FEMALE_AFRICA),
        {"kpiId": "kpi-3", "period": "2027-S1", "status": "ESTIMATED", "text": "Draft policy"},
    )

    assert recorded["__typename"] == "ReadingsRecorded", recorded
    assert (recorded["stored"], recorded["duplicates"], recorded["replayed"]) == (3, 0, False)
    assert isinstance(recorded["batchId"], int)
    recorded_at = instant(recorded["recordedAt"])
    assert recorded_at.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - recorded_at) < dt.timedelta(minutes=5)

    total, female_africa = await series(graphql)
    assert total == {
        "id": total["id"],
        "kpiId": "kpi-1",
        "period": "2026",
        "periodStart": "2026-01-01",
        "periodEnd": "2026-12-31",
        "value": "2.50",
        "text": None,
        "numerator": "1",
        "denominator": "40.0",
        "disaggregation": [],
        "status": "PROVISIONAL",
        "source": {"integration": "nso-kenya", "readingId": "KE-2026-001"},
        "note": "Household survey, wave 3\nrevised",
        "recordedAt": recorded["recordedAt"],
        "isCurrent": True,
        "supersededAt": None,
    }
    assert female_africa["value"] == "0.1", "a JSON number arrives as the decimal it spells"
    assert female_africa["disaggregation"] == [
        {"dimension": "region", "value": "Africa"},
        {"dimension": "sex", "value": "female"},
    ], "one spelling per series: dimensions in name order"
    [narrative] = await series(graphql, "kpi-3")
    assert (narrative["text"], narrative["value"], narrative["periodEnd"]) == (
        "Draft policy",
        None,
        "2027-06-30",
    )


async def test_a_refused_batch_lists_every_problem_by_reading_and_field_and_stores_nothing(
    graphql: GraphQL, plan: str
) -> None:
    # Periods within the plan's 2026-2029, the two last readings valid again.
    batch = [numeric(str(2026 + i), "50") for i in range(3)]
    batch.append(numeric("2029", "50", disaggregation=[{"dimension": "age", "value": "15-24"}]))
    batch.append(numeric("2029", "50", kpi="kpi-99"))
    batch.append(numeric("2029", "NaN"))
    batch.append(numeric("2027-Q2", "50"))
    batch.append(numeric("2031", "50"))
    batch.append(numeric("2029", "50"))

    refused = await record(graphql, *batch)

    assert refused["__typename"] == "ValidationFailed"
    assert refused["problems"] == [
        {
            "path": "readings[3].disaggregation.age",
            "message": "KPI kpi-1 declares no dimension 'age' (declared: region, sex)",
        },
        {
            "path": "readings[4].kpiId",
            "message": "no KPI 'kpi-99' in the latest version of plan 'readings-2026'",
        },
        {"path": "readings[5].value", "message": "must be a finite number"},
        {"path": "readings[6].period", "message": "KPI kpi-1 takes yearly periods, not 2027-Q2"},
        {"path": "readings[7].period", "message": "2031 is outside the plan period 2026-2029"},
    ]
    assert "readings[6].period: KPI kpi-1 takes yearly periods" in refused["message"]
    assert await series(graphql) == []


async def test_a_retry_with_the_same_idempotency_key_is_replayed_not_stored_again(
    graphql: GraphQL, plan: str
) -> None:
    batch = [numeric("2026", "66"), numeric("2027", "69")]
    first = await record(graphql, *batch, key="nso-kenya/run-42")

    again = await record(graphql, *batch, key="nso-kenya/run-42")

    assert again == {
        "__typename": "ReadingsRecorded",
        "batchId": first["batchId"],
        "stored": 0,
        "duplicates": 2,
        "recordedAt": first["recordedAt"],
        "replayed": True,
    }
    assert len(await series(graphql, includeSuperseded=True)) == 2


async def test_the_same_idempotency_key_with_other_readings_is_a_typed_error(
    graphql: GraphQL, plan: str
) -> None:
    await record(graphql, numeric("2026", "66"), key="nso-kenya/run-42")

    reused = await record(graphql, numeric("2026", "67"), key="nso-kenya/run-42")

    assert reused["__typename"] == "IdempotencyKeyReused"
    assert reused["idempotencyKey"] == "nso-kenya/run-42"
    assert "different batch" in reused["message"]
    assert await values(graphql) == [("2026", "66", "")]


async def test_a_resent_source_reading_counts_as_a_duplicate(graphql: GraphQL, plan: str) -> None:
    source = {"integration": "nso-kenya", "readingId": "KE-2026-001"}
    await record(graphql, numeric("2026", "66", source=source))

    again = await record(graphql, numeric("2026", "66", source=source))

    assert (again["stored"], again["duplicates"], again["replayed"]) == (0, 1, False)


async def test_readings_for_an_unknown_plan_are_refused_by_name(
    graphql: GraphQL, plan: str
) -> None:
    refused = await record(graphql, numeric("2026", "66"), plan_id="no-such-plan")

    assert refused == {
        "__typename": "PlanNotFound",
        "message": "plan 'no-such-plan' does not exist",
        "planId": "no-such-plan",
    }


# -- Kpi.readings, latest, progress ------------------------------------------------------------
@pytest.fixture
async def history(graphql: GraphQL, plan: str) -> tuple[str, str]:
    """kpi-1 read for 2025-2028 (and 2027 for women), then 2027 corrected: the two instants."""
    first = await record(
        graphql,
        numeric("2025", "60"),
        numeric("2026", "66"),
        numeric("2027", "69"),
        numeric("2027", "64", disaggregation=FEMALE),
        numeric("2028", "74"),
    )
    second = await record(graphql, numeric("2027", "71", note="census revision"))
    assert first["recordedAt"] <= second["recordedAt"]
    return first["recordedAt"], second["recordedAt"]


async def test_a_kpi_shows_its_current_reading_per_series_and_period_in_period_order(
    graphql: GraphQL, history: tuple[str, str]
) -> None:
    assert await values(graphql) == [
        ("2025", "60", ""),
        ("2026", "66", ""),
        ("2027", "71", ""),
        ("2027", "64", "sex=female"),
        ("2028", "74", ""),
    ]


async def test_readings_narrow_to_a_period_range_and_to_one_series(
    graphql: GraphQL, history: tuple[str, str]
) -> None:
    in_range = await values(graphql, **{"from": "2026", "to": "2027"})
    total = await values(graphql, disaggregation=[])
    women = await values(graphql, disaggregation=FEMALE)

    assert in_range == [("2026", "66", ""), ("2027", "71", ""), ("2027", "64", "sex=female")]
    assert [period for period, _, _ in total] == ["2025", "2026", "2027", "2028"]
    assert women == [("2027", "64", "sex=female")]
    assert await values(graphql, **{"from": "2027-Q3"}) == [("2028", "74", "")]


async def test_as_of_shows_what_an_auditor_would_have_seen_then(
    graphql: GraphQL, history: tuple[str, str]
) -> None:
    first, second = history
    just_before = (instant(first) - dt.timedelta(microseconds=1)).isoformat()

    then = await values(graphql, asOf=first, disaggregation=[])
    in_local_time = await values(
        graphql, asOf=instant(first).astimezone(dt.timezone(dt.timedelta(hours=4))).isoformat()
    )
    nothing = await values(graphql, asOf=just_before)
    now = await values(graphql, asOf=second, disaggregation=[])

    assert ("2027", "69", "") in then
    assert ("2027", "71", "") not in then
    assert in_local_time == await values(graphql, asOf=first)
    assert nothing == []
    assert ("2027", "71", "") in now


async def test_include_superseded_shows_a_correction_and_when_it_was_made(
    graphql: GraphQL, history: tuple[str, str]
) -> None:
    _, second = history

    found = await series(
        graphql, disaggregation=[], includeSuperseded=True, **{"from": "2027", "to": "2027"}
    )

    assert [(r["value"], r["isCurrent"], r["supersededAt"], r["note"]) for r in found] == [
        ("69", False, second, None),
        ("71", True, None, "census revision"),
    ]
    known_then = await series(graphql, includeSuperseded=True, asOf=history[0], disaggregation=[])
    assert all(r["isCurrent"] for r in known_then), "as known then, nothing was superseded yet"


async def test_a_reading_query_with_a_bad_period_or_a_local_time_is_a_client_error(
    graphql: GraphQL, plan: str
) -> None:
    bad_period = await graphql(READINGS, plan=PLAN_ID, kpi="kpi-1", **{"from": "2027-Q5"})
    naive = await graphql(READINGS, plan=PLAN_ID, kpi="kpi-1", asOf="2027-01-01T00:00:00")

    [error] = bad_period["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["problems"][0]["path"] == "from"
    [error] = naive["errors"]
    assert error["extensions"]["problems"] == [
        {"path": "asOf", "message": "must include a UTC offset"}
    ]


async def test_latest_and_progress_tell_a_dashboard_where_the_kpi_stands(
    graphql: GraphQL, history: tuple[str, str]
) -> None:
    body = await graphql(LATEST_AND_PROGRESS, plan=PLAN_ID, kpi="kpi-1", female=FEMALE)

    assert "errors" not in body, body
    kpi = body["data"]["plan"]["node"]
    assert kpi["latest"] == {"period": "2028", "value": "74"}, "the total's most recent period"
    assert kpi["latestFemale"] == {"period": "2027", "value": "64"}
    assert kpi["progress"] == {
        "direction": "INCREASE",
        "onTrack": False,
        "targets": [
            {
                "period": "2027",
                "target": "70",
                "latest": {"period": "2027", "value": "71"},  # the correction counts
                "expected": "70",
                "onTrack": True,
                "achieved": True,
            },
            {
                "period": "2029",
                "target": "80",
                "latest": {"period": "2028", "value": "74"},
                # 60 + (80 - 60) * 1096 / 1461 days from the 2025 baseline
                "expected": "75.00",
                "onTrack": False,
                "achieved": False,
            },
        ],
    }


async def test_a_kpi_without_readings_has_no_latest_and_no_verdict(
    graphql: GraphQL, plan: str
) -> None:
    body = await graphql(LATEST_AND_PROGRESS, plan=PLAN_ID, kpi="kpi-2", female=None)

    kpi = body["data"]["plan"]["node"]
    assert kpi["latest"] is None
    assert kpi["progress"]["onTrack"] is None
    assert kpi["progress"]["targets"] == [
        {
            "period": "2029",
            "target": "2",
            "latest": None,
            "expected": None,
            "onTrack": None,
            "achieved": False,
        }
    ]


async def test_a_kpi_removed_in_a_later_version_keeps_its_readings_in_the_earlier_one(
    graphql: GraphQL, plan: str
) -> None:
    await record(graphql, numeric("2027-Q1", "4.1", kpi="kpi-2"))
    removed = await graphql(REMOVE, planId=PLAN_ID, version=1, id="kpi-2")
    assert removed["data"]["amendPlan"] == {
        "__typename": "AmendmentApplied",
        "plan": {"version": 2},
    }

    before = await graphql(READINGS, plan=PLAN_ID, kpi="kpi-2", version=1)
    after = await graphql(READINGS, plan=PLAN_ID, kpi="kpi-2")
    refused = await record(graphql, numeric("2027-Q2", "3.9", kpi="kpi-2"))

    assert [r["value"] for r in before["data"]["plan"]["node"]["readings"]] == ["4.1"]
    assert after["data"]["plan"] == {"version": 2, "node": None}
    assert refused["__typename"] == "ValidationFailed"
    assert refused["problems"] == [
        {
            "path": "readings[0].kpiId",
            "message": "no KPI 'kpi-2' in the latest version of plan 'readings-2026'",
        }
    ]


# -- POST /ingest/readings ---------------------------------------------------------------------
def ndjson(*records: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


async def ingest(
    client: httpx.AsyncClient,
    body: bytes,
    headers: dict[str, str] = NDJSON,
    plan_id: str | None = PLAN_ID,
) -> httpx.Response:
    params = {"planId": plan_id} if plan_id else {}
    return await client.post("/ingest/readings", params=params, content=body, headers=headers)


async def test_ndjson_readings_are_stored_and_read_back_exactly(
    client: httpx.AsyncClient, graphql: GraphQL, plan: str
) -> None:
    body = (
        ndjson(
            numeric("2026", "66.50"),
            {
                "kpiId": "kpi-1",
                "period": "2026",
                "status": "PROVISIONAL",
                "disaggregation": {"sex": "female", "region": "Africa"},
                "numerator": 1,
                "denominator": 3,
                "source": {"integration": "itu-ict-eye", "readingId": "ICT-17"},
            },
            {"kpiId": "kpi-3", "period": "2027", "status": "FINAL", "text": "Adopted"},
        )
        + b"\n"  # blank lines are nothing
        + b'{"kpiId": "kpi-1", "period": "2027", "status": "FINAL", "value": 2.50}'  # no \n at EOF
    )

    response = await ingest(client, body)

    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["stored"], result["duplicates"], result["replayed"]) == (4, 0, False)
    assert isinstance(result["batchId"], int)
    assert instant(result["recordedAt"]).utcoffset() == dt.timedelta(0)
    found = await series(graphql)
    assert [(r["period"], r["value"]) for r in found] == [
        ("2026", "66.50"),
        ("2026", "33.33333333333333333333333333"),
        ("2027", "2.50"),  # a JSON number keeps the scale it was written with
    ]
    assert found[1]["source"] == {"integration": "itu-ict-eye", "readingId": "ICT-17"}
    assert (found[1]["numerator"], found[1]["denominator"]) == ("1", "3")
    assert await values(graphql, "kpi-3") == [("2027", "Adopted", "")]


async def test_csv_readings_are_stored_with_quoted_notes_and_disaggregations(
    client: httpx.AsyncClient, graphql: GraphQL, plan: str
) -> None:
    body = (
        b"kpi_id,period,status,value,text,numerator,denominator,disaggregation,source,"
        b"source_reading_id,note\r\n"
        b"kpi-1,2026,FINAL,66.50,,,,,nso-kenya,KE-1,\r\n"
        b'kpi-1,2026,PROVISIONAL,61,,,,sex=female;region=Africa,nso-kenya,KE-2,"Revised, after '
        b'the census\nsee ""annex 2"""\r\n'
        b"kpi-2,2027-Q2,ESTIMATED,3.75,,,,,,,\r\n"
    )

    response = await ingest(client, body, headers=CSV)

    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 3
    total, women = await series(graphql)
    assert (total["value"], total["source"]) == (
        "66.50",
        {"integration": "nso-kenya", "readingId": "KE-1"},
    )
    assert total["note"] is None
    assert women["note"] == 'Revised, after the census\nsee "annex 2"'
    assert women["disaggregation"] == FEMALE_AFRICA[::-1]
    assert await values(graphql, "kpi-2") == [("2027-Q2", "3.75", "")]


async def test_only_the_columns_named_in_the_header_need_to_be_sent(
    client: httpx.AsyncClient, graphql: GraphQL, plan: str
) -> None:
    body = b"period,kpi_id,value,status\n2026,kpi-1,66,FINAL\n2027,kpi-1,69,FINAL\n"

    response = await ingest(client, body, headers=CSV)

    assert response.status_code == 200, response.text
    assert await values(graphql) == [("2026", "66", ""), ("2027", "69", "")]


async def test_a_csv_line_break_outside_quotes_is_refused_by_its_line(
    client: httpx.AsyncClient, graphql: GraphQL, plan: str
) -> None:
    body = b"period,kpi_id,value,status\n2026,kpi-1,66,FINAL\n2027,kpi\r-1,69,FINAL\n"

    response = await ingest(client, body, headers=CSV)

    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["line"] == 3
    assert "new-line character seen in unquoted field" in problem["message"]
    assert await values(graphql) == []


async def test_malformed_ndjson_lines_are_each_reported_by_line_and_nothing_is_stored(
    client: httpx.AsyncClient, graphql: GraphQL, plan: str
) -> None:
    body = b"".join(
        [
            ndjson(numeric("2025", "60")),  # line 1
            b'{"kpiId": "kpi-1", "period": "2026", \n',  # line 2: cut short
            ndjson(numeric("2026", "66")),  # line 3
            ndjson({**numeric("2027", "69"), "status": "FINALISED"}),  # line 4
            b'{"kpiId": "kpi-1", "note": "caf\xe9"}\n',  # line 5: Latin-1, not UTF-8
            b"[1, 2]\n",  # line 6
            ndjson(numeric("2028-Q2", "74")),  # line 7: parses; the KPI takes years
            ndjson(numeric("2029", "80")),  # line 8
        ]
    )

    response = await ingest(client, body)

    assert response.status_code == 422, response.text
    result = response.json()
    assert (result["error"], result["message"]) == ("validation_failed", "nothing was stored")
    problems = result["problems"]
    assert [p["line"] for p in problems] == [2, 4, 5, 6, 7]
    assert "JSON" in problems[0]["message"]
    assert "status" in problems[1]["message"]
    assert "FINALISED" in problems[1]["message"]
    assert problems[2]["message"] == "is not UTF-8"
    assert problems[3]["message"], "a line that is no object is named too"
    assert problems[4] == {
        "path": "readings[2].period",
        "message": "KPI kpi-1 takes yearly periods, not 2028-Q2",
        "line": 7,
    }
    assert await series(graphql) == []


async def test_malformed_csv_rows_are_reported_by_the_line_they_start_on(
    client: httpx.AsyncClient, graphql: GraphQL, plan: str
) -> None:
    body = (
        b"kpi_id,period,status,value,note\n"  # line 1
        b'kpi-1,2025,FINAL,60,"spans\ntwo lines"\n'  # lines 2-3
        b"kpi-1,2026,FINAL,66\n"  # line 4: a field short
        b"kpi-1,2027,FINAL,sixty-nine,\n"  # line 5
        b"kpi-1,2028,UNKNOWN,74,\n"  # line 6
        b"kpi-1,2029,FINAL,80,caf\xe9\n"  # line 7
        b"kpi-1,2029,FINAL,80,\n"  # line 8: fine
    )

    response = await ingest(client, body, headers=CSV)

    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert [p["line"] for p in problems] == [4, 5, 6, 7]
    assert problems[0]["message"] == "has 4 fields, the header 5"
    assert "value" in problems[1]["message"], "the field at fault is named"
    assert "status" in problems[2]["message"]
    assert problems[3]["message"] == "is not UTF-8"
    assert await series(graphql) == []


async def test_a_csv_header_naming_unknown_columns_is_refused(
    client: httpx.AsyncClient, plan: str
) -> None:
    response = await ingest(client, b"kpi_id,period,colour\nkpi-1,2026,red\n", headers=CSV)

    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["line"] == 1
    assert "unknown: colour" in problem["message"]


async def test_an_ingest_retry_with_the_same_idempotency_key_is_replayed(
    client: httpx.AsyncClient, graphql: GraphQL, plan: str
) -> None:
    body = ndjson(numeric("2026", "66"), numeric("2027", "69"))
    key = {**NDJSON, "Idempotency-Key": "nso-kenya/2026-03-02"}
    first = await ingest(client, body, headers=key)

    again = await ingest(client, body, headers=key)
    other = await ingest(client, ndjson(numeric("2026", "67")), headers=key)

    assert first.status_code == again.status_code == 200
    assert again.json() == {**first.json(), "stored": 0, "duplicates": 2, "replayed": True}
    assert other.status_code == 409
    assert other.json()["error"] == "idempotency_key_reused"
    assert await values(graphql) == [("2026", "66", ""), ("2027", "69", "")]


async def test_the_ingest_endpoint_and_recordreadings_share_one_idempotency_space(
    client: httpx.AsyncClient, graphql: GraphQL, plan: str
) -> None:
    first = await ingest(
        client, ndjson(numeric("2026", "66")), headers={**NDJSON, "Idempotency-Key": "k1"}
    )

    again = await record(graphql, numeric("2026", "66"), key="k1")

    assert (again["replayed"], again["batchId"]) == (True, first.json()["batchId"])


@pytest.mark.parametrize(
    ("content_type", "plan_id", "status", "error"),
    [
        ("application/json", PLAN_ID, 415, "unsupported_media_type"),
        ("text/plain", PLAN_ID, 415, "unsupported_media_type"),
        ("application/x-ndjson", None, 400, "missing_plan_id"),
        ("application/x-ndjson", "no-such-plan", 404, "plan_not_found"),
    ],
)
async def test_a_request_the_endpoint_cannot_take_is_refused_with_its_status(
    client: httpx.AsyncClient,
    graphql: GraphQL,
    plan: str,
    content_type: str,
    plan_id: str | None,
    status: int,
    error: str,
) -> None:
    response = await ingest(
        client,
        ndjson(numeric("2026", "66")),
        headers={"content-type": content_type},
        plan_id=plan_id,
    )

    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert await series(graphql) == []


@pytest.fixture
async def small_client(settings: Settings, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app that takes ingest bodies of at most 1 KiB."""
    app = create_app(settings.model_copy(update={"max_ingest_bytes": 1024}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://planapi", headers=bearer(admin_token)
        ) as http:
            yield http


async def test_a_body_over_the_limit_is_refused_whether_declared_or_streamed(
    small_client: httpx.AsyncClient, graphql: GraphQL, plan: str
) -> None:
    body = ndjson(*(numeric(str(2000 + i), "66") for i in range(30)))
    assert len(body) > 1024

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 256):
            yield body[start : start + 256]

    declared = await ingest(small_client, body)
    streamed = await small_client.post(
        "/ingest/readings", params={"planId": PLAN_ID}, content=chunks(), headers=NDJSON
    )
    fits = await ingest(small_client, ndjson(numeric("2026", "66")))

    assert declared.status_code == 413, declared.text
    assert declared.json()["error"] == "too_large"
    assert streamed.status_code == 413, streamed.text
    assert streamed.json()["error"] == "too_large"
    assert fits.status_code == 200, fits.text
    assert await values(graphql) == [("2026", "66", "")]
