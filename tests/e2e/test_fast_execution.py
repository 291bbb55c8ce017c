"""The compiled execution of in-memory subtrees answers exactly as plain strawberry does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bench.growth import PLAN_ID, grow_inputs
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from planapi.api.runtime.execution import FastExecutionContext
from planapi.api.schema import build_schema
from planapi.api.types.context import Context
from planapi.application.access import Role, system
from planapi.bootstrap import Services, bootstrap
from planapi.config import Settings
from planapi.entrypoints.seeding import CREATE_PLAN, seed_input
from tests.e2e.queries import AMEND

NODE = """
fragment N on PlanNode {
  __typename id kind code title description position
  references { vocabulary code uri }
  parent { id kind ... on Priority { code } }
}
"""

TREE = (
    NODE
    + """
query Tree($id: ID!, $version: Int, $withKpis: Boolean!, $noLinks: Boolean!) {
  plan(id: $id, version: $version) {
    __typename id title description version recordedAt hash
    period { startYear endYear label }
    amendment {
      version actor authority rationale reference effectiveFrom hash
      changes { __typename ... on NodeAdded { nodeId kind parentId position code title } }
    }
    priorities {
      ...N
      outcomes {
        ...N
        kpis @include(if: $withKpis) {
          ...N unit measure direction baseline { period value } targets { period value }
          dimensions { name values } periodTypes
        }
        outputs { id }
      }
      outputs { id title } enablers { id } contributors { ...N }
    }
    outputs { ...N servesPriorities { id } servesOutcomes { id } }
    enablers { ...N outcomes { id } supportsPriorities { code } supportsOutcomes { code } }
    regionalInitiatives {
      ...N region objective expectedResults contributesTo { id } projects { ...N objective }
    }
    resolutions { ...N number revision }
    studyGroups { ...N questions { ...N } }
    sections { ...N contents sections { ...N contents sections { id title } } }
    terms { ...N }
    nodes {
      ...N
      links @skip(if: $noLinks) { relation from { id } to { id ... on Output { title } } }
      children { id }
    }
    again: title
    kpisOnly: nodes(kind: KPI) { ... on Kpi { unit } }
  }
}
"""
)

WITH_STORAGE = """
query Mixed($id: ID!) {
  plan(id: $id) {
    priorities {
      code
      history { version change }
      outcomes { kpis { id title readings { id } latest { value } progress { direction } } }
    }
    amendments(first: 2) { totalCount edges { node { version } } }
  }
  missing: plan(id: "nope") { id }
  node: plan(id: $id) { node(nodeId: "kpi-1") { ... on Kpi { code title } } }
}
"""

BAD = """
query Bad($id: ID!) { plan(id: $id, version: 0) { id } }
"""


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    found = await bootstrap(settings)
    schema = build_schema()
    context = Context(plans=found.plans, readings=found.readings, principal=system("tests"))
    created = await schema.execute(
        CREATE_PLAN, variable_values={"input": seed_input("baku")}, context_value=context
    )
    assert not created.errors
    for given in grow_inputs(1, 60):
        amended = await schema.execute(
            AMEND, variable_values={"input": given}, context_value=context
        )
        assert amended.data
        assert amended.data["amendPlan"]["__typename"] == "AmendmentApplied"
    try:
        yield found
    finally:
        await found.close()


async def _both(
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any],
    calls: list[int] | None = None,
) -> tuple[str, str]:
    schema = build_schema(cost_budgets=dict.fromkeys(Role, 10**9))
    ordinary = StrawberryGraphQLCoreExecutionContext.execute_field
    counted = [0]

    def counting(self: Any, *args: Any) -> Any:
        counted[0] += 1
        return ordinary(self, *args)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_field", counting)
    out = []
    for enabled in (True, False):
        counted[0] = 0
        monkeypatch.setattr(FastExecutionContext, "enabled", enabled)
        context = Context(
            plans=services.plans, readings=services.readings, principal=system("tests")
        )
        result = await schema.execute(query, variable_values=variables, context_value=context)
        errors = [(e.message, e.path) for e in result.errors or []]
        out.append(json.dumps({"data": result.data, "errors": errors}, default=str))
        if calls is not None:
            calls.append(counted[0])
    return out[0], out[1]


@pytest.mark.parametrize(
    "variables",
    [
        {"version": None, "withKpis": True, "noLinks": False},
        {"version": 1, "withKpis": True, "noLinks": True},
        {"version": 2, "withKpis": False, "noLinks": False},
    ],
)
async def test_the_whole_tree_is_answered_identically(
    services: Services, monkeypatch: pytest.MonkeyPatch, variables: dict[str, Any]
) -> None:
    calls: list[int] = []
    fast, plain = await _both(services, monkeypatch, TREE, {"id": PLAN_ID, **variables}, calls)
    assert fast == plain
    assert len(fast) > 20_000
    # graphql-core completed only the few fields above the compiled subtrees itself.
    assert calls[0] * 20 < calls[1], calls


async def test_fields_that_reach_storage_and_errors_are_answered_identically(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    for query in (WITH_STORAGE, BAD):
        fast, plain = await _both(services, monkeypatch, query, {"id": PLAN_ID})
        assert fast == plain


async def test_a_value_the_closures_refuse_is_executed_the_ordinary_way(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-null field that comes back null: the compiled subtree bails, graphql-core reports
    the error exactly as without compilation."""
    from planapi.api.types import nodes

    monkeypatch.setattr(nodes.PlanNode, "title", lambda self: None, raising=False)
    schema = build_schema()
    query = "query($id: ID!) { plan(id: $id) { title priorities { id title } } }"
    fast, plain = await _both(services, monkeypatch, query, {"id": PLAN_ID})
    assert fast == plain
    del schema


