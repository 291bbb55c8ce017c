"""KPI dimensions bound to a code list: readings checked against it, and a KPI's country readings
aggregated by region or group, as a regional dashboard asks for them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import add, link

Amend = Callable[..., Awaitable[dict[str, Any]]]
ISO = "ISO_3166_1_ALPHA3"

RECORD = """
mutation Record($input: RecordReadingsInput!) {
  recordReadings(input: $input) {
    __typename
    ... on ReadingsRecorded { stored }
    ... on ValidationFailed { problems { path message } }
  }
}"""

AGGREGATE = """
query($plan: ID!, $kpi: ID!, $by: ID!, $period: String!) {
  plan(id: $plan) { node(nodeId: $kpi) { ... on Kpi {
    dimensions { name codeList }
    aggregate(by: $by, period: $period) {
      __typename
      ... on KpiAggregate { by method weightedBy groups { code value reporting missing } }
      ... on AggregationRefused { message reason }
    }
  } } }
}"""


def kpi(node_id: str, measure: str, unit: str) -> dict[str, Any]:
    return add(
        "KPI",
        node_id,
        id=node_id,
        parentId="outcome-stats",
        measure=measure,
        unit=unit,
        dimensions=[{"name": "country", "codeList": ISO}],
    )


@pytest.fixture
async def plan(amend: Amend, baku: str) -> str:
    applied = await amend(
        baku,
        1,
        add(
            "OUTCOME", "Statistics", id="outcome-stats", parentId="priority-affordable-connectivity"
        ),
        kpi("kpi-online", "PERCENTAGE", "% of population"),
        kpi("kpi-population", "UNIT", "people"),
        kpi("kpi-subscriptions", "UNIT", "subscriptions"),
        add("KPI", "Policy", id="kpi-policy", parentId="outcome-stats", measure="QUALITATIVE"),
        link("kpi-online", "kpi-population", "WEIGHTED_BY"),
    )
    assert applied["__typename"] == "AmendmentApplied", applied
    return baku


def reading(kpi_id: str, country: str, value: str, period: str = "2028") -> dict[str, Any]:
    return {
        "kpiId": kpi_id,
        "period": period,
        "status": "FINAL",
        "value": value,
        "disaggregation": [{"dimension": "country", "value": country}],
    }


async def record(graphql: GraphQL, plan: str, *readings: dict[str, Any]) -> dict[str, Any]:
    body = await graphql(RECORD, input={"planId": plan, "readings": list(readings)})
    result: dict[str, Any] = body["data"]["recordReadings"]
    return result


async def groups(graphql: GraphQL, plan: str, kpi_id: str, by: str) -> dict[str, Any]:
    body = await graphql(AGGREGATE, plan=plan, kpi=kpi_id, by=by, period="2028")
    found: dict[str, Any] = body["data"]["plan"]["node"]["aggregate"]
    return found


async def test_a_country_outside_the_code_list_is_refused_by_reading_and_field(
    graphql: GraphQL, plan: str
) -> None:
    result = await record(
        graphql,
        plan,
        reading("kpi-population", "KEN", "55000000"),
        reading("kpi-population", "XXK", "1800000"),
    )
    assert result == {
        "__typename": "ValidationFailed",
        "problems": [
            {
                "path": "readings[1].disaggregation.country",
                "message": f"'XXK' is not a code of {ISO}",
            }
        ],
    }


async def test_counts_are_summed_by_region_with_the_members_that_did_not_report(
    graphql: GraphQL, plan: str
) -> None:
    stored = await record(
        graphql,
        plan,
        reading("kpi-subscriptions", "KEN", "1000"),
        reading("kpi-subscriptions", "NGA", "2500"),
        reading("kpi-subscriptions", "FRA", "700"),
        reading("kpi-subscriptions", "FRA", "999", period="2027"),  # another period: left out
    )
    assert stored["__typename"] == "ReadingsRecorded"

    found = await groups(graphql, plan, "kpi-subscriptions", "ITU_D_REGIONS")

    assert found["method"] == "SUM"
    regions = {group["code"]: group for group in found["groups"]}
    assert regions["AFRICA"]["value"] == "3500"
    assert sorted(regions["AFRICA"]["reporting"]) == ["KEN", "NGA"]
    assert "GHA" in regions["AFRICA"]["missing"]
    assert regions["EUROPE"]["value"] == "700"
    assert regions["CIS"]["value"] is None


async def test_percentages_are_averaged_weighted_by_the_declared_kpi(
    graphql: GraphQL, plan: str
) -> None:
    await record(
        graphql,
        plan,
        reading("kpi-online", "KEN", "40"),
        reading("kpi-online", "NGA", "50"),
        reading("kpi-online", "AGO", "90"),  # no population reading: cannot be weighted
        reading("kpi-population", "KEN", "1"),
        reading("kpi-population", "NGA", "3"),
    )

    found = await groups(graphql, plan, "kpi-online", "ITU_D_REGIONS")

    assert (found["method"], found["weightedBy"]) == ("WEIGHTED_MEAN", "kpi-population")
    africa = next(group for group in found["groups"] if group["code"] == "AFRICA")
    # (40 x 1 + 50 x 3) / 4, not the unweighted (40 + 50 + 90) / 3.
    assert africa["value"] == "47.5"
    assert "AGO" in africa["missing"]
    ldc = await groups(graphql, plan, "kpi-online", "UN_COUNTRY_GROUPS")
    by_group = {group["code"]: group["value"] for group in ldc["groups"]}
    assert by_group["LLDC"] is None  # neither Kenya nor Nigeria is landlocked


async def test_what_does_not_add_up_is_refused_with_the_reason(
    graphql: GraphQL, amend: Amend, plan: str
) -> None:
    policy = await groups(graphql, plan, "kpi-policy", "ITU_D_REGIONS")
    assert policy["__typename"] == "AggregationRefused"
    assert "qualitative" in policy["reason"]

    await amend(
        plan,
        2,
        {"unlink": {"fromId": "kpi-online", "toId": "kpi-population", "relation": "WEIGHTED_BY"}},
    )
    unweighted = await groups(graphql, plan, "kpi-online", "ITU_D_REGIONS")
    assert unweighted["__typename"] == "AggregationRefused"
    assert "WEIGHTED_BY" in unweighted["reason"]

    not_a_grouping = await groups(graphql, plan, "kpi-subscriptions", "SDG_TARGETS")
    assert "groups no countries" in not_a_grouping["reason"]


async def test_a_dimension_bound_to_no_list_or_a_code_outside_it_is_refused(
    amend: Amend, plan: str
) -> None:
    refused = await amend(
        plan,
        2,
        add(
            "KPI",
            "Bad",
            id="kpi-bad",
            parentId="outcome-stats",
            dimensions=[
                {"name": "country", "codeList": "NO_SUCH_LIST"},
                {"name": "region", "codeList": "ITU_D_REGIONS", "values": ["AFRICA", "MARS"]},
            ],
        ),
    )
    assert refused["__typename"] == "ValidationFailed"
    assert [problem["path"] for problem in refused["problems"]] == [
        "changes[0].addNode.dimensions[0].codeList",
        "changes[0].addNode.dimensions[1].values[1]",
    ]
