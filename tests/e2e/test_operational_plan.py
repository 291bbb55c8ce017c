"""The operational plan over HTTP: a plan of its own kind that implements the Baku action plan,
its activities linked into it, the Council's yearly edition, all in the same event log."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import AMEND, CREATE, update
from tests.operational_fixtures import (
    CONNECTIVITY,
    DATA,
    DIGITAL,
    PLAN_ID,
    TOOLKITS,
    activity,
    operational_input,
)

READ = """
query Read($id: ID!, $version: Int, $year: Int) {
  plan(id: $id, version: $version) {
    planKind implements edition version
    activities(year: $year) {
      nodeId code outputIds servesIds responsibleUnit regions countries start end status
      milestones { key title due }
      budget { year source amount }
      kpis { nodeId }
    }
  }
}
"""


async def _create(graphql: GraphQL, *changes: dict[str, Any]) -> dict[str, Any]:
    body = await graphql(CREATE, input=operational_input(*changes))
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["createPlan"]
    return result


async def _amend(graphql: GraphQL, version: int, *changes: Any, **extra: Any) -> dict[str, Any]:
    given = {
        "planId": PLAN_ID,
        "expectedVersion": version,
        "authority": "BDT",
        "rationale": "Revised by BDT",
        "changes": list(changes),
        **extra,
    }
    body = await graphql(AMEND, input=given)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["amendPlan"]
    return result


def _paths(result: dict[str, Any]) -> dict[str, str]:
    assert result["__typename"] == "ValidationFailed", result
    return {p["path"]: p["message"] for p in result["problems"]}


async def test_an_operational_plan_implements_the_action_plan_and_reads_back(
    graphql: GraphQL, baku: str
) -> None:
    created = await _create(graphql, activity("act-toolkit", "A1"))
    assert created["__typename"] == "PlanCreated", created
    body = await graphql(READ, id=PLAN_ID)
    plan = body["data"]["plan"]
    assert plan["planKind"] == "OPERATIONAL_PLAN"
    assert plan["implements"] == "baku-2026"
    assert plan["edition"] is None
    [found] = plan["activities"]
    assert found["outputIds"] == [TOOLKITS]
    assert found["servesIds"] == [CONNECTIVITY]
    assert found["countries"] == ["KEN", "RWA"]
    assert found["status"] == "PLANNED"
    assert found["budget"][1] == {
        "year": 2028,
        "source": "ICT_DEVELOPMENT_FUND",
        "amount": "45000.50",
    }
    assert found["milestones"] == [{"key": "m1", "title": "Toolkit drafted", "due": "2027-06-30"}]
    # The action plan itself is an action plan, as every plan stored before plan kinds was.
    action = (await graphql(READ, id=baku))["data"]["plan"]
    assert action["planKind"] == "ACTION_PLAN"
    assert action["implements"] is None
    # An activity of 2027-2028 does not run in 2030.
    assert (await graphql(READ, id=PLAN_ID, year=2030))["data"]["plan"]["activities"] == []


async def test_links_must_exist_in_the_action_plan_with_typed_errors_naming_the_field(
    graphql: GraphQL, baku: str
) -> None:
    bad = activity(
        "act-bad",
        "A9",
        outputIds=[TOOLKITS, "output-nowhere"],
        servesIds=[DATA],
        countries=["KEN", "XXX", "ken"],
        budget=[
            {"year": 2030, "source": "IN_KIND", "amount": "10.001"},
            {"year": 2027, "source": "IN_KIND", "amount": "1E+100000"},
        ],
        shares=[{"key": TOOLKITS, "weight": "1e-999999"}],
        status="COMPLETED",
    )
    problems = _paths(await _create(graphql, bad))
    where = "changes[0].addNode"
    assert "output-nowhere" in problems[f"{where}.outputIds[1]"]
    assert DATA in problems[f"{where}.servesIds[0]"]
    assert f"{where}.countries[1]" in problems
    assert f"{where}.countries[2]" in problems
    assert "centime" in problems[f"{where}.budget[0].amount"]
    assert "centime" in problems[f"{where}.budget[1].amount"]  # refused, not a crash
    assert "6 places" in problems[f"{where}.shares[0].weight"]
    assert "execution" in problems[f"{where}.status"]
    # Nothing was written.
    assert (await graphql(READ, id=PLAN_ID))["data"]["plan"] is None


async def test_budget_lines_stay_within_the_activitys_years(graphql: GraphQL, baku: str) -> None:
    late = activity(
        "act-late", "A2", budget=[{"year": 2029, "source": "REGULAR_BUDGET", "amount": "1.00"}]
    )
    problems = _paths(await _create(graphql, late))
    assert "2027-2028" in problems["changes[0].addNode.budget[0].year"]


async def test_an_operational_plan_names_an_existing_action_plan(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(CREATE, input=operational_input(implements="nowhere"))
    assert "nowhere" in _paths(body["data"]["createPlan"])["implements"]
    body = await graphql(CREATE, input=operational_input(implements=None))
    assert "implements" in _paths(body["data"]["createPlan"])
    # An action plan cannot hold activities, nor an operational plan priorities.
    body = await graphql(
        CREATE,
        input=operational_input(
            {"addNode": {"kind": "PRIORITY", "title": "Not here", "id": "priority-x"}}
        ),
    )
    assert "OPERATIONAL_PLAN" in _paths(body["data"]["createPlan"])["changes[0].addNode.kind"]


async def test_amendments_set_planned_statuses_and_the_council_sets_the_edition(
    graphql: GraphQL, baku: str
) -> None:
    await _create(graphql, activity("act-toolkit", "A1"))
    postponed = await _amend(graphql, 1, update("act-toolkit", status="POSTPONED"))
    assert postponed["__typename"] == "AmendmentApplied", postponed
    refused = await _amend(graphql, 2, update("act-toolkit", status="ONGOING"))
    assert "changes[0].updateNode.status" in _paths(refused)
    # Only the Council approves an edition.
    by_bdt = await _amend(graphql, 2, edition=2027)
    assert "authority" in _paths(by_bdt)
    approved = await _amend(graphql, 2, authority="COUNCIL", edition=2027)
    assert approved["__typename"] == "AmendmentApplied", approved
    plan = (await graphql(READ, id=PLAN_ID))["data"]["plan"]
    assert plan["edition"] == 2027
    assert plan["version"] == 3
    assert plan["activities"][0]["status"] == "POSTPONED"
    # Versions are facts: version 2 had no edition yet.
    assert (await graphql(READ, id=PLAN_ID, version=2))["data"]["plan"]["edition"] is None
    backwards = await _amend(graphql, 3, authority="COUNCIL", edition=2026)
    assert "edition" in _paths(backwards)
    # An action plan has no editions.
    body = await graphql(
        AMEND,
        input={
            "planId": baku,
            "expectedVersion": 1,
            "authority": "COUNCIL",
            "rationale": "x" * 12,
            "changes": [],
            "edition": 2027,
        },
    )
    assert "edition" in _paths(body["data"]["amendPlan"])


async def test_the_operational_plan_has_history_diff_and_verifies(
    graphql: GraphQL, baku: str
) -> None:
    await _create(graphql, activity("act-toolkit", "A1"))
    await _amend(graphql, 1, update("act-toolkit", servesIds=[CONNECTIVITY, DIGITAL]))
    await _amend(graphql, 2, authority="COUNCIL", edition=2027)
    body = await graphql(
        """
        query($id: ID!) {
          plan(id: $id) {
            node(nodeId: "act-toolkit") {
              history { amendment { version } change }
              blame { field amendment { version } }
            }
          }
          planDiff(id: $id, fromVersion: 1, toVersion: 2) {
            changed { node { nodeId } fields { field before after } }
          }
          verifyIntegrity(planId: $id) { ok }
        }
        """,
        id=PLAN_ID,
    )
    assert "errors" not in body, body
    data = body["data"]
    assert [e["amendment"]["version"] for e in data["plan"]["node"]["history"]] == [2, 1]
    blamed = {b["field"]: b["amendment"]["version"] for b in data["plan"]["node"]["blame"]}
    assert blamed["servesIds"] == 2
    assert blamed["countries"] == 1
    [changed] = data["planDiff"]["changed"]
    assert changed["fields"] == [
        {"field": "servesIds", "before": [CONNECTIVITY], "after": [CONNECTIVITY, DIGITAL]}
    ]
    assert data["verifyIntegrity"]["ok"] is True


BUDGET = """
query Budget($id: ID!, $by: AllocationBasis!, $year: Int) {
  plan(id: $id) {
    budget(by: $by, year: $year) { year by total items { key amount } }
  }
}
"""

ACTION_READS = """
query Reads($id: ID!, $year: Int) {
  plan(id: $id) {
    priorities { nodeId activities(year: $year) { id nodeId } }
    outputs { nodeId activities(year: $year) { nodeId } }
  }
}
"""


async def _budget(graphql: GraphQL, plan_id: str, by: str, year: int | None = None) -> Any:
    body = await graphql(BUDGET, id=plan_id, by=by, year=year)
    assert "errors" not in body, body
    return body["data"]["plan"]["budget"]


async def test_budget_breakdowns_add_up_to_the_centime_by_every_basis(
    graphql: GraphQL, baku: str
) -> None:
    thirds = activity(
        "act-thirds",
        "A1",
        outputIds=[TOOLKITS, DATA],
        servesIds=[CONNECTIVITY, DIGITAL],
        regions=["AFRICA", "EUROPE", "CIS"],
        shares=[{"key": DATA, "weight": "2"}],
        budget=[{"year": 2027, "source": "REGULAR_BUDGET", "amount": "100.00"}],
    )
    await _create(graphql, thirds, activity("act-toolkit", "A2"))

    by_region = await _budget(graphql, PLAN_ID, "REGION", 2027)
    by_output = await _budget(graphql, PLAN_ID, "OUTPUT", 2027)
    by_priority = await _budget(graphql, PLAN_ID, "PRIORITY", 2027)
    by_source = await _budget(graphql, PLAN_ID, "SOURCE")

    assert by_region["total"] == "120100.00"
    assert by_region["items"] == [
        {"key": "AFRICA", "amount": "120033.34"},
        {"key": "EUROPE", "amount": "33.33"},
        {"key": "CIS", "amount": "33.33"},
    ]
    # DATA weighs 2, TOOLKITS 1 (the default): 66.67 and 33.33 of the first activity's 100.
    assert by_output["items"] == [
        {"key": TOOLKITS, "amount": "120033.33"},
        {"key": DATA, "amount": "66.67"},
    ]
    assert {i["key"]: i["amount"] for i in by_priority["items"]} == {
        CONNECTIVITY: "120050.00",
        DIGITAL: "50.00",
    }
    assert by_source["total"] == "165100.50"
    assert {i["key"]: i["amount"] for i in by_source["items"]} == {
        "REGULAR_BUDGET": "120100.00",
        "ICT_DEVELOPMENT_FUND": "45000.50",
    }
    # The action plan's budget is that of the operational plans implementing it.
    assert (await _budget(graphql, baku, "OUTPUT", 2027)) == {**by_output}


async def test_the_action_plans_outputs_and_priorities_list_the_activities_serving_them(
    graphql: GraphQL, baku: str
) -> None:
    before = await graphql(ACTION_READS, id=baku)
    await _create(graphql, activity("act-toolkit", "A1"))
    after = await graphql(ACTION_READS, id=baku)
    later = await graphql(ACTION_READS, id=baku, year=2030)

    assert "errors" not in after, after
    priorities = {p["nodeId"]: p["activities"] for p in after["data"]["plan"]["priorities"]}
    outputs = {o["nodeId"]: o["activities"] for o in after["data"]["plan"]["outputs"]}
    [served] = priorities[CONNECTIVITY]
    assert served == {"id": f"Activity:{PLAN_ID}:1:act-toolkit", "nodeId": "act-toolkit"}
    assert priorities[DIGITAL] == []
    assert outputs[TOOLKITS] == [{"nodeId": "act-toolkit"}]
    assert outputs[DATA] == []
    # The same query asked again sees the operational plan created in between (the answer
    # depends on another plan's stream, so it is not served from the cache).
    assert all(p["activities"] == [] for p in before["data"]["plan"]["priorities"])
    assert all(p["activities"] == [] for p in later["data"]["plan"]["priorities"])


async def test_the_operational_plans_document_names_its_kind_and_lists_its_activities(
    client: Any, graphql: GraphQL, baku: str
) -> None:
    await _create(graphql, activity("act-toolkit", "A1"))
    await _amend(graphql, 1, authority="COUNCIL", edition=2027)

    markdown = await client.get(f"/plans/{PLAN_ID}/document")
    as_json = await client.get(f"/plans/{PLAN_ID}/document", params={"format": "json"})
    action = await client.get(f"/plans/{baku}/document", params={"format": "json"})

    assert markdown.status_code == 200, markdown.text
    assert "Operational plan implementing baku-2026, edition 2027" in markdown.text
    assert "Activity A1 Activity A1" in markdown.text
    assert "Budget 2028, ict development fund: CHF 45,000.50" in markdown.text
    assert as_json.json()["kind"] == "Operational plan implementing baku-2026, edition 2027"
    assert "kind" not in action.json()  # an action plan's document is as it was