DASHBOARD = """
query Dashboard($id: ID!) {
  plan(id: $id) {
    progressSummary { kpis achieved onTrack offTrack notAssessed withoutData reported }
    priorities {
      progressSummary { onTrack offTrack withoutData }
      outcomes {
        progressSummary { onTrack offTrack withoutData dataCompleteness expectedPeriod }
        kpis {
          id latest { id value period isCurrent }
          progress { onTrack targets { period latest { period value } expected achieved } }
        }
      }
    }
  }
}
"""
RECORD = """
mutation Record($input: RecordReadingsInput!) { recordReadings(input: $input) { __typename } }
"""


async def test_a_dashboard_from_the_summary_is_answered_as_by_the_resolvers(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each KPI's latest and progress and the rollups, answered at once inside the compiled
    tree, match the resolvers' answers (corrections included) — and graphql-core completes
    no field per KPI."""
    schema = build_schema(cost_budgets=dict.fromkeys(Role, 10**9))
    context = Context(plans=services.plans, readings=services.readings, principal=system("t"))
    batches = [
        [{"kpiId": f"kpi-{n}", "period": "2027", "value": str(n)} for n in range(0, 60, 3)],
        [{"kpiId": f"kpi-{n}", "period": "2029", "value": "41"} for n in range(0, 60, 9)],
        [{"kpiId": f"kpi-{n}", "period": "2027", "value": "30"} for n in range(0, 60, 6)],
    ]
    for batch in batches:
        readings = [{**reading, "status": "FINAL"} for reading in batch]
        result = await schema.execute(
            RECORD,
            variable_values={"input": {"planId": PLAN_ID, "readings": readings}},
            context_value=context,
        )
        assert result.data == {"recordReadings": {"__typename": "ReadingsRecorded"}}, result
    calls: list[int] = []
    fast, plain = await _both(services, monkeypatch, DASHBOARD, {"id": PLAN_ID}, calls)
    assert fast == plain
    assert '"achieved": 7' in fast  # kpi-0, 9, …, 54 reached 40 by 2029
    assert calls[0] < 100 < 60 * 3 < calls[1], calls
