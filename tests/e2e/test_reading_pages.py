"""`Kpi.readingsPage`: a long series a page at a time, as a chart front-end pages through it —
the pages add up to the whole list, readings recorded between two pages neither repeat nor
push back what was passed, and a wrong cursor or page size is a client error."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import GraphQL
from tests.e2e.test_readings_http import numeric, plan, record, series
from tests.readings_fixtures import PLAN_ID

__all__ = ["plan"]  # the fixture, shared with the other readings tests

PAGE = """
query Page($plan: ID!, $kpi: ID!, $first: Int! = 100, $after: String,
           $includeSuperseded: Boolean! = false) {
  plan(id: $plan) {
    node(nodeId: $kpi) {
      ... on Kpi {
        readingsPage(first: $first, after: $after, includeSuperseded: $includeSuperseded) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { cursor node { period value } }
          nodes { period }
        }
      }
    }
  }
}
"""

AMENDMENT_CURSOR = """
query Cursor($plan: ID!) { plan(id: $plan) { amendments(first: 1) { pageInfo { endCursor } } } }
"""


def months(first: int, count: int) -> list[str]:
    """`count` month ids from the `first`th month from March 2026 (0 = March), leaving the
    plan's first months (2026-2029) free for a period before them all."""
    return [f"{2026 + (m + 2) // 12}-{(m + 2) % 12 + 1:02d}" for m in range(first, first + count)]


async def page(graphql: GraphQL, **arguments: Any) -> dict[str, Any]:
    body = await graphql(PAGE, plan=PLAN_ID, kpi="kpi-4", **arguments)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["plan"]["node"]["readingsPage"]
    assert [n["period"] for n in found["nodes"]] == [e["node"]["period"] for e in found["edges"]]
    return found


def periods(found: dict[str, Any]) -> list[str]:
    return [edge["node"]["period"] for edge in found["edges"]]


async def test_a_long_series_comes_in_pages_that_add_up_to_the_whole_list(
    graphql: GraphQL, plan: str
) -> None:
    await record(graphql, *(numeric(m, str(i), kpi="kpi-4") for i, m in enumerate(months(0, 25))))

    pages, after = [], None
    while True:
        found = await page(graphql, first=10, after=after)
        pages.append(found)
        after = found["pageInfo"]["endCursor"]
        if not found["pageInfo"]["hasNextPage"]:
            break

    assert [len(p["edges"]) for p in pages] == [10, 10, 5]
    assert {p["totalCount"] for p in pages} == {25}
    whole = [r["period"] for r in await series(graphql, "kpi-4")]
    assert [period for p in pages for period in periods(p)] == whole == months(0, 25)
    assert after == pages[-1]["edges"][-1]["cursor"]
    beyond = await page(graphql, first=10, after=after)
    assert beyond["edges"] == []
    assert beyond["pageInfo"] == {"hasNextPage": False, "endCursor": None}


async def test_readings_recorded_between_pages_neither_repeat_nor_push_back_what_was_passed(
    graphql: GraphQL, plan: str
) -> None:
    await record(graphql, *(numeric(m, "1", kpi="kpi-4") for m in months(0, 20)))
    first = await page(graphql, first=10)

    await record(
        graphql,
        numeric("2026-04", "2", kpi="kpi-4"),  # a correction of a period already passed
        numeric("2026-01", "3", kpi="kpi-4"),  # a new period before the first page's end
        numeric("2027-11", "4", kpi="kpi-4"),  # a new period after the last one
    )
    second = await page(graphql, first=10, after=first["pageInfo"]["endCursor"])
    third = await page(graphql, first=10, after=second["pageInfo"]["endCursor"])

    assert periods(first) == months(0, 10)
    assert periods(second) == months(10, 10)
    assert periods(third) == ["2027-11"]
    assert third["pageInfo"]["hasNextPage"] is False
    assert third["totalCount"] == 22, "the page counts what matches now"
    with_corrected = await page(graphql, first=3, includeSuperseded=True)
    assert [(e["node"]["period"], e["node"]["value"]) for e in with_corrected["edges"]] == [
        ("2026-01", "3"),
        ("2026-03", "1"),
        ("2026-04", "1"),
    ]


async def test_a_cursor_from_elsewhere_or_a_page_size_out_of_range_is_a_client_error(
    graphql: GraphQL, plan: str
) -> None:
    await record(graphql, numeric("2026-01", "1", kpi="kpi-4"))
    amendment = await graphql(AMENDMENT_CURSOR, plan=PLAN_ID)
    foreign = amendment["data"]["plan"]["amendments"]["pageInfo"]["endCursor"]

    for arguments, path in [
        ({"after": "not a cursor"}, "after"),
        ({"after": foreign}, "after"),
        ({"first": 0}, "first"),
        ({"first": 10_001}, "first"),
    ]:
        body = await graphql(PAGE, plan=PLAN_ID, kpi="kpi-4", **arguments)
        [error] = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", arguments
        assert [p["path"] for p in error["extensions"]["problems"]] == [path], arguments
        assert body["data"]["plan"]["node"] is None
