"""The cost a query is charged before it runs, and the table of who may call which root field."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import parse

from planapi.api.runtime.cost import (
    DEFAULT_BUDGETS,
    DEFAULT_LIST_SIZE,
    INCLUSION_PROOF_COST,
    VERIFY_ALL_READINGS_COST,
    VERIFY_PLAN_COST,
    query_cost,
)
from planapi.api.runtime.cost import LIST_SIZES as BELOW_ROOTS
from planapi.api.runtime.guard import UnguardedFieldError, guard, policy
from planapi.api.schema import Mutation, Query, build_schema
from planapi.api.types.root_fields import declared
from planapi.api.types.subscriptions import Subscription
from planapi.application.access import Permission, Role

SCHEMA = build_schema()._schema
# The permissions and list sizes as the root fields declare them, beside the runtime's own.
POLICY = policy(SCHEMA)
assert SCHEMA.query_type is not None
_PLANS = declared(SCHEMA.query_type.fields["plans"])
assert _PLANS is not None
assert _PLANS.cost.items is not None
LIST_SIZES = {**BELOW_ROOTS, ("Query", "plans"): _PLANS.cost.items}


def cost(query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> int:
    return query_cost(SCHEMA, parse(query), name, variables)


def test_a_verification_costs_its_work_and_all_the_readings_cost_more() -> None:
    plan = cost('{ verifyIntegrity(planId: "p") { ok } }')
    everything = cost('{ verifyIntegrity(planId: "p", allReadings: true) { ok } }')
    by_variable = cost(
        'query($all: Boolean!) { verifyIntegrity(planId: "p", allReadings: $all) { ok } }',
        {"all": True},
    )

    assert plan >= VERIFY_PLAN_COST
    assert everything == by_variable >= VERIFY_PLAN_COST + VERIFY_ALL_READINGS_COST
    assert everything > DEFAULT_BUDGETS[Role.ANONYMOUS], "not for anonymous callers"
    twice = cost(
        '{ a: verifyIntegrity(planId: "p") { ok } b: verifyIntegrity(planId: "q") { ok } }'
    )
    assert twice == 2 * plan


def test_each_inclusion_proof_in_a_page_of_amendments_costs_its_reads() -> None:
    page = '{ plan(id: "p") { amendments(first: 100) { nodes { version %s } } } }'
    plain = cost(page % "")
    proved = cost(page % "inclusionProof { leaf }")

    assert proved - plain >= 100 * INCLUSION_PROOF_COST


def test_each_field_costs_one() -> None:
    assert cost('{ plan(id: "p") { id title version } }') == 4


def test_a_list_multiplies_what_is_selected_under_it_by_its_expected_size() -> None:
    nodes = LIST_SIZES[("Plan", "nodes")]
    assert cost('{ plan(id: "p") { nodes { id title } } }') == 1 + 1 + nodes * 2
    nested = cost('{ plan(id: "p") { nodes { children { id } } } }')
    assert nested == 1 + 1 + nodes * (1 + DEFAULT_LIST_SIZE * 1)


def test_a_page_size_argument_is_the_multiplier_given_or_by_default() -> None:
    assert cost('{ plan(id: "p") { amendments(first: 7) { edges { node { version } } } } }') == (
        1 + 1 + 1 * (1 + 7 * (1 + 1))
    )
    by_default = cost('{ plan(id: "p") { amendments { nodes { version } } } }')
    assert by_default == 1 + 1 + (1 + 20 * 1)
    assert cost("query($n: Int!) { events(first: $n) { items { position } } }", {"n": 500}) == (
        1 + (1 + 500)
    )
    assert cost("query($n: Int! = 30) { events(first: $n) { items { position } } }") == 1 + 31


def test_a_reading_list_costs_its_limit() -> None:
    query = (
        '{ plan(id: "p") { node(nodeId: "k") { ... on Kpi { readings(limit: 50) { value } } } } }'
    )
    assert cost(query) == 1 + 1 + (1 + 50)


def test_fragments_count_where_they_are_spread_and_only_the_costliest_type_counts() -> None:
    spread = cost('query { plan(id: "p") { nodes { ...N } } } fragment N on PlanNode { id title }')
    assert spread == cost('{ plan(id: "p") { nodes { id title } } }')
    # Each node is one kind: a KPI's fields and an output's are never both paid for one node.
    both = cost(
        '{ plan(id: "p") { nodes { id ... on Kpi { unit measure direction } '
        "... on Output { title } } } }"
    )
    assert both == 1 + 1 + LIST_SIZES[("Plan", "nodes")] * (1 + 3)


def test_the_operation_named_is_the_one_charged() -> None:
    document = 'query A { plans { id } } query B { plan(id: "p") { nodes { id } } }'
    assert cost(document, name="A") < cost(document, name="B")


def test_introspection_costs_a_fixed_amount_whatever_its_nesting() -> None:
    deep = "{ __schema { types { fields { type { ofType { ofType { name } } } } } } }"
    assert cost(deep) == 100
    assert cost("{ __typename }") == 0


def test_a_deep_wide_query_costs_far_more_than_the_default_budgets() -> None:
    query = (
        '{ plan(id: "p") { nodes { children { children { children '
        "{ links { from { id } } } } } } } }"
    )
    assert cost(query) > 1_000_000


def test_unknown_fields_and_spreads_cost_little_and_never_loop() -> None:
    assert cost("{ nope { deeper } }") == 1
    assert cost("query { ...Missing }") == 0
    looping = "query { plans { ...A } } fragment A on PlanSummary { id ...A }"
    assert cost(looping) == 1 + LIST_SIZES[("Query", "plans")] * 1


# -- the policy ------------------------------------------------------------------------------
def test_every_root_field_has_a_policy_and_the_policy_names_no_other_field() -> None:
    schema = build_schema()._schema
    fields = {
        (kind, name)
        for kind, root in (
            ("Query", schema.query_type),
            ("Mutation", schema.mutation_type),
            ("Subscription", schema.subscription_type),
        )
        if root is not None
        for name in root.fields
    }
    assert fields == set(POLICY)
    assert {k for k, v in POLICY.items() if v is Permission.AUDIT} == {
        ("Query", "verifyIntegrity"),
        ("Query", "events"),
    }
    assert POLICY[("Mutation", "createPlan")] is Permission.CREATE_PLAN
    assert POLICY[("Mutation", "amendPlan")] is Permission.AMEND
    assert POLICY[("Mutation", "recordReadings")] is Permission.RECORD_READINGS


def test_a_root_field_without_a_policy_stops_the_schema_from_being_built() -> None:
    @strawberry.type
    class Wider(Query):
        @strawberry.field
        def secret(self) -> str:
            return "leaked"

    schema = strawberry.Schema(query=Wider, mutation=Mutation, subscription=Subscription)
    with pytest.raises(UnguardedFieldError, match=r"Query\.secret"):
        guard(schema)
