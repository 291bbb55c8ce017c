"""recordReadings stores the same readings and answers the same errors whether its variable was
decoded by msgspec (`api.runtime.fast_inputs`) or coerced by graphql-core
(`FastExecutionContext.enabled` False), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.coercion import coercion
from tests.e2e.conftest import GraphQL
from tests.readings_fixtures import create_plan_input

# Plans whose ids are numbers, with a KPI whose id is a number: GraphQL takes an ID as either.
FAST, PLAIN = "4401", "4402"
CREATE = """
mutation Create($input: CreatePlanInput!) { createPlan(input: $input) { __typename } }
"""
RECORD = """
mutation Record($input: RecordReadingsInput!) {
  recordReadings(input: $input) {
    __typename
    ... on ReadingsRecorded { stored duplicates replayed }
    ... on ValidationFailed { message problems { path message } }
  }
}
"""
STORED = """
query Stored($plan: ID!) {
  plan(id: $plan) {
    nodes(kind: KPI) {
      nodeId
      ... on Kpi {
        readings(includeSuperseded: true) {
          kpiId period value text numerator denominator status note
          disaggregation { dimension value }
          source { integration readingId }
        }
      }
    }
  }
}
"""


def _plan_input(plan_id: str) -> dict[str, Any]:
    given = create_plan_input(plan_id)
    [trained] = [c for c in given["changes"] if c["addNode"].get("id") == "kpi-4"]
    given["changes"].append({"addNode": {**trained["addNode"], "id": "7", "code": "1.1.7"}})
    return given


@pytest.fixture
async def plans(graphql: GraphQL) -> None:
    for plan_id in (FAST, PLAIN):
        body = await graphql(CREATE, input=_plan_input(plan_id))
        assert body["data"]["createPlan"]["__typename"] == "PlanCreated", body


async def _record(
    graphql: GraphQL, given: dict[str, Any], *, fast: bool
) -> tuple[dict[str, Any], int]:
    """The whole response, and how many readings reached the resolver coerced by graphql-core."""
    with coercion(fast=fast) as coerced:
        return await graphql(RECORD, input=given), coerced[0]


async def _stored(graphql: GraphQL, plan_id: str) -> dict[str, Any]:
    body = await graphql(STORED, plan=plan_id)
    assert "errors" not in body, body
    return {kpi["nodeId"]: kpi["readings"] for kpi in body["data"]["plan"]["nodes"]}


def reading(period: str, value: Any = "66.5", kpi: Any = "kpi-1", **fields: Any) -> dict[str, Any]:
    return {"kpiId": kpi, "period": period, "status": "FINAL", "value": value, **fields}


EVERY_FIELD = [
    reading(
        "2026",
        "2.50",
        status="PROVISIONAL",
        numerator="1",
        denominator="40.0",
        disaggregation=[
            {"dimension": "sex", "value": "female"},
            {"dimension": "region", "value": "Africa"},
        ],
        source={"integration": "nso-kenya", "readingId": "KE-2026-001"},
        note="Household survey, wave 3\nrevised",
    ),
    reading("2027", "-0", source={"integration": "nso-kenya"}, note=None, text=None),
    {"kpiId": "kpi-3", "period": "2027-S1", "status": "ESTIMATED", "text": "Draft policy"},
    reading("2028-W14", "1E+3", kpi="7", disaggregation=[]),
]


@pytest.mark.parametrize(
    ("readings", "plan_as_number", "decoded", "expected"),
    [
        pytest.param(EVERY_FIELD, False, True, {"kpi-1": ["2.50", "-0"]}, id="every field"),
        pytest.param(
            [reading("2026", 0.1), reading("2027", 66), reading("2028", 1e-7)],
            False,
            True,
            {"kpi-1": ["0.1", "66", "0.0000001"]},  # Decimal answers: never exponent notation
            id="JSON numbers for decimals",
        ),
        pytest.param(
            [reading("2026-03", "12", kpi=7)],
            True,
            False,
            {"7": ["12"]},
            id="IDs as integers",
        ),
        pytest.param(reading("2026"), False, False, {"kpi-1": ["66.5"]}, id="one reading alone"),
        pytest.param(
            [reading("2026", disaggregation={"dimension": "sex", "value": "male"})],
            False,
            False,
            {"kpi-1": ["66.5"]},
            id="one dimension value alone",
        ),
        pytest.param(
            [reading("2026", text="", note="")],
            False,
            False,
            {"kpi-1": ["66.5"]},
            id="empty texts",
        ),
    ],
)
@pytest.mark.usefixtures("plans")
async def test_a_batch_is_stored_alike_however_its_variable_was_read(
    graphql: GraphQL,
    readings: Any,
    plan_as_number: bool,
    decoded: bool,
    expected: dict[str, list[str | None]],
) -> None:
    answers = []
    for plan_id, fast in ((FAST, True), (PLAIN, False)):
        given = {"planId": int(plan_id) if plan_as_number else plan_id, "readings": readings}
        answer, coerced = await _record(graphql, given, fast=fast)
        answers.append(answer)
        if fast:
            assert (coerced == 0) == decoded, "msgspec decodes what it can, graphql-core the rest"

    assert answers[0] == answers[1]
    assert answers[0]["data"]["recordReadings"]["__typename"] == "ReadingsRecorded", answers[0]
    fast_stored, plain_stored = await _stored(graphql, FAST), await _stored(graphql, PLAIN)
    assert fast_stored == plain_stored
    for kpi, values in expected.items():
        assert [r["value"] for r in fast_stored[kpi]] == values


@pytest.mark.parametrize(
    ("given", "message"),
    [
        pytest.param(
            {"planId": FAST, "readings": [reading("2026", colour="red")]},
            "Variable '$input' has invalid value at .readings[0]: Expected value of type "
            "'ReadingInput' not to include unknown field 'colour', found: {'kpiId': 'kpi-1', "
            "'period': '2026', 'status': 'FINAL', 'value': '66.5', 'colour': 'red'}.",
            id="an unknown field",
        ),
        pytest.param(
            {"planId": FAST, "readings": [reading("2026", kpi=None)]},
            "Variable '$input' has invalid value at .readings[0].kpiId: "
            "Expected value of non-null type 'ID!' not to be None.",
            id="null for a required field",
        ),
        pytest.param(
            {"planId": FAST, "readings": [reading("2026", status="final")]},
            "Variable '$input' has invalid value at .readings[0].status: Value 'final' does not "
            "exist in 'ReadingStatus' enum. Did you mean the enum value 'FINAL'?",
            id="a wrong enum value",
        ),
        pytest.param(
            {"planId": FAST, "readings": [reading("2026", "12,5")]},
            "Variable '$input' has invalid value at .readings[0].value: "
            'Value cannot represent a Decimal: "12,5".',
            id="an invalid decimal",
        ),
        pytest.param(
            {"planId": FAST, "readings": [{"kpiId": "kpi-1", "status": "FINAL"}]},
            "Variable '$input' has invalid value at .readings[0]: Expected value of type "
            "'ReadingInput' to include required field 'period', "
            "found: {'kpiId': 'kpi-1', 'status': 'FINAL'}.",
            id="a missing required field",
        ),
        pytest.param(
            {"planId": FAST, "readings": [reading("2026", source={"readingId": "x"})]},
            "Variable '$input' has invalid value at .readings[0].source: Expected value of type "
            "'ReadingSourceInput' to include required field 'integration', "
            "found: {'readingId': 'x'}.",
            id="a source without its integration",
        ),
    ],
)
@pytest.mark.usefixtures("plans")
async def test_a_variable_graphql_refuses_gets_graphqls_own_error_and_stores_nothing(
    graphql: GraphQL, given: dict[str, Any], message: str
) -> None:
    fast, _ = await _record(graphql, given, fast=True)
    plain, _ = await _record(graphql, given, fast=False)

    assert fast == plain
    assert "data" not in fast, "refused before execution: no data entry"
    assert [error["message"] for error in fast["errors"]] == [message]
    assert all(not readings for readings in (await _stored(graphql, FAST)).values())


@pytest.mark.usefixtures("plans")
async def test_a_reading_the_domain_refuses_is_reported_alike(graphql: GraphQL) -> None:
    batch = [reading("2026", "NaN"), reading("2027-Q2"), reading("2026", kpi="kpi-99")]
    given = {"planId": FAST, "readings": batch}

    fast, _ = await _record(graphql, given, fast=True)
    plain, _ = await _record(graphql, given, fast=False)

    assert fast == plain
    assert [p["path"] for p in fast["data"]["recordReadings"]["problems"]] == [
        "readings[0].value",
        "readings[1].period",
        "readings[2].kpiId",
    ]
