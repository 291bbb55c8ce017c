"""Implementation figures in the results rollups (issue 16): `progressSummary(year:)` of an
operational plan gives its activities completed and CHF executed against planned; of the
action plan it implements, and of each priority and outcome there, those of the activities
serving it. One dashboard query, on both backends."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import AMEND, CREATE, add
from tests.e2e.test_execution import RECORD, completed, spent
from tests.operational_fixtures import CONNECTIVITY, DIGITAL, PLAN_ID, activity, operational_input

OUTCOME = "outcome-digital-skills"
FIGURES = "planned completed implementationRate budgetPlanned budgetExecuted"
DASHBOARD = f"""
query Dashboard($action: ID!, $ops: ID!, $year: Int) {{
  action: plan(id: $action) {{
    progressSummary(year: $year) {{ kpis implementation {{ {FIGURES} }} }}
    priorities {{
      nodeId
      progressSummary(year: $year) {{ implementation {{ {FIGURES} }} }}
      outcomes {{ nodeId progressSummary(year: $year) {{ implementation {{ {FIGURES} }} }} }}
    }}
  }}
  ops: plan(id: $ops) {{ progressSummary(year: $year) {{ kpis implementation {{ {FIGURES} }} }} }}
}}
"""


def figures(planned: int, done: int, rate: str | None, budget: str, spent: str) -> Any:
    return {
        "planned": planned,
        "completed": done,
        "implementationRate": rate,
        "budgetPlanned": budget,
        "budgetExecuted": spent,
    }


async def _dashboard(graphql: GraphQL, year: int | None) -> dict[str, Any]:
    body = await graphql(DASHBOARD, action="baku-2026", ops=PLAN_ID, year=year)
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


async def _outcome(graphql: GraphQL) -> None:
    change = add("OUTCOME", "Digital skills", id=OUTCOME, parentId=DIGITAL)
    given = {"planId": "baku-2026", "expectedVersion": 1, "authority": "TDAG"}
    body = await graphql(AMEND, input={**given, "rationale": "outcome", "changes": [change]})
    assert body["data"]["amendPlan"]["__typename"] == "AmendmentApplied", body


async def test_an_action_plan_nothing_implements_has_no_implementation_figures(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(
        '{ plan(id: "baku-2026") { progressSummary(year: 2027) { kpis implementation '
        "{ planned } } priorities { progressSummary { implementation { planned } } } } }"
    )
    found = body["data"]["plan"]
    assert found["progressSummary"]["implementation"] is None
    assert all(p["progressSummary"]["implementation"] is None for p in found["priorities"])


async def _two_activities(graphql: GraphQL) -> None:
    """An outcome under DIGITAL; act-toolkit (the fixture's), act-skills serving CONNECTIVITY
    and that outcome, without budget."""
    await _outcome(graphql)
    skills = activity(
        "act-skills", "A2", servesIds=[CONNECTIVITY, OUTCOME], budget=[], milestones=[]
    )
    body = await graphql(CREATE, input=operational_input(activity("act-toolkit", "A1"), skills))
    assert body["data"]["createPlan"]["__typename"] == "PlanCreated", body


async def test_the_dashboard_rolls_the_activities_up_to_the_plan_priority_and_outcome(
    graphql: GraphQL, baku: str
) -> None:
    await _two_activities(graphql)
    body = await graphql(
        RECORD,
        input={
            "planId": PLAN_ID,
            "records": [completed(), completed("done-2", "act-skills"), spent("s", "100.01")],
        },
    )
    assert body["data"]["recordExecution"]["__typename"] == "ExecutionRecorded", body

    data = await _dashboard(graphql, 2027)
    whole = figures(2, 2, "1.0000", "120000.00", "100.01")
    assert data["ops"]["progressSummary"]["implementation"] == whole
    assert data["action"]["progressSummary"]["implementation"] == whole
    priorities = {p["nodeId"]: p for p in data["action"]["priorities"]}
    # act-skills serves CONNECTIVITY and, through its outcome, DIGITAL: counted in each.
    connectivity = priorities[CONNECTIVITY]["progressSummary"]["implementation"]
    assert connectivity == figures(2, 2, "1.0000", "120000.00", "100.01")
    digital = priorities[DIGITAL]
    assert digital["progressSummary"]["implementation"] == figures(1, 1, "1.0000", "0.00", "0.00")
    [outcome] = digital["outcomes"]
    assert outcome["progressSummary"]["implementation"] == figures(1, 1, "1.0000", "0.00", "0.00")
    others = [p for key, p in priorities.items() if key not in (CONNECTIVITY, DIGITAL)]
    nothing = figures(0, 0, None, "0.00", "0.00")
    assert all(p["progressSummary"]["implementation"] == nothing for p in others)

    # A year outside the activities' (2027-2028): nothing planned; every year: both lines.
    assert (await _dashboard(graphql, 2030))["ops"]["progressSummary"]["implementation"] == (
        nothing
    )
    every = (await _dashboard(graphql, None))["ops"]["progressSummary"]["implementation"]
    assert every == figures(2, 2, "1.0000", "165000.50", "100.01")


async def test_a_node_read_alone_has_the_figures_the_dashboard_gives_at_once(
    graphql: GraphQL, baku: str
) -> None:
    # Through `plan(...)` the figures' reads are made before the tree (prepare) and every
    # summary answers at once; through `node(id:)` nothing was read first and each awaits.
    await _two_activities(graphql)
    await graphql(RECORD, input={"planId": PLAN_ID, "records": [completed(), spent("s", "7.50")]})
    dashboard = await _dashboard(graphql, 2027)
    ids = await graphql(
        '{ plan(id: "baku-2026") { priorities { id nodeId outcomes { id nodeId } } } }'
    )
    nodes = [
        (node["id"], node["nodeId"])
        for priority in ids["data"]["plan"]["priorities"]
        for node in [priority, *priority["outcomes"]]
    ]
    at_once = {
        node["nodeId"]: node["progressSummary"]["implementation"]
        for priority in dashboard["action"]["priorities"]
        for node in [priority, *priority["outcomes"]]
    }

    alone = {}
    for global_id, node_id in nodes:
        body = await graphql(
            "query($id: ID!) { node(id: $id) { ... on Priority { progressSummary(year: 2027) "
            f"{{ implementation {{ {FIGURES} }} }} }} ... on Outcome {{ progressSummary(year: "
            f"2027) {{ implementation {{ {FIGURES} }} }} }} }} }}",
            id=global_id,
        )
        assert "errors" not in body, body
        alone[node_id] = body["data"]["node"]["progressSummary"]["implementation"]

    assert alone == at_once
    assert alone[OUTCOME] == figures(1, 0, "0.0000", "0.00", "0.00")
