"""The README's operational plan example, run as written (each operation in order), so the
example a newcomer copies into GraphiQL works and says what the README says it does."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import GraphQL

README = Path(__file__).parents[2] / "README.md"


def _example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## The operational plan", 1)[1]
    found = re.search(r"```graphql\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return found.group(1)


async def test_the_readme_example_runs_as_written(graphql: GraphQL, baku: str) -> None:
    document = _example()
    results = {}
    for name in ("CreateOperational", "ApproveEdition", "RecordExecution", "OperationalDashboard"):
        body = await graphql_named(graphql, document, name)
        assert "errors" not in body, body
        results[name] = body["data"]

    assert results["CreateOperational"]["createPlan"]["__typename"] == "PlanCreated"
    assert results["ApproveEdition"]["amendPlan"]["plan"] == {"edition": 2027, "version": 2}
    assert results["RecordExecution"]["recordExecution"]["stored"] == 3
    plan = results["OperationalDashboard"]["plan"]
    assert plan["budget"]["items"] == [
        {"key": "output-toolkits", "amount": "90000.00"},
        {"key": "output-provision-of-data", "amount": "30000.00"},
    ]
    assert plan["implementation"]["total"]["budgetExecuted"] == "80000.00"
    assert plan["activities"][0]["execution"]["status"] == "ONGOING"
    outputs = {
        o["nodeId"]: o["activities"]
        for o in results["OperationalDashboard"]["actionPlan"]["outputs"]
    }
    assert outputs["output-toolkits"] == [{"nodeId": "act-toolkits"}]
    action = results["OperationalDashboard"]["actionPlan"]
    assert action["progressSummary"]["implementation"] == {
        "planned": 1,
        "implementationRate": "0.0000",
    }
    priorities = {p["nodeId"]: p["progressSummary"]["implementation"] for p in action["priorities"]}
    assert priorities["priority-affordable-connectivity"] == {"budgetExecuted": "80000.00"}


async def graphql_named(graphql: GraphQL, document: str, name: str) -> dict[str, object]:
    # The fixture posts {query, variables}; the operation name travels in the document's order:
    # send the one operation alone.
    operations = re.split(r"\n(?=(?:mutation|query) )", document.strip())
    [operation] = [op for op in operations if re.match(rf"(mutation|query) {name}\b", op)]
    return await graphql(operation)
