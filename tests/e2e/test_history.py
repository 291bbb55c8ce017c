"""Time travel over HTTP: any earlier version by number or by instant, and the amendments
that led there."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import AMENDMENTS, add, link, remove, update

Amend = Callable[..., Awaitable[dict[str, Any]]]

CONNECTIVITY = "priority-affordable-connectivity"
DIGITAL = "priority-digital-transformation"

STATE = """
query State($id: ID!, $version: Int, $asOf: DateTime) {
  plan(id: $id, version: $version, asOf: $asOf) {
    version recordedAt hash
    amendment { version rationale }
    priorities { nodeId outcomes { nodeId kpis { nodeId } } }
    outputs { nodeId title servesOutcomes { nodeId } }
    terms { nodeId }
  }
}
"""


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture
async def walked(amend: Amend, baku: str) -> list[dict[str, Any]]:
    """The new-user walk-through, versions 2-6; returns each amendment as the mutation gave it."""
    steps = [
        add("OUTCOME", "Broadband for all", id="outcome-broadband", parentId=CONNECTIVITY),
        add(
            "KPI",
            "Individuals using the Internet",
            id="kpi-internet-use",
            parentId="outcome-broadband",
            unit="%",
            measure="PERCENTAGE",
            direction="INCREASE",
            baseline={"period": "2025", "value": "67"},
            targets=[{"period": "2029", "value": "80"}],
        ),
        update("output-toolkits", title="Toolkits and guidelines"),
        remove("term-partnerships"),
        # The seed already links each output to every priority: link one to the new outcome.
        link("output-toolkits", "outcome-broadband"),
    ]
    applied = []
    for version, change in enumerate(steps, start=1):
        # Apart in time, so that an instant can fall between two amendments.
        await asyncio.sleep(0.01)
        result = await amend(baku, version, change, rationale=f"step {version + 1}")
        assert result["__typename"] == "AmendmentApplied", result
        applied.append(result["amendment"])
    return applied


def outputs(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["nodeId"]: o for o in plan["outputs"]}


async def test_version_1_shows_none_of_the_later_amendments(
    graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    body = await graphql(STATE, id=baku, version=1)

    plan = body["data"]["plan"]
    assert plan["version"] == 1
    assert plan["amendment"]["version"] == 1
    assert all(p["outcomes"] == [] for p in plan["priorities"]), "no outcome, no KPI"
    toolkits = outputs(plan)["output-toolkits"]
    assert toolkits["title"] == "Toolkits", "the old title"
    assert toolkits["servesOutcomes"] == [], "no link yet"
    assert "term-partnerships" in {t["nodeId"] for t in plan["terms"]}, "not yet removed"
    assert len(plan["terms"]) == 11


async def test_each_version_shows_exactly_the_amendments_up_to_it(
    graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    seen: dict[int, dict[str, Any]] = {}
    for version in range(1, 7):
        body = await graphql(STATE, id=baku, version=version)
        seen[version] = body["data"]["plan"]

    def outcomes(plan: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = plan["priorities"][0]["outcomes"]
        return found

    assert outcomes(seen[2]) == [{"nodeId": "outcome-broadband", "kpis": []}]
    assert outcomes(seen[3]) == [
        {"nodeId": "outcome-broadband", "kpis": [{"nodeId": "kpi-internet-use"}]}
    ]
    assert outputs(seen[3])["output-toolkits"]["title"] == "Toolkits"
    assert outputs(seen[4])["output-toolkits"]["title"] == "Toolkits and guidelines"
    assert len(seen[4]["terms"]) == 11
    assert len(seen[5]["terms"]) == 10
    assert outputs(seen[5])["output-toolkits"]["servesOutcomes"] == []
    assert outputs(seen[6])["output-toolkits"]["servesOutcomes"] == [
        {"nodeId": "outcome-broadband"}
    ]
    for version, plan in seen.items():
        assert plan["version"] == version
        assert plan["amendment"]["version"] == version
        if version > 1:
            assert plan["amendment"]["rationale"] == f"step {version}"
            assert plan["recordedAt"] == walked[version - 2]["recordedAt"]
            assert plan["hash"] == walked[version - 2]["hash"]
    latest = await graphql(STATE, id=baku)
    assert latest["data"]["plan"] == seen[6], "no version or instant: the latest"


async def test_a_version_past_the_latest_did_not_exist_and_reads_as_null(
    graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    body = await graphql(STATE, id=baku, version=7)

    assert "errors" not in body, body
    assert body["data"]["plan"] is None


async def test_an_instant_between_two_amendments_picks_the_earlier_one(
    graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    second, third = (instant(walked[i]["recordedAt"]) for i in (0, 1))
    assert second < third
    between = second + (third - second) / 2

    body = await graphql(STATE, id=baku, asOf=between.isoformat())

    plan = body["data"]["plan"]
    assert plan["version"] == 2
    assert plan["priorities"][0]["outcomes"] == [{"nodeId": "outcome-broadband", "kpis": []}]


async def test_an_instant_exactly_at_an_amendment_includes_it(
    graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    body = await graphql(STATE, id=baku, asOf=walked[1]["recordedAt"])

    assert body["data"]["plan"]["version"] == 3


async def test_an_instant_in_another_time_zone_means_the_same_moment(
    graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    second, third = (instant(walked[i]["recordedAt"]) for i in (0, 1))
    between = second + (third - second) / 2
    in_baku = between.astimezone(dt.timezone(dt.timedelta(hours=4)))

    body = await graphql(STATE, id=baku, asOf=in_baku.isoformat())

    assert body["data"]["plan"]["version"] == 2


async def test_an_instant_before_the_plan_was_created_reads_as_null(
    graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    created = await graphql(STATE, id=baku, version=1)
    before = instant(created["data"]["plan"]["recordedAt"]) - dt.timedelta(seconds=1)

    body = await graphql(STATE, id=baku, asOf=before.isoformat())

    assert "errors" not in body, body
    assert body["data"]["plan"] is None


async def test_an_instant_after_the_last_amendment_is_the_latest_version(
    graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)

    body = await graphql(STATE, id=baku, asOf=later.isoformat())

    assert body["data"]["plan"]["version"] == 6


async def test_an_instant_without_a_utc_offset_is_refused(
    graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    body = await graphql(STATE, id=baku, asOf="2026-06-01T12:00:00")

    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "asOf" in error["message"]
    assert body["data"]["plan"] is None


async def test_asking_for_a_version_and_an_instant_at_once_is_refused(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(STATE, id=baku, version=1, asOf=dt.datetime.now(dt.UTC).isoformat())

    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["data"]["plan"] is None


async def test_amendments_page_newest_first_with_cursors(
    graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    pages = []
    after = None
    while True:
        body = await graphql(AMENDMENTS, id=baku, first=2, after=after)
        assert "errors" not in body, body
        connection = body["data"]["plan"]["amendments"]
        pages.append(connection)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        assert len(pages) < 10, "paging must end"

    assert [[e["node"]["version"] for e in page["edges"]] for page in pages] == [
        [6, 5],
        [4, 3],
        [2, 1],
    ]
    assert [page["pageInfo"]["hasNextPage"] for page in pages] == [True, True, False]
    assert {page["totalCount"] for page in pages} == {6}
    for page in pages:
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        assert page["nodes"] == [{"version": e["node"]["version"]} for e in page["edges"]]
    cursors = [edge["cursor"] for page in pages for edge in page["edges"]]
    assert len(set(cursors)) == 6, "every amendment has its own cursor"


async def test_each_amendment_in_the_history_says_who_why_and_what(
    graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    body = await graphql(AMENDMENTS, id=baku, first=20)

    edges = body["data"]["plan"]["amendments"]["edges"]
    history = {edge["node"]["version"]: edge["node"] for edge in edges}
    assert sorted(history) == [1, 2, 3, 4, 5, 6]
    for version in range(2, 7):
        assert history[version] == walked[version - 2], "the history repeats what was applied"
        assert history[version]["actor"] == "e2e-tester"
        assert history[version]["authority"] == "TDAG"
    creation = history[1]
    # The draft, recorded as such (status DRAFT): no adopting authority, no effective date.
    assert creation["authority"] == "BDT"
    assert creation["reference"] == "Draft Baku Action Plan 2026-2029"
    assert creation["effectiveFrom"] is None
    assert len(creation["changes"]) == 40 + 30
    assert {c["__typename"] for c in creation["changes"]} == {"NodeAdded", "NodesLinked"}
    assert [c["__typename"] for v in range(2, 7) for c in history[v]["changes"]] == [
        "NodeAdded",
        "NodeAdded",
        "NodeUpdated",
        "NodeRemoved",
        "NodesLinked",
    ]
    assert history[3]["changes"][0]["nodeId"] == "kpi-internet-use"
    assert history[4]["changes"][0]["fields"] == [
        {"field": "title", "value": "Toolkits and guidelines"}
    ]
    assert history[5]["changes"][0]["nodeId"] == "term-partnerships"
    assert history[6]["changes"][0] == {
        "__typename": "NodesLinked",
        "fromId": "output-toolkits",
        "toId": "outcome-broadband",
        "relation": "SERVES",
    }
    hashes = [history[v]["hash"] for v in range(1, 7)]
    assert len(set(hashes)) == 6
    times = [instant(history[v]["recordedAt"]) for v in range(1, 7)]
    assert times == sorted(times), "recorded in order"


async def test_a_past_version_lists_only_the_amendments_up_to_it(
    graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    body = await graphql(AMENDMENTS, id=baku, version=3, first=20)

    connection = body["data"]["plan"]["amendments"]
    assert [e["node"]["version"] for e in connection["edges"]] == [3, 2, 1]
    assert connection["totalCount"] == 3
    assert connection["pageInfo"]["hasNextPage"] is False


async def test_one_amendment_can_be_read_by_the_version_it_produced(
    graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    body = await graphql(
        """query($id: ID!) {
          third: amendment(planId: $id, version: 4) { version rationale hash }
          missing: amendment(planId: $id, version: 99) { version }
        }""",
        id=baku,
    )

    assert body["data"]["third"] == {
        "version": 4,
        "rationale": "step 4",
        "hash": walked[2]["hash"],
    }
    assert body["data"]["missing"] is None


async def test_a_past_version_reads_the_same_after_later_amendments(
    graphql: GraphQL, amend: Amend, baku: str, walked: list[dict[str, Any]]
) -> None:
    before = await graphql(STATE, id=baku, version=3)

    await amend(baku, 6, update("output-toolkits", title="Toolkits (revised)"))
    await amend(baku, 7, remove("outcome-broadband", cascade=True))
    after = await graphql(STATE, id=baku, version=3)

    assert after == before, "a past version never changes"


async def test_instants_at_the_ends_of_the_calendar_read_as_before_or_after_everything(
    graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    # Neither can be spelt in UTC: the first is before 0001-01-01T00:00Z, the second after
    # 9999-12-31T23:59:59.999999Z.
    earliest = await graphql(STATE, id=baku, asOf="0001-01-01T00:00:00+04:00")
    latest = await graphql(STATE, id=baku, asOf="9999-12-31T23:59:59-04:00")

    assert "errors" not in earliest, earliest
    assert earliest["data"]["plan"] is None
    assert "errors" not in latest, latest
    assert latest["data"]["plan"]["version"] == 6
