"""What changed between two versions of a plan."""

from __future__ import annotations

from decimal import Decimal

import pytest

from planapi.domain.changes import (
    AddNode,
    LinkNodes,
    MoveNode,
    RemoveNode,
    UnlinkNodes,
    UpdateNode,
)
from planapi.domain.diff import (
    FieldChange,
    NodeChanged,
    NodeRelocated,
    Placement,
    diff,
)
from planapi.domain.links import Link, LinkRelation
from planapi.domain.nodes import Measurement, NodeKind
from planapi.domain.plan import PlanState
from tests.unit.strategies import amend, new_plan

PRIORITY, OUTCOME, KPI = NodeKind.PRIORITY, NodeKind.OUTCOME, NodeKind.KPI
SERVES = LinkRelation.SERVES


@pytest.fixture
def plan() -> PlanState:
    return new_plan(
        AddNode(PRIORITY, "Connectivity", "p1", values={"code": "1"}),
        AddNode(PRIORITY, "Transformation", "p2", values={"code": "2"}),
        AddNode(PRIORITY, "Inclusion", "p3", values={"code": "3"}),
        AddNode(OUTCOME, "People online", "o1", "p1"),
        AddNode(KPI, "Internet use", "k1", "o1"),
        AddNode(NodeKind.OUTPUT, "Model policies", "out1"),
    )


def test_a_diff_names_the_versions_it_compares(plan: PlanState) -> None:
    later = amend(amend(plan, RemoveNode("p3")), RemoveNode("p2"))

    changes = diff(plan, later)

    assert (changes.from_version, changes.to_version) == (1, 3)


def test_added_nodes_are_listed_with_their_parent_and_position(plan: PlanState) -> None:
    after = amend(
        plan, AddNode(OUTCOME, "Services online", "o2", "p1", 0), AddNode(KPI, "E-gov", "k2", "o2")
    )

    changes = diff(plan, after)

    assert changes.added == (Placement("o2", "p1", 0), Placement("k2", "o2", 0))
    assert changes.removed == ()
    assert changes.moved == ()
    assert changes.changed == ()


def test_a_node_added_in_front_does_not_count_its_siblings_as_moved(plan: PlanState) -> None:
    after = amend(plan, AddNode(PRIORITY, "First", "p0", position=0))

    changes = diff(plan, after)

    assert changes.added == (Placement("p0", None, 0),)
    assert changes.moved == ()


def test_a_removed_branch_lists_every_node_it_held(plan: PlanState) -> None:
    after = amend(plan, RemoveNode("p1", cascade=True))

    changes = diff(plan, after)

    assert changes.removed == ("p1", "o1", "k1")
    assert changes.added == ()
    assert changes.moved == ()


def test_changed_fields_show_their_value_before_and_after(plan: PlanState) -> None:
    target = Measurement("2027", Decimal(70))
    after = amend(
        plan,
        UpdateNode("p1", {"title": "Universal connectivity", "code": None}),
        UpdateNode("k1", {"targets": (target,), "unit": "%"}),
    )

    changes = diff(plan, after)

    assert changes.changed == (
        NodeChanged(
            "p1",
            (
                FieldChange("title", "Connectivity", "Universal connectivity"),
                FieldChange("code", "1", None),
            ),
        ),
        NodeChanged("k1", (FieldChange("unit", None, "%"), FieldChange("targets", (), (target,)))),
    )


def test_an_update_to_the_same_value_is_no_change(plan: PlanState) -> None:
    after = amend(plan, UpdateNode("p1", {"title": "Connectivity", "code": "1"}))

    assert diff(plan, after).is_empty


def test_a_node_under_a_new_parent_is_moved_from_and_to(plan: PlanState) -> None:
    after = amend(plan, MoveNode("o1", "p2"))

    changes = diff(plan, after)

    assert changes.moved == (NodeRelocated("o1", "p1", "p2", 0, 0),)
    assert changes.changed == ()
    assert changes.added == ()
    assert changes.removed == ()


def test_reordering_reports_only_the_node_that_moved(plan: PlanState) -> None:
    after = amend(plan, MoveNode("p3", None, 0))

    changes = diff(plan, after)

    assert changes.moved == (NodeRelocated("p3", None, None, 2, 0),)


def test_swapping_two_neighbours_reports_one_move(plan: PlanState) -> None:
    after = amend(plan, MoveNode("p2", None, 0))

    assert len(diff(plan, after).moved) == 1


def test_links_made_and_broken_are_listed(plan: PlanState) -> None:
    before = amend(plan, LinkNodes("out1", "p1", SERVES))
    after = amend(before, UnlinkNodes("out1", "p1", SERVES), LinkNodes("out1", "o1", SERVES))

    changes = diff(before, after)

    assert changes.links_added == (Link("out1", "o1", SERVES),)
    assert changes.links_removed == (Link("out1", "p1", SERVES),)
    assert (changes.added, changes.removed, changes.moved, changes.changed) == ((), (), (), ())


def test_removing_a_linked_node_also_lists_the_link_as_removed(plan: PlanState) -> None:
    before = amend(plan, LinkNodes("out1", "p2", SERVES))

    changes = diff(before, amend(before, RemoveNode("p2")))

    assert changes.removed == ("p2",)
    assert changes.links_removed == (Link("out1", "p2", SERVES),)


def test_a_diff_backwards_is_the_mirror_image(plan: PlanState) -> None:
    after = amend(plan, AddNode(PRIORITY, "Four", "p4"), UpdateNode("p1", {"title": "One"}))

    backwards = diff(after, plan)

    assert backwards.removed == ("p4",)
    assert backwards.added == ()
    assert backwards.changed == (NodeChanged("p1", (FieldChange("title", "One", "Connectivity"),)),)


# -- edits that cancel out leave no trace ---------------------------------------------------------
def test_a_title_changed_and_changed_back_is_no_change(plan: PlanState) -> None:
    middle = amend(plan, UpdateNode("p1", {"title": "Interim"}))
    after = amend(middle, UpdateNode("p1", {"title": "Connectivity"}))

    assert not diff(plan, middle).is_empty
    assert diff(plan, after).is_empty


def test_a_node_added_then_removed_is_no_change(plan: PlanState) -> None:
    after = amend(plan, AddNode(OUTCOME, "Short-lived", "o9", "p2"), RemoveNode("o9"))

    assert diff(plan, after).is_empty


def test_a_node_moved_away_and_back_is_no_change(plan: PlanState) -> None:
    away = amend(plan, MoveNode("o1", "p3"))
    back = amend(away, MoveNode("o1", "p1", 0))

    assert diff(plan, back).is_empty


def test_a_link_made_then_broken_is_no_change(plan: PlanState) -> None:
    after = amend(plan, LinkNodes("out1", "p1", SERVES), UnlinkNodes("out1", "p1", SERVES))

    assert diff(plan, after).is_empty


def test_a_state_compared_with_itself_is_no_change(plan: PlanState) -> None:
    assert diff(plan, plan).is_empty
