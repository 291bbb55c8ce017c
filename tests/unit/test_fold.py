"""Folding events into the state of a plan at each version."""

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
from planapi.domain.events import (
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NodesLinked,
    NodeUpdated,
    PlanAmended,
    PlanCreated,
    PlanEvent,
)
from planapi.domain.links import Link, LinkRelation
from planapi.domain.nodes import (
    Dimension,
    Direction,
    Measure,
    Measurement,
    Node,
    NodeKind,
)
from planapi.domain.plan import fold
from tests.unit.strategies import amend, children_ids, copy_of, create, new_plan

PRIORITY, OUTCOME, KPI = NodeKind.PRIORITY, NodeKind.OUTCOME, NodeKind.KPI
SERVES = LinkRelation.SERVES


def baku() -> tuple[AddNode, ...]:
    return (
        AddNode(PRIORITY, "Affordable connectivity", "p1", values={"code": "1"}),
        AddNode(PRIORITY, "Digital transformation", "p2", values={"code": "2"}),
        AddNode(NodeKind.OUTPUT, "Model policies", "out1"),
        AddNode(NodeKind.ENABLER, "Efficiency", "e1"),
    )


def test_a_new_plan_is_version_one_with_its_title_period_and_nodes_in_order() -> None:
    state = fold([create(*baku())])

    assert (state.id, state.title, state.version) == ("baku-2026", "Baku Action Plan", 1)
    assert (state.period_start, state.period_end) == (2026, 2029)
    assert children_ids(state, None) == ["p1", "p2", "out1", "e1"]
    assert state.nodes["p1"] == Node("p1", PRIORITY, "Affordable connectivity", code="1")
    assert state.retired_ids == frozenset()
    assert state.links == frozenset()


def test_a_plan_with_no_nodes_is_still_version_one() -> None:
    state = fold([create()])

    assert state.version == 1
    assert state.nodes == {}
    assert state.children == {}


def test_an_outcome_added_under_a_priority_becomes_its_child() -> None:
    state = amend(new_plan(*baku()), AddNode(OUTCOME, "More people online", "o1", "p1"))

    assert state.nodes["o1"].parent_id == "p1"
    assert [n.id for n in state.children_of("p1")] == ["o1"]
    assert "o1" not in state.children.get(None, ())


def test_a_kpi_keeps_its_whole_definition() -> None:
    definition = {
        "code": "1.1.a",
        "unit": "people",
        "measure": Measure.PERCENTAGE,
        "direction": Direction.INCREASE,
        "baseline": Measurement("2024", Decimal("67.4")),
        "targets": (
            Measurement("2027", Decimal("75")),
            Measurement("2029-Q4", Decimal("80.5")),
        ),
        "dimensions": (Dimension("sex", ("female", "male")), Dimension("region")),
    }
    state = amend(
        new_plan(*baku()),
        AddNode(OUTCOME, "More people online", "o1", "p1"),
        AddNode(KPI, "Share of individuals using the Internet", "k1", "o1", values=definition),
    )

    kpi = state.nodes["k1"]
    title = "Share of individuals using the Internet"
    assert kpi == Node("k1", KPI, title, parent_id="o1", **definition)  # type: ignore[arg-type]
    assert state.of_kind(KPI) == [kpi]


def test_updating_a_title_changes_that_field_and_nothing_else() -> None:
    before = amend(new_plan(*baku()), UpdateNode("p1", {"description": "Access for all."}))

    after = amend(before, UpdateNode("p1", {"title": "  Universal connectivity  "}))

    assert after.nodes["p1"].title == "Universal connectivity"
    assert after.nodes["p1"].code == "1"
    assert after.nodes["p1"].description == "Access for all."
    assert children_ids(after, None) == children_ids(before, None)


def test_updating_to_none_clears_an_optional_field_and_empties_a_list_field() -> None:
    kpi = AddNode(
        KPI,
        "Coverage",
        "k1",
        "o1",
        values={"unit": "%", "targets": (Measurement("2027", Decimal(90)),)},
    )
    state = amend(new_plan(*baku()), AddNode(OUTCOME, "Covered", "o1", "p1"), kpi)

    cleared = amend(state, UpdateNode("k1", {"unit": None, "targets": None}))

    assert cleared.nodes["k1"].unit is None
    assert cleared.nodes["k1"].targets == ()


