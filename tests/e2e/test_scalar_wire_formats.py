"""The custom scalars say their wire format (`@specifiedBy` and the description), and the
answers keep to it: what a client's codegen `scalars` mapping relies on."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import add

Amend = Callable[..., Awaitable[dict[str, Any]]]

# RFC 3339 section 5.6 `date-time` and `full-date`, and the Decimal grammar the schema states.
RFC3339_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DECIMAL = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$")

SCALARS = """
query Scalars {
  __schema { types { name kind description specifiedByURL } }
}
"""

KPI = """
query Kpi($plan: ID!, $id: ID!) {
  plan(id: $plan) {
    recordedAt
    node(id: $id) { ... on Kpi { baseline { value } targets { value } } }
  }
}
"""


async def test_every_custom_scalar_names_its_specification_and_format(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(SCALARS)
    custom = {
        t["name"]: t
        for t in body["data"]["__schema"]["types"]
        if t["kind"] == "SCALAR" and t["name"] not in {"String", "Int", "Float", "Boolean", "ID"}
    }
    assert set(custom) >= {"Date", "DateTime", "Decimal"}
    for name, scalar in custom.items():
        assert scalar["specifiedByURL"], f"{name} has no @specifiedBy"
    assert "rfc3339" in custom["DateTime"]["specifiedByURL"]
    assert "RFC 3339" in custom["DateTime"]["description"]
    assert "ISO 8601" in custom["Date"]["description"]
    assert "YYYY-MM-DD" in custom["Date"]["description"]
    assert "string" in custom["Decimal"]["description"]
    assert "-?(0|[1-9][0-9]*)(\\.[0-9]+)?" in custom["Decimal"]["description"]


async def test_answers_keep_to_the_stated_formats(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    outcome = add(
        "OUTCOME", "Broadband", id="outcome-broadband", parentId="priority-affordable-connectivity"
    )
    kpi = add(
        "KPI",
        "Households with Internet access",
        id="kpi-households",
        parentId="outcome-broadband",
        # Exponent and a JSON number in: plain decimal strings out, exact.
        baseline={"period": "2025", "value": "1.5e3"},
        targets=[{"period": "2029", "value": 2500.25}],
    )
    result = await amend(baku, 1, outcome, kpi, effectiveFrom="2026-03-01")
    assert result["__typename"] == "AmendmentApplied", result
    assert result["amendment"]["effectiveFrom"] == "2026-03-01"
    assert FULL_DATE.match(result["amendment"]["effectiveFrom"])
    body = await graphql(KPI, plan=baku, id="kpi-households")
    assert "errors" not in body, body
    plan = body["data"]["plan"]
    assert RFC3339_DATE_TIME.match(plan["recordedAt"]), plan["recordedAt"]
    assert plan["recordedAt"].endswith("+00:00")
    assert plan["node"]["baseline"]["value"] == "1500"
    assert plan["node"]["targets"][0]["value"] == "2500.25"
    assert DECIMAL.match(plan["node"]["baseline"]["value"])


async def test_an_instant_without_an_offset_is_refused_naming_the_argument(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(
        'query($at: DateTime!) { plan(id: "baku-2026", asOf: $at) { version } }',
        at="2026-03-01T12:00:00",
    )
    assert body.get("errors"), body
    assert "asOf" in str(body["errors"])
    assert "offset" in str(body["errors"])
