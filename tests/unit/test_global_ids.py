"""Global ids read back exactly what was written, whatever the parts hold; nothing else parses."""

from __future__ import annotations

import pytest
from graphql import parse as parse_document
from hypothesis import given
from hypothesis import strategies as st

from planapi.api.runtime.cost import query_cost
from planapi.api.schema import build_schema
from planapi.api.types.global_ids import (
    KIND_TYPE_NAMES,
    MalformedIdError,
    global_id,
    node_global_id,
    parse,
)
from planapi.api.types.nodes import TYPES
from planapi.domain.nodes import NodeKind

parts = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1).filter(
    str.isprintable
)


@given(st.lists(parts, min_size=1, max_size=5))
def test_any_parts_read_back_as_written_even_with_colons_and_percents(given: list[str]) -> None:
    assert parse(global_id("Kpi", *given)) == ("Kpi", given)


@given(parts, st.integers(1, 2**31 - 1), parts)
def test_a_node_id_is_the_general_form(plan_id: str, version: int, node_id: str) -> None:
    assert node_global_id(NodeKind.KPI, plan_id, version, node_id) == global_id(
        "Kpi", plan_id, version, node_id
    )


def test_the_type_in_a_node_id_is_the_graphql_type_of_its_kind() -> None:
    for kind, cls in TYPES.items():
        assert KIND_TYPE_NAMES[kind] == cls.__strawberry_definition__.name  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text", ["", "baku-2026", "Plan:a%41:1", "Plan:a%3:1", "Plan::1", "x" * 5000]
)
def test_what_is_not_a_global_id_is_refused(text: str) -> None:
    with pytest.raises(MalformedIdError):
        parse(text)


def test_nodes_costs_what_it_asks_for_per_id() -> None:
    schema = build_schema()._schema

    def cost(ids: int) -> int:
        document = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Plan { title } } }"
        return query_cost(schema, parse_document(document), None, {"ids": ["Plan:p:1"] * ids})

    assert cost(10) - cost(0) == 10 * (cost(1) - cost(0))
