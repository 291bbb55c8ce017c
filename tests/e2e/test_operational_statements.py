"""The operational dashboard in one query: the SQL it sends does not grow with the number of
activities (every activity's execution comes from one read of the plan's records)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event

from planapi.api.schema import build_schema
from planapi.api.types.context import Context
from planapi.application.access import Role, system
from planapi.application.held_versions import HeldVersions
from planapi.bootstrap import Services, bootstrap
from planapi.config import Settings
from planapi.entrypoints.seeding import CREATE_PLAN, seed_input
from tests.e2e.queries import AMEND, CREATE
from tests.operational_fixtures import activity, operational_input

RECORD = """
mutation Record($input: RecordExecutionInput!) { recordExecution(input: $input) { __typename } }
"""
DASHBOARD = """
query Dashboard($id: ID!) {
  plan(id: $id) {
    budget(by: PRIORITY, year: 2027) { total items { key amount } }
    implementation(year: 2027) { total { planned completed budgetExecuted } }
    progressSummary(year: 2027) { kpis implementation { planned completed budgetExecuted } }
    activities { nodeId execution { status spent { amount } } }
  }
}
"""
# The action plan's dashboard: each priority's implementation, from the plans implementing it.
ACTION_DASHBOARD = """
query ActionDashboard($id: ID!) {
  plan(id: $id) {
    progressSummary(year: 2027) { kpis implementation { planned completed } }
    priorities { progressSummary(year: 2027) { kpis implementation { planned completed } } }
  }
}
"""


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    found = await bootstrap(settings)
    try:
        yield found
    finally:
        await found.close()


def _context(services: Services) -> Context:
    return Context(
        plans=services.plans,
        readings=services.readings,
        execution=services.execution,
        principal=system("t"),
    )


async def _operational(services: Services, plan_id: str, activities: int) -> None:
    schema = build_schema()
    changes = [activity(f"act-{n}", f"A{n}") for n in range(activities)]
    given = {**operational_input(*changes), "id": plan_id}
    result = await schema.execute(
        CREATE, variable_values={"input": given}, context_value=_context(services)
    )
    assert result.data is not None
    assert result.data["createPlan"]["__typename"] == "PlanCreated", result
    records = [
        {
            "key": f"done-{n}",
            "activityId": f"act-{n}",
            "kind": "STATUS",
            "status": "COMPLETED",
            "occurredOn": "2027-12-01",
        }
        for n in range(activities)
    ]
    result = await schema.execute(
        RECORD,
        variable_values={"input": {"planId": plan_id, "records": records}},
        context_value=_context(services),
    )
    assert result.data == {"recordExecution": {"__typename": "ExecutionRecorded"}}, result


async def _statements(
    services: Services, plan_id: str, query: str = DASHBOARD
) -> tuple[int, dict[str, Any]]:
    schema = build_schema(cost_budgets=dict.fromkeys(Role, 10**9))
    counted: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith("BEGIN"):
            counted.append(statement)

    engine = services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        services.plans.versions = HeldVersions(services.plans.versions.capacity)  # cold
        result = await schema.execute(
            query, variable_values={"id": plan_id}, context_value=_context(services)
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert not result.errors, result.errors
    assert result.data is not None
    return len(counted), result.data


async def test_the_dashboards_statements_do_not_grow_with_the_activities(
    services: Services,
) -> None:
    schema = build_schema()
    baku = await schema.execute(
        CREATE_PLAN, variable_values={"input": seed_input("baku")}, context_value=_context(services)
    )
    assert baku.data is not None
    await _operational(services, "ops-small", 3)
    await _operational(services, "ops-large", 30)

    few, small = await _statements(services, "ops-small")
    many, large = await _statements(services, "ops-large")

    assert small["plan"]["implementation"]["total"] == {
        "planned": 3,
        "completed": 3,
        "budgetExecuted": "0.00",
    }
    assert small["plan"]["progressSummary"]["implementation"] == {
        "planned": 3,
        "completed": 3,
        "budgetExecuted": "0.00",
    }
    assert len(large["plan"]["activities"]) == 30
    assert all(a["execution"]["status"] == "COMPLETED" for a in large["plan"]["activities"])
    assert many == few, (few, many)


async def test_the_action_plans_dashboard_does_not_grow_with_the_activities(
    services: Services,
) -> None:
    schema = build_schema()
    baku = await schema.execute(
        CREATE_PLAN, variable_values={"input": seed_input("baku")}, context_value=_context(services)
    )
    assert baku.data is not None
    await _operational(services, "ops", 3)
    few, small = await _statements(services, "baku-2026", ACTION_DASHBOARD)

    more = [activity(f"more-{n}", f"M{n}") for n in range(30)]
    given = {"planId": "ops", "expectedVersion": 1, "authority": "BDT", "rationale": "more"}
    result = await schema.execute(
        AMEND,
        variable_values={"input": {**given, "changes": more}},
        context_value=_context(services),
    )
    assert result.data is not None
    assert result.data["amendPlan"]["__typename"] == "AmendmentApplied", result
    many, large = await _statements(services, "baku-2026", ACTION_DASHBOARD)

    implementation = small["plan"]["progressSummary"]["implementation"]
    assert implementation == {"planned": 3, "completed": 3}
    implementation = large["plan"]["progressSummary"]["implementation"]
    assert implementation == {"planned": 33, "completed": 3}
    priorities = [p["progressSummary"]["implementation"] for p in large["plan"]["priorities"]]
    assert {"planned": 33, "completed": 3} in priorities
    assert many == few, (few, many)
