"""Which documents may be cached for good: the walk of the document against the volatile list."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from planapi.api.runtime.cacheability import VOLATILE, analyse, volatile_field
from planapi.api.schema import build_schema

SCHEMA = build_schema()._schema


def pinned(document: str, variables: dict[str, Any] | None = None, name: str | None = None) -> bool:
    return analyse(SCHEMA, parse(document), name).pinned(variables)


@pytest.mark.parametrize(
    "document",
    [
        '{ plan(id: "p", version: 3) { title priorities { code outcomes { kpis { unit } } } } }',
        '{ plan(id: "p", version: 3) { nodes { id ... on Kpi { targets { value } } } } }',
        '{ plan(id: "p", version: 3) { amendments(first: 5) { totalCount } } }',
        '{ plan(id: "p", version: 3) { priorities { history { version } blame { field } } } }',
        'query { planDiff(id: "p", fromVersion: 1, toVersion: 2) { added { id } } }',
        '{ amendment(planId: "p", version: 2) { actor } a: plan(id: "q", version: 1) { id } }',
        'query { __typename plan(id: "p", version: 1, asOf: null) { id } }',
        'fragment F on Plan { title } query { plan(id: "p", version: 1) { ...F } }',
    ],
)
def test_explicit_versions_of_what_never_changes_are_pinned(document: str) -> None:
    assert pinned(document)


@pytest.mark.parametrize(
    "document",
    [
        # latest, or an instant: the heads decide
        'query { plan(id: "p") { title } }',
        'query { plan(id: "p", asOf: "2026-01-01T00:00:00Z") { title } }',
        # the version in force on a date: a later adoption changes the answer
        'query { plan(id: "p", inForceOn: "2027-01-01") { title status } }',
        'query { plan(id: "p", version: 1, inForceOn: "2027-01-01") { title } }',
        'query { plan(id: "p", inForceOn: "2027-01-01", asOf: "2026-01-01T00:00:00Z") { id } }',
        'query { plan(id: "p", version: 1) { title } other: plan(id: "q") { title } }',
        # what changes without a new version, however it is reached
        "query { plans { id } }",
        "query { events(first: 5) { items { position } } }",
        'query { verifyIntegrity(planId: "p") { ok } }',
        'query { nodeHistory(planId: "p", nodeId: "n") { version } }',
        'query { plan(id: "p", version: 1) { nodes { ... on Kpi { readings { value } } } } }',
        'query { plan(id: "p", version: 1) { node(nodeId: "k") { ... on Kpi { latest { value } } } '
        "} }",
        "fragment K on Kpi { progress { direction } }"
        ' query { plan(id: "p", version: 1) { priorities { outcomes { kpis { ...K } } } } }',
        "query { __schema { queryType { name } } }",
        'mutation { createPlan(input: {id: "x"}) { __typename } }',
        'subscription { planAmended(planId: "p") { version } }',
    ],
)
def test_anything_else_is_not(document: str) -> None:
    assert not pinned(document)


def test_version_variables_decide_at_run_time() -> None:
    document = 'query Q($v: Int) { plan(id: "p", version: $v) { title } }'
    assert pinned(document, {"v": 4})
    assert not pinned(document, {"v": None})
    assert not pinned(document, {})


def test_the_operation_to_run_is_the_one_analysed() -> None:
    document = 'query A { plan(id: "p", version: 1) { id } } query B { plans { id } }'
    assert pinned(document, name="A")
    assert not pinned(document, name="B")
    assert not pinned(document)  # ambiguous: strawberry refuses it


def test_every_listed_volatile_field_exists_and_is_found() -> None:
    for type_name, field_name in VOLATILE:
        parent = SCHEMA.get_type(type_name)
        assert parent is not None
        if not field_name.startswith("__"):
            assert field_name in parent.fields  # type: ignore[attr-defined]
        assert volatile_field(SCHEMA, parent, field_name)


def test_fields_that_reach_the_context_count_as_volatile_unless_listed() -> None:
    """A field added later that reads storage or the caller errs towards freshness."""
    plan = SCHEMA.get_type("Plan")
    kpi = SCHEMA.get_type("Kpi")
    assert plan is not None
    assert kpi is not None
    assert not volatile_field(SCHEMA, plan, "title")
    assert not volatile_field(SCHEMA, plan, "amendments")  # up to the version: listed
    assert not volatile_field(SCHEMA, kpi, "history")  # on the PlanNode interface: listed
    assert volatile_field(SCHEMA, kpi, "readings")
    node = SCHEMA.get_type("PlanNode")
    assert node is not None
    assert not volatile_field(SCHEMA, node, "title")


def scope(document: str, variables: dict[str, Any] | None = None) -> tuple[Any, bool]:
    """(the plan ids the answer depends on, or None for the heads; whether readings too)."""
    from planapi.api.runtime.dependencies import plan_ids

    analysis = analyse(SCHEMA, parse(document), None)
    return plan_ids(analysis, variables), analysis.readings


@pytest.mark.parametrize(
    ("document", "variables", "expected"),
    [
        ('{ plan(id: "p") { title } }', None, (["p"], False)),
        ("query Q($id: ID!) { plan(id: $id) { title } }", {"id": "q"}, (["q"], False)),
        ('{ plan(id: "p", asOf: "2026-01-01T00:00:00Z") { title } }', None, (["p"], False)),
        (
            '{ a: plan(id: "p") { id } b: amendment(planId: "q", version: 2) { actor } }',
            None,
            (["p", "q"], False),
        ),
        ('{ nodeHistory(planId: "p", nodeId: "n") { version } }', None, (["p"], False)),
        (
            '{ plan(id: "p") { node(nodeId: "k") { ... on Kpi { latest { value } } } } }',
            None,
            (["p"], True),
        ),
        (
            'fragment K on Kpi { progress { direction } } { plan(id: "p") { nodes { ...K } } }',
            None,
            (["p"], True),
        ),
        # any plan, or what cannot be told from the text: the heads of the logs
        ("{ plans { planId } }", None, (None, False)),
        ('{ plan(id: "p") { id } plans { planId } }', None, (None, False)),
        ('{ node(id: "Kpi:p:1:k") { id } }', None, (None, False)),
        ("{ events(first: 5) { items { position } } }", None, (None, False)),
        ("{ __schema { queryType { name } } }", None, (None, False)),
        ("query Q($id: ID!) { plan(id: $id) { title } }", {}, (None, False)),
    ],
)
def test_an_answer_depends_on_the_plans_it_names_and_their_readings_if_it_reads_them(
    document: str, variables: dict[str, Any] | None, expected: tuple[Any, bool]
) -> None:
    assert scope(document, variables) == expected


@pytest.mark.parametrize(
    ("document", "readings", "other_plans"),
    [
        ('{ plan(id: "p") { outputs { activities { nodeId } } } }', False, True),
        ('{ plan(id: "p") { budget(by: SOURCE) { total } } }', False, True),
        ('{ plan(id: "p") { priorities { activities { nodeId } } } }', False, True),
        ('{ plan(id: "p") { outputs { title } } }', False, False),
        # a selection on an interface counts what every type under it may read
        (
            '{ plan(id: "p") { nodes { ... on Output { activities { nodeId } } '
            "... on Kpi { latest { value } } } } }",
            True,
            True,
        ),
    ],
)
def test_what_other_plans_feed_is_keyed_by_the_event_log_not_the_readings(
    document: str, readings: bool, other_plans: bool
) -> None:
    analysis = analyse(SCHEMA, parse(document), None)
    assert (analysis.plans, analysis.readings, analysis.other_plans) == (
        ("=p",),
        readings,
        other_plans,
    )
    assert not analysis.pinned(None)


def test_consistency_tokens_combine_part_by_part_and_refuse_anything_else() -> None:
    from planapi.application.freshness import BadTokenError, Heads, parse_tokens

    assert parse_tokens(["12.0, 0.7", "9.3"]) == Heads(12, 7)
    assert parse_tokens([""]) == Heads(0, 0)
    for bad in ("12", "a.b", "1.2.3", "-1.0", "1 .0"):
        with pytest.raises(BadTokenError):
            parse_tokens([bad])