def test_a_removed_node_disappears_and_its_id_is_retired() -> None:
    state = amend(new_plan(*baku()), RemoveNode("p2"))

    assert "p2" not in state.nodes
    assert state.node("p2") is None
    assert children_ids(state, None) == ["p1", "out1", "e1"]
    assert state.retired_ids == {"p2"}


def test_removing_with_cascade_retires_the_whole_branch() -> None:
    state = amend(
        new_plan(*baku()),
        AddNode(OUTCOME, "Outcome", "o1", "p1"),
        AddNode(KPI, "KPI", "k1", "o1"),
        AddNode(OUTCOME, "Other outcome", "o2", "p2"),
    )

    after = amend(state, RemoveNode("p1", cascade=True))

    assert after.retired_ids == {"p1", "o1", "k1"}
    assert set(after.nodes) == {"p2", "o2", "out1", "e1"}
    assert "p1" not in after.children
    assert "o1" not in after.children


def test_moving_an_outcome_to_another_priority_changes_its_parent_and_place() -> None:
    state = amend(
        new_plan(*baku()),
        AddNode(OUTCOME, "First", "o1", "p1"),
        AddNode(OUTCOME, "Second", "o2", "p2"),
        AddNode(OUTCOME, "Third", "o3", "p2"),
    )

    after = amend(state, MoveNode("o1", "p2", 1))

    assert after.nodes["o1"].parent_id == "p2"
    assert children_ids(after, "p2") == ["o2", "o1", "o3"]
    assert "p1" not in after.children
    assert after.position_of("o1") == 1


def test_moving_without_a_position_puts_the_node_last() -> None:
    state = amend(new_plan(*baku()), MoveNode("p1", None))

    assert children_ids(state, None) == ["p2", "out1", "e1", "p1"]


def test_an_outcome_can_move_from_a_priority_to_an_enabler() -> None:
    state = amend(new_plan(*baku()), AddNode(OUTCOME, "Outcome", "o1", "p1"))

    after = amend(state, MoveNode("o1", "e1"))

    assert [n.id for n in after.children_of("e1")] == ["o1"]


def test_nodes_added_at_positions_are_ordered_by_those_positions() -> None:
    state = amend(
        new_plan(*baku()),
        AddNode(OUTCOME, "B", "ob", "p1"),
        AddNode(OUTCOME, "A", "oa", "p1", position=0),
        AddNode(OUTCOME, "C", "oc", "p1", position=2),
        AddNode(OUTCOME, "AB", "oab", "p1", position=1),
    )

    assert children_ids(state, "p1") == ["oa", "oab", "ob", "oc"]
    assert [state.position_of(kid) for kid in children_ids(state, "p1")] == [0, 1, 2, 3]


def test_links_are_found_from_both_ends() -> None:
    state = amend(
        new_plan(*baku()),
        AddNode(OUTCOME, "Outcome", "o1", "p1"),
        LinkNodes("out1", "p1", SERVES),
        LinkNodes("out1", "o1", SERVES),
        LinkNodes("e1", "p2", LinkRelation.SUPPORTS),
    )

    assert state.links == {
        Link("out1", "p1", SERVES),
        Link("out1", "o1", SERVES),
        Link("e1", "p2", LinkRelation.SUPPORTS),
    }
    assert {n.id for n in state.linked_to("out1", SERVES)} == {"p1", "o1"}
    assert state.linked_to("out1", LinkRelation.SUPPORTS) == []
    assert [n.id for n in state.linked_from("p1", SERVES)] == ["out1"]
    assert [n.id for n in state.linked_from("p2", LinkRelation.SUPPORTS)] == ["e1"]


def test_unlinking_removes_the_link_from_both_ends() -> None:
    state = amend(new_plan(*baku()), LinkNodes("out1", "p1", SERVES))

    after = amend(state, UnlinkNodes("out1", "p1", SERVES))

    assert after.links == frozenset()
    assert after.linked_to("out1", SERVES) == []
    assert after.linked_from("p1", SERVES) == []


