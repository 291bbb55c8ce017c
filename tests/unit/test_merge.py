"""The three-way merge of a proposal into a plan that moved since its draft: properties over
random plans and changes, and the conflicts a delegate would meet, each named by node and field."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from planapi.domain.changes import (
    AddNode,
    Change,
    LinkNodes,
    MoveNode,
    RemoveNode,
    UpdateNode,
)
from planapi.domain.links import LinkRelation
from planapi.domain.merge import NOTHING_LEFT, Conflict, Merged, merge, proposed
from planapi.domain.nodes import Node, NodeKind
from planapi.domain.plan import EMPTY, PlanState
from tests.unit.strategies import (
    INFO,
    PLAN_END,
    PLAN_START,
    amend,
    new_plan,
    valid_adds,
    valid_changes,
)

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def content(state: PlanState) -> tuple[object, ...]:
    """What a reader sees of a plan, whatever its version number."""
    children = {parent: kids for parent, kids in state.children.items() if kids}
    return (dict(state.nodes), children, state.links)


def moved_on(state: PlanState) -> PlanState:
    """The same plan under a later version number: forces the merge to rebase."""
    return dataclasses.replace(state, version=state.version + 1)


@st.composite
def base_plans(draw: st.DrawFn) -> PlanState:
    start = dataclasses.replace(EMPTY, period_start=PLAN_START, period_end=PLAN_END)
    return new_plan(*draw(valid_adds(start, max_size=10)))


@st.composite
def base_and_proposal(draw: st.DrawFn) -> tuple[PlanState, list[Change]]:
    base = draw(base_plans())
    return base, draw(valid_changes(base, max_size=5))


@FAST
@given(base_and_proposal())
def test_a_proposal_on_an_unchanged_base_merges_to_exactly_its_own_changes(
    drawn: tuple[PlanState, list[Change]],
) -> None:
    base, changes = drawn
    merged = merge(base, base, changes, INFO)
    assert merged.clean
    assert merged.changes == tuple(changes)
    assert merged.state is not None
    assert content(merged.state) == content(proposed(base, changes, INFO))


@FAST
@given(base_and_proposal())
def test_rebased_onto_a_plan_that_did_not_change_a_proposal_makes_the_plan_it_drafted(
    drawn: tuple[PlanState, list[Change]],
) -> None:
    """The rebase path (changes re-derived from the diff) reproduces the draft exactly."""
    base, changes = drawn
    # A proposal that changes nothing in effect leaves nothing to rebase (that is a conflict).
    assume(content(proposed(base, changes, INFO)) != content(base))
    merged = merge(base, moved_on(base), changes, INFO)
    assert merged.conflicts == ()
    assert merged.state is not None
    assert content(merged.state) == content(proposed(base, changes, INFO))


@FAST
@given(st.data())
def test_changes_that_merge_cleanly_both_ways_commute(data: st.DataObject) -> None:
    base = data.draw(base_plans())
    first = data.draw(valid_changes(base, max_size=3))
    second = data.draw(valid_changes(base, max_size=3))
    # A node added without an id is numbered when its change is applied, like a sequence: which
    # proposal is adopted first decides which number each gets. Commuting holds for the rest.
    assume(not any(isinstance(c, AddNode) and c.id is None for c in (*first, *second)))
    one, two = moved_on(proposed(base, first, INFO)), moved_on(proposed(base, second, INFO))
    second_after_first = merge(base, one, second, INFO)
    first_after_second = merge(base, two, first, INFO)
    if second_after_first.clean and first_after_second.clean:
        assert second_after_first.state is not None
        assert first_after_second.state is not None
        assert content(second_after_first.state) == content(first_after_second.state)


@FAST
@given(st.data())
def test_a_clean_merge_keeps_every_field_the_proposal_changed(data: st.DataObject) -> None:
    base = data.draw(base_plans())
    theirs = moved_on(proposed(base, data.draw(valid_changes(base, max_size=3)), INFO))
    changes = data.draw(valid_changes(base, max_size=3))
    merged = merge(base, theirs, changes, INFO)
    ours = proposed(base, changes, INFO)
    if merged.clean:
        assert merged.state is not None
        for node in ours.nodes.values():
            old = base.nodes.get(node.id)
            if old is not None and old != node and node.id in merged.state.nodes:
                kept = merged.state.nodes[node.id]
                assert {f: getattr(kept, f) for f in _changed(old, node)} == {
                    f: getattr(node, f) for f in _changed(old, node)
                }


def _changed(old: Node, new: Node) -> list[str]:
    return [
        name
        for name in new.__struct_fields__
        if name not in ("parent_id",) and getattr(old, name) != getattr(new, name)
    ]


# -- the conflicts, by example -------------------------------------------------------------
def plan() -> PlanState:
    return new_plan(
        AddNode(NodeKind.PRIORITY, "Connectivity", "p1", values={"code": "1"}),
        AddNode(NodeKind.OUTCOME, "Access", "o1", "p1", values={"code": "1.1"}),
        AddNode(NodeKind.OUTCOME, "Quality", "o2", "p1", values={"code": "1.2"}),
        AddNode(NodeKind.KPI, "Households online", "k1", "o1", values={"code": "1.1.1"}),
        AddNode(NodeKind.OUTPUT, "Guidelines", "out1", values={"code": "A"}),
    )


def named(merged: Merged) -> list[tuple[str | None, str | None]]:
    return [(c.node_id, c.field) for c in merged.conflicts]


def test_changes_to_different_nodes_both_apply() -> None:
    base = plan()
    current = amend(base, UpdateNode("o1", {"title": "Universal access"}))
    merged = merge(base, current, [UpdateNode("o2", {"title": "Meaningful quality"})], INFO)
    assert merged.clean
    assert merged.state is not None
    assert merged.state.nodes["o1"].title == "Universal access"
    assert merged.state.nodes["o2"].title == "Meaningful quality"


def test_different_fields_of_one_node_both_apply() -> None:
    base = plan()
    current = amend(base, UpdateNode("o1", {"title": "Universal access"}))
    merged = merge(base, current, [UpdateNode("o1", {"description": "Why."})], INFO)
    assert merged.state is not None
    assert merged.state.nodes["o1"].title == "Universal access"
    assert merged.state.nodes["o1"].description == "Why."


def test_the_same_field_changed_on_both_sides_is_a_conflict_naming_node_and_field() -> None:
    base = plan()
    current = amend(base, UpdateNode("o1", {"title": "Universal access"}))
    merged = merge(base, current, [UpdateNode("o1", {"title": "Affordable access"})], INFO)
    assert named(merged) == [("o1", "title")]
    assert "Universal access" in merged.conflicts[0].message
    assert merged.state is None


def test_the_same_change_made_on_both_sides_is_no_conflict() -> None:
    base = plan()
    current = amend(base, UpdateNode("o1", {"title": "Universal access"}))
    proposal = [UpdateNode("o1", {"title": "Universal access"}), UpdateNode("o2", {"code": "1.3"})]
    merged = merge(base, current, proposal, INFO)
    assert merged.clean
    assert merged.changes == (UpdateNode("o2", {"code": "1.3"}),)


def test_a_proposal_the_plan_already_made_meanwhile_has_nothing_left_to_apply() -> None:
    base = plan()
    current = amend(base, UpdateNode("o1", {"title": "Universal access"}))
    merged = merge(base, current, [UpdateNode("o1", {"title": "Universal access"})], INFO)
    assert merged.conflicts == (Conflict(None, "changes", NOTHING_LEFT),)


def test_a_parent_removed_meanwhile_is_a_conflict_on_the_new_child() -> None:
    base = plan()
    current = amend(base, RemoveNode("o2"))
    merged = merge(base, current, [AddNode(NodeKind.KPI, "Speed", "k2", "o2")], INFO)
    assert named(merged) == [("k2", "parent_id")]


def test_changing_a_node_removed_meanwhile_is_a_conflict() -> None:
    base = plan()
    current = amend(base, RemoveNode("k1"))
    merged = merge(base, current, [UpdateNode("k1", {"unit": "households"})], INFO)
    assert named(merged) == [("k1", "unit")]


def test_removing_a_node_changed_meanwhile_is_a_conflict() -> None:
    base = plan()
    current = amend(base, UpdateNode("k1", {"unit": "households"}))
    merged = merge(base, current, [RemoveNode("k1")], INFO)
    assert named(merged) == [("k1", "unit")]


def test_a_link_to_a_node_removed_meanwhile_is_a_broken_link() -> None:
    base = plan()
    current = amend(base, RemoveNode("o2"))
    merged = merge(base, current, [LinkNodes("out1", "o2", LinkRelation.SERVES)], INFO)
    assert named(merged) == [("out1", "links")]
    assert "o2" in merged.conflicts[0].message


def test_siblings_placed_under_one_parent_on_both_sides_conflict_on_position() -> None:
    base = plan()
    current = amend(base, AddNode(NodeKind.KPI, "Schools online", "k2", "o1"))
    merged = merge(base, current, [AddNode(NodeKind.KPI, "Clinics online", "k3", "o1")], INFO)
    assert named(merged) == [("k3", "position")]


def test_a_duplicate_code_is_a_conflict_on_the_code() -> None:
    base = plan()
    current = amend(base, AddNode(NodeKind.OUTPUT, "Toolkit", "out2", values={"code": "B"}))
    merged = merge(base, current, [UpdateNode("out1", {"code": "B"})], INFO)
    assert named(merged) == [("out1", "code")]


def test_an_id_the_proposal_chose_and_the_plan_took_meanwhile_is_a_conflict() -> None:
    base = plan()
    current = amend(base, AddNode(NodeKind.OUTPUT, "Toolkit", "out2", values={"code": "B"}))
    proposal = [AddNode(NodeKind.OUTPUT, "Handbook", "out2", values={"code": "C"})]
    merged = merge(base, current, proposal, INFO)
    assert ("out2", "id") in named(merged)


def test_a_generated_id_taken_meanwhile_is_generated_again() -> None:
    base = plan()
    current = amend(base, AddNode(NodeKind.KPI, "Toolkit", parent_id="o1"))
    proposal = [AddNode(NodeKind.KPI, "Handbook", parent_id="o2")]
    merged = merge(base, current, proposal, INFO)
    assert merged.clean
    assert merged.state is not None
    handbook = [n for n in merged.state.nodes.values() if n.title == "Handbook"]
    toolkit = [n for n in merged.state.nodes.values() if n.title == "Toolkit"]
    assert len(handbook) == len(toolkit) == 1
    assert handbook[0].id != toolkit[0].id


def test_a_move_into_a_parent_elsewhere_applies_beside_unrelated_changes() -> None:
    base = plan()
    current = amend(base, UpdateNode("p1", {"title": "Meaningful connectivity"}))
    merged = merge(base, current, [MoveNode("k1", "o2")], INFO)
    assert merged.state is not None
    assert merged.state.nodes["k1"].parent_id == "o2"
    assert merged.state.nodes["p1"].title == "Meaningful connectivity"


def test_every_conflict_is_reported_not_just_the_first() -> None:
    base = plan()
    current = amend(
        base, UpdateNode("o1", {"title": "Universal access"}), RemoveNode("o2", cascade=True)
    )
    proposal = [
        UpdateNode("o1", {"title": "Affordable access"}),
        AddNode(NodeKind.KPI, "Speed", "k2", "o2"),
    ]
    merged = merge(base, current, proposal, INFO)
    assert set(named(merged)) == {("o1", "title"), ("k2", "parent_id")}
    assert all(isinstance(c, Conflict) for c in merged.conflicts)
