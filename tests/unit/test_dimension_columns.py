"""A KPI's dimensions become SDMX columns (`age group` → AGE_GROUP): names that would share a
column, or take one SDMX-CSV and the structure message keep for their own, are refused where
the KPI is declared; a plan stored before the rule still folds, reads and takes amendments
that leave its dimensions alone."""

from __future__ import annotations

import pytest

from planapi.domain import field_checks
from planapi.domain.changes import AddNode, UpdateNode
from planapi.domain.code_lists import ISO_3166
from planapi.domain.nodes import Dimension, NodeKind
from planapi.domain.plan import PlanState
from tests.unit.strategies import amend, new_plan, problems_of

PATH = ("changes", 0, "updateNode", "dimensions")


@pytest.fixture
def plan() -> PlanState:
    return new_plan(
        AddNode(NodeKind.PRIORITY, "Affordable connectivity", "p1"),
        AddNode(NodeKind.OUTCOME, "People online", "o1", "p1"),
        AddNode(NodeKind.KPI, "Internet use", "k1", "o1"),
    )


def _refused(plan: PlanState, *dimensions: Dimension) -> dict[tuple[str | int, ...], str]:
    problems = problems_of(plan, UpdateNode("k1", {"dimensions": dimensions}))
    return {problem.path: problem.message for problem in problems}


@pytest.mark.parametrize(
    ("first", "second", "column"),
    [
        ("age group", "Age_Group", "AGE_GROUP"),
        ("é", "ü", "D__"),
        ("sex", "SEX", "SEX"),
        ("2nd", "2ND", "D_2ND"),
    ],
)
def test_two_names_of_one_sdmx_column_are_refused(
    plan: PlanState, first: str, second: str, column: str
) -> None:
    found = _refused(plan, Dimension("mode"), Dimension(first), Dimension(second))
    assert list(found) == [(*PATH, 2, "name")]
    message = found[(*PATH, 2, "name")]
    assert column in message
    assert repr(first) in message
    assert repr(second) in message


@pytest.mark.parametrize(
    "name",
    [
        "action",
        "structure",
        "Structure ID",
        "dataflow",
        "indicator",
        "series",
        "time period",
        "obs value",
        "obs status",
        "unit measure",
        "unit mult",
        "FREQ",
    ],
)
def test_a_name_taking_a_reserved_sdmx_column_is_refused(plan: PlanState, name: str) -> None:
    found = _refused(plan, Dimension("sex"), Dimension(name))
    assert list(found) == [(*PATH, 1, "name")]
    assert "reserved" in found[(*PATH, 1, "name")]


def test_ref_area_is_the_iso_3166_dimensions_column(plan: PlanState) -> None:
    # Unbound, a dimension named REF_AREA is the one REF_AREA fills: nothing collides.
    alone = amend(plan, UpdateNode("k1", {"dimensions": (Dimension("ref area"),)}))
    assert [d.name for d in alone.nodes["k1"].dimensions] == ["ref area"]
    bound = amend(plan, UpdateNode("k1", {"dimensions": (Dimension("country", (), ISO_3166),)}))
    assert bound.nodes["k1"].dimensions[0].code_list == ISO_3166
    # Beside a dimension bound to ISO 3166 (whose column REF_AREA is), it would take its column.
    country = Dimension("country", (), ISO_3166)
    for dimensions, blamed in (
        ((country, Dimension("REF_AREA")), 1),
        ((Dimension("ref area"), country), 1),
    ):
        found = _refused(plan, *dimensions)
        assert list(found) == [(*PATH, blamed, "name")]
        assert "REF_AREA" in found[(*PATH, blamed, "name")]
    # Two bound to ISO 3166: REF_AREA fills the first, the second keeps its own column.
    two = (country, Dimension("partner", (), ISO_3166))
    assert len(amend(plan, UpdateNode("k1", {"dimensions": two})).nodes["k1"].dimensions) == 2


def test_a_plan_stored_before_the_rule_folds_and_takes_other_amendments(
    plan: PlanState, monkeypatch: pytest.MonkeyPatch
) -> None:
    colliding = (Dimension("age group"), Dimension("Age_Group"), Dimension("action"))
    with monkeypatch.context() as before_the_rule:
        before_the_rule.setitem(field_checks._FIELD_CHECKS, "dimensions", lambda *_: [])
        stored = amend(plan, UpdateNode("k1", {"dimensions": colliding}))
    assert stored.nodes["k1"].dimensions == colliding
    retitled = amend(stored, UpdateNode("k1", {"title": "Internet users"}))
    assert retitled.nodes["k1"].title == "Internet users"
    assert retitled.nodes["k1"].dimensions == colliding
    # Giving the dimensions again is declaring them: the rule applies.
    assert _refused(retitled, *colliding)
