"""Every refusal a client can meet over HTTP, and that a refusal never leaves a trace."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import AMEND, AMENDMENTS, CREATE, add, link, remove, update

Amend = Callable[..., Awaitable[dict[str, Any]]]

CONNECTIVITY = "priority-affordable-connectivity"

SNAPSHOT = """
query Snapshot($id: ID!) {
  plan(id: $id) {
    version hash
    amendments(first: 100) { totalCount }
    nodes { nodeId title code parent { nodeId } }
  }
}
"""


async def snapshot(graphql: GraphQL, plan_id: str) -> dict[str, Any]:
    """Everything a reader can see of the latest version: to show that nothing moved."""
    body = await graphql(SNAPSHOT, id=plan_id)
    assert "errors" not in body, body
    plan: dict[str, Any] = body["data"]["plan"]
    return plan


def paths(result: dict[str, Any]) -> list[str]:
    assert result["__typename"] == "ValidationFailed", result
    return [problem["path"] for problem in result["problems"]]


# -- VersionConflict --------------------------------------------------------------------------
async def test_a_stale_expected_version_is_a_version_conflict_and_stores_nothing(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, update("output-toolkits", title="Toolkits and guidelines"))
    before = await snapshot(graphql, baku)

    result = await amend(baku, 1, update("output-toolkits", title="Someone else's toolkits"))

    assert result == {
        "__typename": "VersionConflict",
        "message": result["message"],
        "expectedVersion": 1,
        "actualVersion": 2,
    }
    assert "2" in result["message"]
    assert await snapshot(graphql, baku) == before, "the version did not move"


async def test_an_expected_version_from_the_future_is_a_version_conflict_too(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    result = await amend(baku, 7, update("output-toolkits", title="Toolkits"))

    assert result["__typename"] == "VersionConflict"
    assert (result["expectedVersion"], result["actualVersion"]) == (7, 1)


async def test_two_amendments_sent_at_once_on_the_same_version_one_wins_one_conflicts(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    results = await asyncio.gather(
        amend(baku, 1, update("output-toolkits", title="Toolkits, said Alice")),
        amend(baku, 1, update("output-toolkits", title="Toolkits, said Bob")),
    )

    kinds = sorted(result["__typename"] for result in results)
    assert kinds == ["AmendmentApplied", "VersionConflict"]
    [applied] = [r for r in results if r["__typename"] == "AmendmentApplied"]
    [conflict] = [r for r in results if r["__typename"] == "VersionConflict"]
    assert applied["plan"]["version"] == 2
    assert (conflict["expectedVersion"], conflict["actualVersion"]) == (1, 2)
    body = await graphql(
        'query($id: ID!) { plan(id: $id) { version node(nodeId: "output-toolkits") { title } } }',
        id=baku,
    )
    winner = applied["amendment"]["changes"][0]["fields"][0]["value"]
    assert body["data"]["plan"] == {"version": 2, "node": {"title": winner}}, "no lost update"


async def test_many_amendments_sent_at_once_make_exactly_one_version(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    results = await asyncio.gather(
        *(amend(baku, 1, update("enabler-openness", title=f"Openness {n}")) for n in range(6))
    )

    kinds = [result["__typename"] for result in results]
    assert kinds.count("AmendmentApplied") == 1
    assert kinds.count("VersionConflict") == 5
    assert (await snapshot(graphql, baku))["version"] == 2
    verified = await graphql(
        "query($id: ID!) { verifyIntegrity(planId: $id) { ok checked } }", id=baku
    )
    assert verified["data"]["verifyIntegrity"] == {"ok": True, "checked": 2}, "one chain, intact"


# -- ValidationFailed -------------------------------------------------------------------------
async def test_a_missing_parent_is_named_by_the_path_of_the_change(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    result = await amend(
        baku,
        1,
        update("output-toolkits", title="Toolkits and guidelines"),
        add("KPI", "Orphan KPI", parentId="outcome-that-does-not-exist"),
    )

    assert paths(result) == ["changes[1].addNode.parentId"]
    assert "outcome-that-does-not-exist" in result["problems"][0]["message"]
    assert "changes[1].addNode.parentId" in result["message"]


async def test_several_problems_are_reported_at_once_and_nothing_is_stored(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    before = await snapshot(graphql, baku)

    result = await amend(
        baku,
        1,
        update("output-toolkits", title="Toolkits and guidelines"),
        add("KPI", "A KPI under a priority", parentId=CONNECTIVITY),
        update("no-such-node", title="Ghost"),
        link("enabler-efficiency", CONNECTIVITY, "SERVES"),
        add("OUTCOME", "Fine on its own", id="outcome-fine", parentId=CONNECTIVITY),
        rationale="   ",
    )

    assert paths(result) == [
        "rationale",
        "changes[1].addNode.parentId",
        "changes[2].updateNode.id",
        "changes[3].link.fromId",
    ]
    by_path = {p["path"]: p["message"] for p in result["problems"]}
    assert "OUTCOME" in by_path["changes[1].addNode.parentId"], "it says which parent would fit"
    assert "no-such-node" in by_path["changes[2].updateNode.id"]
    assert await snapshot(graphql, baku) == before, "the valid changes were not stored either"


async def test_a_kpi_field_on_an_output_is_refused_with_its_path(amend: Amend, baku: str) -> None:
    result = await amend(baku, 1, update("output-toolkits", unit="%"))

    assert paths(result) == ["changes[0].updateNode.unit"]


async def test_kpi_values_are_checked_field_by_field(amend: Amend, baku: str) -> None:
    result = await amend(
        baku,
        1,
        add("OUTCOME", "Broadband", id="outcome-broadband", parentId=CONNECTIVITY),
        add(
            "KPI",
            "Internet use",
            parentId="outcome-broadband",
            baseline={"period": "sometime", "value": "1"},
            targets=[{"period": "2027", "value": "1"}, {"period": "2027", "value": "2"}],
            dimensions=[{"name": "sex", "values": ["f", "f"]}],
        ),
    )

    assert paths(result) == [
        "changes[1].addNode.baseline.period",
        "changes[1].addNode.targets[1].period",
        "changes[1].addNode.dimensions[0].values",
    ]


async def test_an_amendment_without_changes_is_refused(amend: Amend, baku: str) -> None:
    result = await amend(baku, 1)

    assert paths(result) == ["changes"]


async def test_codes_must_be_unique_among_siblings(amend: Amend, baku: str) -> None:
    result = await amend(baku, 1, update("priority-digital-transformation", code="1"))

    assert paths(result) == ["changes[0].updateNode.code"]


async def test_a_node_with_children_is_not_removed_without_cascade(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    before = await snapshot(graphql, baku)

    result = await amend(baku, 1, remove("section-3"))

    assert paths(result) == ["changes[0].removeNode.cascade"]
    assert "4 descendant" in result["problems"][0]["message"]
    assert await snapshot(graphql, baku) == before


async def test_a_node_with_children_is_removed_with_them_when_the_change_says_cascade(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(
        baku,
        1,
        add("OUTCOME", "Broadband", id="outcome-broadband", parentId=CONNECTIVITY),
        add("KPI", "Internet use", id="kpi-internet-use", parentId="outcome-broadband"),
        link("output-toolkits", "outcome-broadband"),
    )

    result = await amend(baku, 2, remove("outcome-broadband", cascade=True))

    assert result["__typename"] == "AmendmentApplied", result
    changes = result["amendment"]["changes"]
    assert {c["__typename"] for c in changes} == {"NodesUnlinked", "NodeRemoved"}
    removed = [c["nodeId"] for c in changes if c["__typename"] == "NodeRemoved"]
    assert set(removed) == {"outcome-broadband", "kpi-internet-use"}
    assert [c for c in changes if c["__typename"] == "NodesUnlinked"] == [
        {
            "__typename": "NodesUnlinked",
            "fromId": "output-toolkits",
            "toId": "outcome-broadband",
            "relation": "SERVES",
        }
    ], "its links go with it"
    body = await graphql(
        """query($id: ID!) { plan(id: $id) {
          kpis: nodes(kind: KPI) { nodeId } outcomes: nodes(kind: OUTCOME) { nodeId }
          node(nodeId: "output-toolkits") { ... on Output { servesOutcomes { nodeId } } }
        } }""",
        id=baku,
    )
    assert body["data"]["plan"] == {"kpis": [], "outcomes": [], "node": {"servesOutcomes": []}}

    sections = await amend(baku, 3, remove("section-3", cascade=True))
    assert sections["__typename"] == "AmendmentApplied", sections
    assert len(sections["amendment"]["changes"]) == 5


async def test_a_removed_node_id_is_never_reused_updated_or_linked(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, remove("term-impact"))

    result = await amend(
        baku,
        2,
        add("TERM", "Impact, again", id="term-impact"),
        update("term-impact", title="Impact"),
        link("output-toolkits", "term-impact", "SERVES"),
    )

    assert paths(result) == [
        "changes[0].addNode.id",
        "changes[1].updateNode.id",
        "changes[2].link.toId",
    ]
    assert "never reused" in result["problems"][0]["message"]
    assert "removed" in result["problems"][1]["message"]


async def test_an_id_already_in_use_is_refused(amend: Amend, baku: str) -> None:
    result = await amend(baku, 1, add("OUTPUT", "Toolkits again", id="output-toolkits"))

    assert paths(result) == ["changes[0].addNode.id"]
    assert "already exists" in result["problems"][0]["message"]


# -- PlanNotFound / PlanAlreadyExists ---------------------------------------------------------
async def test_amending_a_plan_that_does_not_exist_says_so(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    result = await amend("no-such-plan", 1, update("output-toolkits", title="Toolkits"))

    assert result["__typename"] == "PlanNotFound"
    assert result["planId"] == "no-such-plan"
    assert "no-such-plan" in result["message"]
    plans = await graphql("{ plans { planId } }")
    assert plans["data"]["plans"] == [{"planId": "baku-2026"}], "no plan was made by amending"


async def test_creating_a_plan_with_an_existing_id_is_refused(graphql: GraphQL, baku: str) -> None:
    before = await snapshot(graphql, baku)

    body = await graphql(
        CREATE,
        input={
            "id": baku,
            "title": "Another Baku Action Plan",
            "periodStart": 2026,
            "periodEnd": 2029,
            "authority": "WTDC",
            "rationale": "A second try",
        },
    )

    assert body["data"]["createPlan"] == {
        "__typename": "PlanAlreadyExists",
        "message": body["data"]["createPlan"]["message"],
        "planId": "baku-2026",
    }
    assert await snapshot(graphql, baku) == before


async def test_creating_a_plan_with_bad_input_lists_every_problem(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(
        CREATE,
        input={
            "id": "Not An Id",
            "title": "",
            "periodStart": 2030,
            "periodEnd": 2026,
            "authority": "WTDC",
            "rationale": "Bad on purpose",
            "changes": [add("KPI", "A KPI at the top")],
        },
    )

    result = body["data"]["createPlan"]
    assert paths(result) == ["id", "title", "periodEnd", "changes[0].addNode.parentId"]
    listed = await graphql("{ plans { planId } }")
    assert listed["data"]["plans"] == [{"planId": "baku-2026"}]


# -- GraphQL errors: the request itself is wrong ----------------------------------------------
async def test_a_change_naming_two_operations_is_a_graphql_error_and_changes_nothing(
    client: httpx.AsyncClient, graphql: GraphQL, baku: str
) -> None:
    before = await snapshot(graphql, baku)
    both = {
        "updateNode": {"id": "output-toolkits", "title": "Toolkits"},
        "removeNode": {"id": "term-impact"},
    }

    response = await client.post(
        "/graphql",
        json={
            "query": AMEND,
            "variables": {
                "input": {
                    "planId": baku,
                    "expectedVersion": 1,
                    "authority": "TDAG",
                    "rationale": "Two things at once",
                    "changes": [both],
                }
            },
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body.get("data") is None
    [error] = body["errors"]
    assert "exactly one" in error["message"].lower(), error
    assert await snapshot(graphql, baku) == before


async def test_a_change_naming_no_operation_is_a_graphql_error(graphql: GraphQL, baku: str) -> None:
    body = await graphql(
        AMEND,
        input={
            "planId": baku,
            "expectedVersion": 1,
            "authority": "TDAG",
            "rationale": "Nothing at all",
            "changes": [{}],
        },
    )

    assert body.get("data") is None
    assert body["errors"]


async def test_an_inline_change_naming_two_operations_is_refused_before_it_runs(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(
        """mutation { amendPlan(input: {
            planId: "baku-2026", expectedVersion: 1, authority: TDAG, rationale: "inline",
            changes: [{removeNode: {id: "term-impact"}, link: {fromId: "output-toolkits",
                       toId: "priority-affordable-connectivity", relation: SERVES}}]
        }) { __typename } }"""
    )

    assert body.get("data") is None
    assert "exactly one" in body["errors"][0]["message"].lower()
    assert (await snapshot(graphql, baku))["version"] == 1


async def test_version_0_is_bad_user_input(graphql: GraphQL, baku: str) -> None:
    body = await graphql('{ plan(id: "baku-2026", version: 0) { planId } }')

    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["plan"]
    assert body["data"] == {"plan": None}


async def test_a_malformed_cursor_is_an_error_naming_after(graphql: GraphQL, baku: str) -> None:
    for cursor in ("not-a-cursor!", base64.urlsafe_b64encode(b"plan:3").decode(), ""):
        body = await graphql(AMENDMENTS, id=baku, first=5, after=cursor)

        [error] = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", cursor
        assert "after" in error["message"], cursor
        assert error["extensions"]["problems"][0]["path"] == "after"


async def test_a_page_larger_than_the_limit_is_refused(graphql: GraphQL, baku: str) -> None:
    body = await graphql(AMENDMENTS, id=baku, first=101)

    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "first" in error["message"]


async def test_an_overly_deep_query_is_refused_by_the_depth_limit(
    graphql: GraphQL, baku: str
) -> None:
    nested = "id"
    for _ in range(20):
        nested = f"id parent {{ {nested} }}"
    body = await graphql(
        f'{{ plan(id: "baku-2026") {{ priorities {{ children {{ {nested} }} }} }} }}'
    )

    assert body.get("data") is None, "nothing is executed"
    assert body["errors"]
    assert all("exceeds maximum operation depth of 15" in e["message"] for e in body["errors"])


async def test_a_query_within_the_depth_limit_is_answered(graphql: GraphQL, baku: str) -> None:
    body = await graphql(
        '{ plan(id: "baku-2026") { sections { sections { parent { parent { nodeId } } } } } }'
    )

    assert "errors" not in body, body


async def test_an_unknown_field_is_a_graphql_error_naming_it(graphql: GraphQL, baku: str) -> None:
    body = await graphql('{ plan(id: "baku-2026") { owner } }')

    assert body.get("data") is None
    assert "owner" in body["errors"][0]["message"]


async def test_an_unparseable_query_is_a_graphql_error(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ plans { planId "})

    assert response.status_code == 200
    body = response.json()
    assert "Syntax Error" in body["errors"][0]["message"]


async def test_two_plans_created_at_once_with_one_id_make_one_plan(
    graphql: GraphQL, baku: str
) -> None:
    def kigali(title: str) -> dict[str, Any]:
        return {
            "id": "kigali-2022",
            "title": title,
            "periodStart": 2022,
            "periodEnd": 2025,
            "authority": "WTDC",
            "rationale": "Adopted at WTDC-22",
        }

    bodies = await asyncio.gather(
        graphql(CREATE, input=kigali("Kigali Action Plan")),
        graphql(CREATE, input=kigali("Kigali Action Plan (copy)")),
    )

    results = [body["data"]["createPlan"] for body in bodies]
    assert sorted(r["__typename"] for r in results) == ["PlanAlreadyExists", "PlanCreated"]
    [created] = [r for r in results if r["__typename"] == "PlanCreated"]
    listed = await graphql('{ plan(id: "kigali-2022") { title version } }')
    assert listed["data"]["plan"] == {"title": created["plan"]["title"], "version": 1}
