"""The compiled execution of in-memory subtrees answers exactly as plain strawberry does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bench.growth import PLAN_ID, grow_inputs
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from planapi.api.runtime import direct_reading
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
    # Compiled reading the domain values (`api.runtime.direct_reading`), compiled reading the
    # wrappers, plain strawberry.
    for enabled, viewed in ((True, True), (True, False), (False, False)):
        counted[0] = 0
        monkeypatch.setattr(FastExecutionContext, "enabled", enabled)
        monkeypatch.setattr(direct_reading, "ENABLED", viewed)
        context = Context(
            plans=services.plans,
            readings=services.readings,
            execution=services.execution,
            principal=system("tests"),
        )
        result = await schema.execute(query, variable_values=variables, context_value=context)
        errors = [(e.message, e.path) for e in result.errors or []]
        out.append(json.dumps({"data": result.data, "errors": errors}, default=str))
        if calls is not None and (enabled, viewed) != (True, False):
            calls.append(counted[0])
    assert out[0] == out[1]
    return out[0], out[2]


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
    from planapi.domain.nodes import Node

    monkeypatch.setattr(Node, "title", property(lambda self: None))
    query = "query($id: ID!) { plan(id: $id) { title priorities { id title } } }"
    fast, plain = await _both(services, monkeypatch, query, {"id": PLAN_ID})
    assert fast == plain
    assert '["plan", "priorities", 0, "title"]' in fast


DASHBOARD = """
query Dashboard($id: ID!) {
  plan(id: $id) {
    progressSummary { kpis achieved onTrack offTrack notAssessed withoutData reported }
    priorities {
      progressSummary { onTrack offTrack withoutData implementation { planned completed } }
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


SHARED = """
query Shared($id: ID!, $version: Int) {
  plan(id: $id, version: $version) {
    version
    priorities { id title outcomes { code kpis { id title baseline { value } } } }
    nodes(kind: KPI) { __typename id ... on Kpi { unit targets { period value } } }
  }
}
"""

DIRECTED = """
query Directed($id: ID!, $withKpis: Boolean!) {
  plan(id: $id) { priorities { title outcomes { code kpis @include(if: $withKpis) { id } } } }
}
"""


async def test_a_repeated_document_answers_each_request_for_its_own_variables(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What is compiled for a document serves its next executions: another version read by
    the same text gets that version's tree, not the first one's."""
    answers = []
    for version in (2, 1, None, 2):  # 2 is the latest
        fast, plain = await _both(
            services, monkeypatch, SHARED, {"id": PLAN_ID, "version": version}
        )
        assert fast == plain
        answers.append(fast)
    assert answers[0] == answers[2] == answers[3] != answers[1]
    assert '"Kpi"' in answers[0]
    assert '"Kpi"' not in answers[1]


async def test_a_directive_on_a_variable_is_obeyed_on_every_execution(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = {}
    for with_kpis in (True, False, True):
        fast, plain = await _both(
            services, monkeypatch, DIRECTED, {"id": PLAN_ID, "withKpis": with_kpis}
        )
        assert fast == plain
        found[with_kpis] = fast
    assert '"kpis"' in found[True]
    assert '"kpis"' not in found[False]


async def test_a_null_or_unsendable_decimal_is_reported_as_without_compilation(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The generated code coerces custom scalars inline: a null in a non-null Decimal, or a
    value the scalar cannot send, bails to graphql-core, which reports it as it always did —
    whether it comes from the domain (every execution reads it) or from a wrapper."""
    from planapi.api.types import node_values
    from planapi.domain.nodes import Measurement

    query = (
        "query($id: ID!) { plan(id: $id) { priorities { outcomes { kpis { "
        "code baseline { period value } targets { period value } } } } } }"
    )
    for broken in (None, "not a decimal"):
        with monkeypatch.context() as patched:
            patched.setattr(Measurement, "value", property(lambda self, b=broken: b))
            fast, plain = await _both(services, monkeypatch, query, {"id": PLAN_ID})
        assert fast == plain
        assert '"errors": [["' in fast
        with monkeypatch.context() as patched:  # the wrappers' path alone
            made = classmethod(lambda cls, m, broken=broken: cls(period=m.period, value=broken))
            patched.setattr(node_values.PeriodValue, "of", made)
            patched.setattr(direct_reading, "ENABLED", False)
            context = Context(
                plans=services.plans, readings=services.readings, principal=system("tests")
            )
            wrapped = await build_schema().execute(
                query, variable_values={"id": PLAN_ID}, context_value=context
            )
        assert wrapped.errors
        assert wrapped.errors[0].path[-1] == "value"
