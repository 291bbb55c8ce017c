"""A stored node decodes to the same value whichever way `node_from_primitive` takes: msgspec
building it whole, or field by field (the way every stored value folded before)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planapi.adapters.node_json import _node_by_field, node_from_primitive, node_to_primitive
from planapi.domain.nodes import Node, NodeKind
from tests.unit.strategies import FIELD_VALUES


@st.composite
def stored_nodes(draw: st.DrawFn) -> dict[str, Any]:
    """Any node as the stores keep it, values breaking today's rules too (NaN, empty text)."""
    names = draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), unique=True))
    values = {name: draw(FIELD_VALUES[name]) for name in names}
    title = values.pop("title", None) or "Node"
    node = Node(id="n1", kind=draw(st.sampled_from(NodeKind)), title=title, **values)  # type: ignore[arg-type]
    stored: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(node_to_primitive(node)))
    return stored


@settings(max_examples=300)
@given(stored_nodes())
def test_a_stored_node_decodes_as_it_did_field_by_field(raw: dict[str, Any]) -> None:
    # repr, not ==: a NaN decimal is unequal to itself, and the types must match too.
    assert repr(node_from_primitive(raw)) == repr(_node_by_field(raw))


BASE = {"id": "a1", "kind": "ACTIVITY", "title": "Activity"}


@pytest.mark.parametrize(
    "extra",
    [
        {"budget": None},  # a null where a tuple belongs
        {"title": 7},  # a number where text belongs
        {"start": "20270101"},  # a date only Python's ISO parser reads
        {"budget": [{"year": 2027, "source": "IN_KIND", "amount": "1_000"}]},
        {"budget": [{"year": 2027, "source": "IN_KIND", "amount": " 12.50 "}]},
        {"shares": [{"key": "x", "weight": "-0"}]},
        {"dimensions": [{"name": "sex", "values": ["f"], "codeList": "SEX"}]},
        {"minimum": "1E+3", "maximum": "sNaN"},
        {"output_ids": []},
        # Decimals stored as JSON numbers (by hand, or another tool): the same either way.
        {"budget": [{"year": 2027, "source": "IN_KIND", "amount": 0.1}]},
        {"shares": [{"key": "x", "weight": 0.3}, {"key": "y", "weight": 2}]},
        {"targets": [{"period": "2027", "value": 12.7}], "minimum": 0.5, "maximum": 99.9},
    ],
)
def test_stored_values_msgspec_refuses_still_fold_as_before(extra: dict[str, Any]) -> None:
    raw = {**BASE, **extra}
    assert repr(node_from_primitive(raw)) == repr(_node_by_field(raw))


def test_a_decimal_stored_as_a_number_reads_as_its_shortest_text() -> None:
    raw = {**BASE, "budget": [{"year": 2027, "source": "IN_KIND", "amount": 0.1}]}
    for node in (node_from_primitive(raw), _node_by_field(raw)):
        assert str(node.budget[0].amount) == "0.1"


def test_an_unknown_stored_field_is_refused_as_before() -> None:
    raw = {**BASE, "colour": "red"}
    with pytest.raises(TypeError):
        _node_by_field(raw)
    with pytest.raises(TypeError):
        node_from_primitive(raw)


def test_an_unknown_kind_is_refused_as_before() -> None:
    with pytest.raises(ValueError, match="GALAXY"):
        node_from_primitive({**BASE, "kind": "GALAXY"})