def test_removing_a_linked_node_drops_its_links() -> None:
    state = amend(
        new_plan(*baku()), LinkNodes("out1", "p1", SERVES), LinkNodes("out1", "p2", SERVES)
    )

    after = amend(state, RemoveNode("p1"))

    assert after.links == {Link("out1", "p2", SERVES)}
    assert [n.id for n in after.linked_to("out1", SERVES)] == ["p2"]


def test_walk_and_of_kind_follow_document_order() -> None:
    state = amend(
        new_plan(*baku()),
        AddNode(OUTCOME, "Under p2", "o2", "p2"),
        AddNode(OUTCOME, "Under p1", "o1", "p1"),
        AddNode(KPI, "KPI of o1", "k1", "o1"),
    )

    assert [n.id for n in state.walk()] == ["p1", "o1", "k1", "p2", "o2", "out1", "e1"]
    assert [n.id for n in state.of_kind(OUTCOME)] == ["o1", "o2"]
    assert [n.id for n in state.children_of(None, PRIORITY)] == ["p1", "p2"]


def test_each_plan_event_is_one_version_however_many_changes_it_holds() -> None:
    created = create(*baku())
    one = PlanAmended(
        (NodeAdded(Node("o1", OUTCOME, "A", "p1"), 0), NodeAdded(Node("o2", OUTCOME, "B", "p1"), 1))
    )
    two = PlanAmended((NodeUpdated("o1", {"title": "A2"}),))
    empty = PlanAmended(())

    events: list[PlanEvent] = [created, one, two, empty]

    states = [fold(events[: n + 1]) for n in range(4)]

    assert [s.version for s in states] == [1, 2, 3, 4]
    assert states[3].nodes == states[2].nodes


def test_folding_from_a_state_continues_its_version_numbers() -> None:
    base = new_plan(*baku())
    amended = fold([PlanAmended((NodeRemoved("e1"),))], base)

    assert amended.version == base.version + 1 == 2


def test_later_amendments_leave_earlier_states_untouched() -> None:
    v1 = new_plan(*baku())
    snapshot = copy_of(v1)

    v2 = amend(v1, AddNode(OUTCOME, "Outcome", "o1", "p1"), LinkNodes("out1", "p1", SERVES))
    v3 = amend(v2, UpdateNode("p1", {"title": "Renamed"}), MoveNode("p2", None, 0))
    amend(v3, RemoveNode("p1", cascade=True))

    assert v1 == snapshot
    assert v1.nodes["p1"].title == "Affordable connectivity"
    assert v2.nodes["p1"].title == "Affordable connectivity"
    assert children_ids(v2, None) == ["p1", "p2", "out1", "e1"]
    assert "o1" in v3.nodes
    assert v3.links == {Link("out1", "p1", SERVES)}
    assert v3.retired_ids == frozenset()


def test_a_state_cannot_be_changed_in_place() -> None:
    state = new_plan(*baku())

    with pytest.raises(TypeError):
        state.nodes["x"] = Node("x", PRIORITY, "Sneaked in")  # type: ignore[index]
    with pytest.raises(TypeError):
        state.children[None] += ("x",)  # type: ignore[index]
    with pytest.raises(AttributeError):
        state.version = 7  # type: ignore[misc]


def test_raw_events_fold_to_the_same_state_as_decided_ones() -> None:
    decided = amend(
        new_plan(*baku()), AddNode(OUTCOME, "Outcome", "o1", "p1"), MoveNode("e1", None, 0)
    )
    raw = fold(
        [
            create(*baku()),
            PlanAmended(
                (
                    NodeAdded(Node("o1", OUTCOME, "Outcome", parent_id="p1"), 0),
                    NodeMoved("e1", None, 0),
                )
            ),
        ]
    )

    assert raw == decided


def test_a_created_plan_event_can_carry_links() -> None:
    created = PlanCreated(
        "p",
        "Plan",
        2026,
        2029,
        None,
        (
            NodeAdded(Node("out1", NodeKind.OUTPUT, "Output"), 0),
            NodeAdded(Node("p1", PRIORITY, "Priority"), 1),
            NodesLinked(Link("out1", "p1", SERVES)),
        ),
    )

    state = fold([created])

    assert [n.id for n in state.linked_from("p1", SERVES)] == ["out1"]
