"""`planDiff` over HTTP: what differs between two versions, computed from the two states."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import add, link, move, remove, unlink, update

Amend = Callable[..., Awaitable[dict[str, Any]]]

CONNECTIVITY = "priority-affordable-connectivity"
DIGITAL = "priority-digital-transformation"

DIFF = """
query Diff($id: ID!, $from: Int!, $to: Int!) {
  planDiff(id: $id, fromVersion: $from, toVersion: $to) {
    planId fromVersion toVersion
    added { __typename nodeId kind title parent { nodeId } }
    removed { __typename nodeId kind title }
    moved { node { nodeId } fromParent { nodeId } toParent { nodeId } fromPosition toPosition }
    changed { node { __typename nodeId title } fields { field before after } }
    linksAdded { relation from { nodeId } to { nodeId } }
    linksRemoved { relation from { nodeId } to { nodeId } }
  }
}
"""


async def diff(
    graphql: GraphQL, plan_id: str, from_version: int, to_version: int
) -> dict[str, Any]:
    body = await graphql(DIFF, id=plan_id, **{"from": from_version, "to": to_version})
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["planDiff"]
    return found


def nothing(found: dict[str, Any]) -> bool:
    keys = ("added", "removed", "moved", "changed", "linksAdded", "linksRemoved")
    return all(found[key] == [] for key in keys)


async def test_the_diff_of_the_walk_through_shows_every_kind_of_difference(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(
        baku,
        1,
        add("OUTCOME", "Broadband for all", id="outcome-broadband", parentId=CONNECTIVITY),
        add("KPI", "Internet use", id="kpi-internet-use", parentId="outcome-broadband"),
    )
    await amend(baku, 2, update("output-toolkits", title="Toolkits and guidelines"))
    await amend(baku, 3, remove("term-partnerships"))
    # The seed links each output to every priority already: link one to the new outcome.
    await amend(baku, 4, link("output-toolkits", "outcome-broadband"))

    found = await diff(graphql, baku, 1, 5)

    assert found["planId"] == baku
    assert (found["fromVersion"], found["toVersion"]) == (1, 5)
    assert found["added"] == [
        {
            "__typename": "Outcome",
            "nodeId": "outcome-broadband",
            "kind": "OUTCOME",
            "title": "Broadband for all",
            "parent": {"nodeId": CONNECTIVITY},
        },
        {
            "__typename": "Kpi",
            "nodeId": "kpi-internet-use",
            "kind": "KPI",
            "title": "Internet use",
            "parent": {"nodeId": "outcome-broadband"},
        },
    ]
    assert found["removed"] == [
        {
            "__typename": "Term",
            "nodeId": "term-partnerships",
            "kind": "TERM",
            "title": "Partnerships",
        }
    ]
    assert found["changed"] == [
        {
            "node": {
                "__typename": "Output",
                "nodeId": "output-toolkits",
                "title": "Toolkits and guidelines",
            },
            "fields": [
                {"field": "title", "before": "Toolkits", "after": "Toolkits and guidelines"}
            ],
        }
    ]
    assert found["linksAdded"] == [
        {
            "relation": "SERVES",
            "from": {"nodeId": "output-toolkits"},
            "to": {"nodeId": "outcome-broadband"},
        }
    ]
    assert found["moved"] == []
    assert found["linksRemoved"] == []


async def test_the_diff_backwards_is_the_mirror_image(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(
        baku,
        1,
        add("OUTCOME", "Broadband for all", id="outcome-broadband", parentId=CONNECTIVITY),
        remove("term-impact"),
        link("output-toolkits", "outcome-broadband"),
    )

    found = await diff(graphql, baku, 2, 1)

    assert [n["nodeId"] for n in found["added"]] == ["term-impact"]
    assert [n["nodeId"] for n in found["removed"]] == ["outcome-broadband"]
    assert found["linksAdded"] == []
    assert found["linksRemoved"] == [
        {
            "relation": "SERVES",
            "from": {"nodeId": "output-toolkits"},
            "to": {"nodeId": "outcome-broadband"},
        }
    ]


async def test_a_moved_node_shows_where_it_came_from_and_went(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(
        baku,
        1,
        add("OUTCOME", "First", id="outcome-first", parentId=CONNECTIVITY),
        add("OUTCOME", "Second", id="outcome-second", parentId=CONNECTIVITY),
    )
    await amend(baku, 2, move("outcome-second", DIGITAL))

    found = await diff(graphql, baku, 2, 3)

    assert found["moved"] == [
        {
            "node": {"nodeId": "outcome-second"},
            "fromParent": {"nodeId": CONNECTIVITY},
            "toParent": {"nodeId": DIGITAL},
            "fromPosition": 1,
            "toPosition": 0,
        }
    ]
    assert found["added"] == found["removed"] == found["changed"] == []


async def test_a_title_changed_and_changed_back_shows_nothing(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, update("enabler-openness", title="Openness and inclusiveness"))
    await amend(baku, 2, update("enabler-openness", title="Openness"))

    assert nothing(await diff(graphql, baku, 1, 3))
    there = await diff(graphql, baku, 1, 2)
    assert there["changed"] == [
        {
            "node": {
                "__typename": "Enabler",
                "nodeId": "enabler-openness",
                "title": "Openness and inclusiveness",
            },
            "fields": [
                {"field": "title", "before": "Openness", "after": "Openness and inclusiveness"}
            ],
        }
    ]


async def test_a_node_added_and_removed_again_and_a_link_made_and_unmade_show_nothing(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(
        baku,
        1,
        add("OUTCOME", "Short-lived", id="outcome-short-lived", parentId=DIGITAL),
        link("output-toolkits", "outcome-short-lived"),
    )
    await amend(
        baku, 2, unlink("output-toolkits", "outcome-short-lived"), remove("outcome-short-lived")
    )

    assert nothing(await diff(graphql, baku, 1, 3))


async def test_a_version_compared_with_itself_shows_nothing(graphql: GraphQL, baku: str) -> None:
    assert nothing(await diff(graphql, baku, 1, 1))


async def test_changed_kpi_fields_show_before_and_after_as_json(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(
        baku,
        1,
        add("OUTCOME", "Broadband for all", id="outcome-broadband", parentId=CONNECTIVITY),
        add(
            "KPI",
            "Internet use",
            id="kpi-internet-use",
            parentId="outcome-broadband",
            measure="PERCENTAGE",
            baseline={"period": "2025", "value": "67.5"},
            targets=[{"period": "2029", "value": "80"}],
        ),
    )
    await amend(
        baku,
        2,
        update(
            "kpi-internet-use",
            measure="RATIO",
            baseline={"period": "2025", "value": "0.675"},
            targets=[{"period": "2027", "value": "0.7"}, {"period": "2029", "value": "0.8"}],
            dimensions=[{"name": "sex", "values": ["female", "male"]}],
        ),
    )

    found = await diff(graphql, baku, 2, 3)

    [changed] = found["changed"]
    assert changed["node"]["nodeId"] == "kpi-internet-use"
    fields = {f["field"]: (f["before"], f["after"]) for f in changed["fields"]}
    assert fields == {
        "measure": ("PERCENTAGE", "RATIO"),
        "baseline": ({"period": "2025", "value": "67.5"}, {"period": "2025", "value": "0.675"}),
        "targets": (
            [{"period": "2029", "value": "80"}],
            [{"period": "2027", "value": "0.7"}, {"period": "2029", "value": "0.8"}],
        ),
        "dimensions": ([], [{"name": "sex", "values": ["female", "male"]}]),
    }


async def test_a_diff_to_a_version_that_does_not_exist_is_an_error(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(DIFF, id=baku, **{"from": 1, "to": 9})

    [error] = body["errors"]
    assert error["path"] == ["planDiff"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "9" in error["message"]
    assert body["data"] is None


async def test_a_diff_of_an_unknown_plan_is_an_error_saying_so(graphql: GraphQL, baku: str) -> None:
    body = await graphql(DIFF, id="no-such-plan", **{"from": 1, "to": 2})

    [error] = body["errors"]
    assert error["extensions"]["code"] == "PLAN_NOT_FOUND"
    assert "no-such-plan" in error["message"]
