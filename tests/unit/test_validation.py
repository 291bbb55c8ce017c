"""Deciding amendments: every problem reported at its path; nothing applied unless all is well."""

from __future__ import annotations

import dataclasses
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
from planapi.domain.decide import decide_amendment, decide_creation
from planapi.domain.errors import Problem, ValidationError
from planapi.domain.events import NodeAdded, NodeRemoved, NodesUnlinked
from planapi.domain.links import Link, LinkRelation
from planapi.domain.nodes import (
    PARENT_KINDS,
    Dimension,
    Measurement,
    Node,
    NodeKind,
    Reference,
    ReferenceVocabulary,
)
from planapi.domain.plan import PlanState
from tests.unit.strategies import (
    INFO,
    amend,
    copy_of,
    new_plan,
    paths_of,
    problems_of,
)

PRIORITY, OUTCOME, KPI = NodeKind.PRIORITY, NodeKind.OUTCOME, NodeKind.KPI
SERVES = LinkRelation.SERVES


@pytest.fixture
def plan() -> PlanState:
    """Two priorities with an outcome each, a KPI, an output, an enabler, a study group."""
    return new_plan(
        AddNode(PRIORITY, "Affordable connectivity", "p1", values={"code": "1"}),
        AddNode(PRIORITY, "Digital transformation", "p2", values={"code": "2"}),
        AddNode(OUTCOME, "People online", "o1", "p1", values={"code": "1.1"}),
        AddNode(OUTCOME, "Services online", "o2", "p2", values={"code": "2.1"}),
        AddNode(KPI, "Internet use", "k1", "o1"),
        AddNode(NodeKind.OUTPUT, "Model policies", "out1"),
        AddNode(NodeKind.ENABLER, "Efficiency", "e1"),
        AddNode(NodeKind.STUDY_GROUP, "Study Group 1", "sg1"),
    )


def only_problem(state: PlanState, *changes: object) -> Problem:
    problems = problems_of(state, *changes)  # type: ignore[arg-type]
    assert len(problems) == 1, problems
    return problems[0]


# -- where a node may sit ----------------------------------------------------------------------
def test_a_kpi_cannot_sit_directly_under_a_priority(plan: PlanState) -> None:
    problem = only_problem(plan, AddNode(KPI, "Orphan KPI", "k2", "p1"))

    assert problem.path == ("changes", 0, "addNode", "parent_id")
    assert "KPI cannot sit under a PRIORITY" in problem.message
    assert "OUTCOME" in problem.message


def test_a_kpi_under_an_outcome_is_accepted(plan: PlanState) -> None:
    assert amend(plan, AddNode(KPI, "Broadband", "k2", "o1")).nodes["k2"].parent_id == "o1"


@pytest.mark.parametrize("kind", [k for k in NodeKind if None not in PARENT_KINDS[k]])
def test_a_kind_that_needs_a_parent_cannot_sit_on_the_plan_itself(
    plan: PlanState, kind: NodeKind
) -> None:
    problem = only_problem(plan, AddNode(kind, "Floating", "x1"))

    assert problem.path == ("changes", 0, "addNode", "parent_id")
    assert "needs a parent" in problem.message


def test_a_priority_cannot_sit_under_another_priority(plan: PlanState) -> None:
    problem = only_problem(plan, AddNode(PRIORITY, "Nested", "p3", "p1"))

    assert problem.message.endswith("(allowed: the plan itself)")


def test_a_question_sits_under_a_study_group_and_a_section_under_a_section(
    plan: PlanState,
) -> None:
    state = amend(
        plan,
        AddNode(NodeKind.QUESTION, "Question 1/1", "q1", "sg1"),
        AddNode(NodeKind.SECTION, "Introduction", "s1"),
        AddNode(NodeKind.SECTION, "Background", "s1.1", "s1"),
    )

    assert state.nodes["q1"].parent_id == "sg1"
    assert state.nodes["s1.1"].parent_id == "s1"


def test_a_parent_that_does_not_exist_is_named(plan: PlanState) -> None:
    problem = only_problem(plan, AddNode(OUTCOME, "Lost", "o9", "p9"))

    assert problem == Problem(("changes", 0, "addNode", "parent_id"), "no node 'p9' in this plan")


def test_a_position_beyond_the_siblings_is_refused(plan: PlanState) -> None:
    problem = only_problem(plan, AddNode(OUTCOME, "Far", "o9", "p1", position=2))

    assert problem == Problem(("changes", 0, "addNode", "position"), "must be between 0 and 1")


def test_a_negative_position_is_refused(plan: PlanState) -> None:
    problem = only_problem(plan, MoveNode("o1", "p2", -1))

    assert problem.path == ("changes", 0, "moveNode", "position")


# -- ids -----------------------------------------------------------------------------------------
def test_an_id_already_in_the_plan_is_refused(plan: PlanState) -> None:
    problem = only_problem(plan, AddNode(PRIORITY, "Again", "p1"))

    assert problem == Problem(("changes", 0, "addNode", "id"), "node 'p1' already exists")


def test_an_id_is_never_reused_after_its_node_is_removed(plan: PlanState) -> None:
    state = amend(plan, RemoveNode("e1"))

    problem = only_problem(state, AddNode(NodeKind.ENABLER, "Efficiency again", "e1"))

    assert problem.path == ("changes", 0, "addNode", "id")
    assert "ids are never reused" in problem.message


def test_an_id_removed_earlier_in_the_same_amendment_cannot_be_reused(plan: PlanState) -> None:
    problems = problems_of(plan, RemoveNode("e1"), AddNode(NodeKind.ENABLER, "Again", "e1"))

    assert paths_of(problems) == [("changes", 1, "addNode", "id")]


@pytest.mark.parametrize("node_id", ["P-3", "p3\n", "-p3", "p 3", "p" * 81, ""])
def test_a_malformed_id_is_refused(plan: PlanState, node_id: str) -> None:
    problem = only_problem(plan, AddNode(PRIORITY, "Odd id", node_id))

    assert problem.path == ("changes", 0, "addNode", "id")


def test_nodes_added_without_an_id_get_fresh_distinct_ones(plan: PlanState) -> None:
    state = amend(plan, RemoveNode("e1"), AddNode(PRIORITY, "Three"), AddNode(PRIORITY, "Four"))

    new = set(state.nodes) - set(plan.nodes)
    assert len(new) == 2
    assert not new & (set(plan.nodes) | state.retired_ids)


def test_a_generated_id_never_takes_an_id_the_same_amendment_names_later(
    plan: PlanState,
) -> None:
    free = f"priority-{len(plan.nodes) + len(plan.retired_ids) + 1}"

    state = amend(plan, AddNode(PRIORITY, "Unnamed"), AddNode(PRIORITY, "Named", free))

    assert state.nodes[free].title == "Named"
    assert len(set(state.nodes) - set(plan.nodes)) == 2


def test_a_title_smuggled_among_the_other_fields_is_refused(plan: PlanState) -> None:
    problem = only_problem(plan, AddNode(PRIORITY, "Fine", "p9", values={"title": ""}))

    assert problem.path == ("changes", 0, "addNode", "title")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (UpdateNode("e1", {"title": "Ghost"}), ("changes", 1, "updateNode", "id")),
        (MoveNode("e1", None, 0), ("changes", 1, "moveNode", "id")),
        (LinkNodes("e1", "p1", LinkRelation.SUPPORTS), ("changes", 1, "link", "from_id")),
        (LinkNodes("out1", "e1", SERVES), ("changes", 1, "link", "to_id")),
        (RemoveNode("e1"), ("changes", 1, "removeNode", "id")),
        (AddNode(OUTCOME, "Under a ghost", "o9", "e1"), ("changes", 1, "addNode", "parent_id")),
    ],
)
def test_a_removed_node_can_no_longer_be_touched(
    plan: PlanState, change: object, path: tuple[str | int, ...]
) -> None:
    problems = problems_of(plan, RemoveNode("e1"), change)  # type: ignore[arg-type]

    assert problems == [Problem(path, "node 'e1' was removed")]


def test_a_node_removed_in_an_earlier_version_is_reported_as_removed(plan: PlanState) -> None:
    state = amend(plan, RemoveNode("e1"))

    problem = only_problem(state, UpdateNode("e1", {"title": "Back"}))

    assert problem.message == "node 'e1' was removed"


def test_a_node_that_never_existed_is_reported_as_unknown(plan: PlanState) -> None:
    problem = only_problem(plan, UpdateNode("zz", {"title": "Who?"}))

    assert problem == Problem(("changes", 0, "updateNode", "id"), "no node 'zz' in this plan")


# -- removal -------------------------------------------------------------------------------------
def test_a_node_with_children_is_not_removed_without_cascade(plan: PlanState) -> None:
    problem = only_problem(plan, RemoveNode("p1"))

    assert problem.path == ("changes", 0, "removeNode", "cascade")
    assert "2 descendant(s)" in problem.message


def test_cascade_removes_the_descendants_and_the_links_touching_them(plan: PlanState) -> None:
    state = amend(
        plan,
        LinkNodes("out1", "o1", SERVES),
        LinkNodes("out1", "p1", SERVES),
        LinkNodes("out1", "p2", SERVES),
    )

    event = decide_amendment(state, INFO, [RemoveNode("p1", cascade=True)])
    after = amend(state, RemoveNode("p1", cascade=True))

    assert event.changes == (
        NodesUnlinked(Link("out1", "o1", SERVES)),
        NodesUnlinked(Link("out1", "p1", SERVES)),
        NodeRemoved("k1"),
        NodeRemoved("o1"),
        NodeRemoved("p1"),
    )
    assert set(after.nodes) == set(plan.nodes) - {"p1", "o1", "k1"}
    assert after.links == {Link("out1", "p2", SERVES)}


def test_a_leaf_is_removed_without_cascade(plan: PlanState) -> None:
    assert "k1" not in amend(plan, RemoveNode("k1")).nodes


# -- moves ---------------------------------------------------------------------------------------
def test_a_node_cannot_move_under_itself_or_its_descendants(plan: PlanState) -> None:
    state = amend(
        plan,
        AddNode(NodeKind.SECTION, "Part", "s1"),
        AddNode(NodeKind.SECTION, "Chapter", "s2", "s1"),
    )

    problems = problems_of(state, MoveNode("s1", "s1"), MoveNode("s1", "s2"))

    assert problems == [
        Problem(("changes", 0, "moveNode", "parent_id"), "cannot move a node under itself"),
        Problem(("changes", 1, "moveNode", "parent_id"), "cannot move a node under itself"),
    ]


def test_a_move_must_respect_the_parent_kinds(plan: PlanState) -> None:
    problem = only_problem(plan, MoveNode("k1", "p2"))

    assert problem.path == ("changes", 0, "moveNode", "parent_id")
    assert "KPI cannot sit under a PRIORITY" in problem.message


# -- codes ---------------------------------------------------------------------------------------
def test_a_code_is_unique_among_siblings_of_the_same_kind(plan: PlanState) -> None:
    problem = only_problem(plan, AddNode(PRIORITY, "Another first", "p3", values={"code": "1"}))

    assert problem == Problem(
        ("changes", 0, "addNode", "code"), "code '1' is already used by 'p1' under the same parent"
    )


def test_the_same_code_is_fine_for_another_kind_or_under_another_parent(plan: PlanState) -> None:
    state = amend(
        plan,
        AddNode(NodeKind.OUTPUT, "Output one", "out2", values={"code": "1"}),
        AddNode(OUTCOME, "Another 1.1", "o3", "p2", values={"code": "1.1"}),
    )

    assert state.nodes["out2"].code == state.nodes["p1"].code == "1"


def test_renaming_a_code_to_a_siblings_code_is_refused(plan: PlanState) -> None:
    problem = only_problem(plan, UpdateNode("p2", {"code": "1"}))

    assert problem.path == ("changes", 0, "updateNode", "code")


def test_a_node_keeps_its_own_code_when_updated(plan: PlanState) -> None:
    state = amend(plan, UpdateNode("p1", {"code": "1", "title": "Connectivity"}))

    assert state.nodes["p1"].code == "1"


def test_moving_a_node_next_to_a_sibling_with_its_code_is_refused(plan: PlanState) -> None:
    state = amend(plan, UpdateNode("o2", {"code": "1.1"}))

    problem = only_problem(state, MoveNode("o2", "p1"))

    assert problem.path == ("changes", 0, "moveNode", "code")


def test_a_code_with_surrounding_spaces_is_refused(plan: PlanState) -> None:
    problem = only_problem(plan, UpdateNode("p1", {"code": " 1"}))

    assert problem.path == ("changes", 0, "updateNode", "code")


# -- links ---------------------------------------------------------------------------------------
def test_only_an_output_serves(plan: PlanState) -> None:
    problem = only_problem(plan, LinkNodes("e1", "p1", SERVES))

    assert problem.path == ("changes", 0, "link", "from_id")
    assert problem.message == "SERVES links start from OUTPUT, not a ENABLER ('e1')"


def test_an_output_serves_priorities_and_outcomes_but_not_kpis(plan: PlanState) -> None:
    problem = only_problem(plan, LinkNodes("out1", "k1", SERVES))

    assert problem.path == ("changes", 0, "link", "to_id")
    assert "OUTCOME, PRIORITY" in problem.message


@pytest.mark.parametrize(
    ("source", "relation", "target"),
    [
        ("out1", LinkRelation.SERVES, "o1"),
        ("e1", LinkRelation.SUPPORTS, "p2"),
        ("sg1", LinkRelation.RELATES_TO, "out1"),
    ],
)
def test_links_that_follow_the_rules_are_accepted(
    plan: PlanState, source: str, relation: LinkRelation, target: str
) -> None:
    assert amend(plan, LinkNodes(source, target, relation)).links == {
        Link(source, target, relation)
    }


def test_the_same_link_cannot_be_made_twice(plan: PlanState) -> None:
    state = amend(plan, LinkNodes("out1", "p1", SERVES))

    problem = only_problem(state, LinkNodes("out1", "p1", SERVES))

    assert problem == Problem(("changes", 0, "link"), "'out1' is already linked to 'p1'")


def test_a_link_made_twice_in_one_amendment_is_refused_the_second_time(plan: PlanState) -> None:
    problems = problems_of(plan, LinkNodes("out1", "p1", SERVES), LinkNodes("out1", "p1", SERVES))

    assert paths_of(problems) == [("changes", 1, "link")]


def test_a_missing_link_cannot_be_unlinked(plan: PlanState) -> None:
    problem = only_problem(plan, UnlinkNodes("out1", "p1", SERVES))

    assert problem == Problem(("changes", 0, "unlink"), "'out1' is not linked to 'p1' by SERVES")


def test_unlinking_a_node_that_does_not_exist_names_it(plan: PlanState) -> None:
    problem = only_problem(plan, UnlinkNodes("out9", "p1", SERVES))

    assert problem.path == ("changes", 0, "unlink", "from_id")


# -- fields ----------------------------------------------------------------------------------------
def test_a_field_of_another_kind_is_refused(plan: PlanState) -> None:
    problem = only_problem(plan, AddNode(PRIORITY, "Metric priority", "p3", values={"unit": "%"}))

    assert problem == Problem(("changes", 0, "addNode", "unit"), "does not apply to a PRIORITY")


def test_a_field_of_another_kind_is_refused_on_update_too(plan: PlanState) -> None:
    problem = only_problem(plan, UpdateNode("o1", {"region": None}))

    assert problem == Problem(("changes", 0, "updateNode", "region"), "does not apply to a OUTCOME")


@pytest.mark.parametrize("name", ["colour", "id", "parent_id", "kind"])
def test_a_value_that_is_no_editable_field_is_refused(plan: PlanState, name: str) -> None:
    problems = problems_of(
        plan, AddNode(PRIORITY, "Odd", "p3", values={name: "x"}), UpdateNode("p1", {name: "x"})
    )

    assert problems == [
        Problem(("changes", 0, "addNode", name), "does not apply to a PRIORITY"),
        Problem(("changes", 1, "updateNode", name), "does not apply to a PRIORITY"),
    ]


@pytest.mark.parametrize("title", ["", "   "])
def test_a_node_needs_a_title(plan: PlanState, title: str) -> None:
    problems = problems_of(plan, AddNode(PRIORITY, title, "p3"), UpdateNode("p1", {"title": title}))

    assert problems == [
        Problem(("changes", 0, "addNode", "title"), "must not be empty"),
        Problem(("changes", 1, "updateNode", "title"), "must not be empty"),
    ]


def test_a_title_cannot_be_cleared(plan: PlanState) -> None:
    problem = only_problem(plan, UpdateNode("p1", {"title": None}))

    assert problem.path == ("changes", 0, "updateNode", "title")
    assert "cannot be removed" in problem.message


def test_an_overlong_title_is_refused(plan: PlanState) -> None:
    problem = only_problem(plan, AddNode(PRIORITY, "x" * 501, "p3"))

    assert problem == Problem(("changes", 0, "addNode", "title"), "must be at most 500 characters")


def test_an_update_must_name_a_field(plan: PlanState) -> None:
    problem = only_problem(plan, UpdateNode("p1", {}))

    assert problem == Problem(("changes", 0, "updateNode"), "names no field to change")


def test_a_kpi_target_outside_the_plan_period_is_refused(plan: PlanState) -> None:
    targets = (
        Measurement("2027", Decimal(50)),
        Measurement("2030-Q1", Decimal(60)),
        Measurement("2025", Decimal(40)),
    )

    problems = problems_of(plan, UpdateNode("k1", {"targets": targets}))

    assert problems == [
        Problem(
            ("changes", 0, "updateNode", "targets", 1, "period"),
            "2030-Q1 is outside the plan period 2026-2029",
        ),
        Problem(
            ("changes", 0, "updateNode", "targets", 2, "period"),
            "2025 is outside the plan period 2026-2029",
        ),
    ]


@pytest.mark.parametrize("period", ["2026-W01", "2029-12", "2029-S2", "2026"])
def test_targets_for_periods_labelled_with_a_plan_year_are_accepted(
    plan: PlanState, period: str
) -> None:
    target = Measurement(period, Decimal(1))

    state = amend(plan, UpdateNode("k1", {"targets": (target,)}))

    assert state.nodes["k1"].targets == (target,)


def test_a_weekly_target_in_the_first_week_after_the_plan_is_refused(plan: PlanState) -> None:
    # 2030-W01 starts on Monday 2029-12-31 but belongs to 2030.
    problem = only_problem(
        plan, UpdateNode("k1", {"targets": (Measurement("2030-W01", Decimal(1)),)})
    )

    assert problem.message == "2030-W01 is outside the plan period 2026-2029"


def test_a_baseline_may_predate_the_plan(plan: PlanState) -> None:
    baseline = Measurement("2023", Decimal("12.5"))

    assert amend(plan, UpdateNode("k1", {"baseline": baseline})).nodes["k1"].baseline == baseline


def test_a_baseline_with_an_invalid_period_is_refused(plan: PlanState) -> None:
    problem = only_problem(
        plan,
        AddNode(
            KPI, "Bad baseline", "k2", "o1", values={"baseline": Measurement("2024-Q5", Decimal(1))}
        ),
    )

    assert problem.path == ("changes", 0, "addNode", "baseline", "period")
    assert "'2024-Q5' is not a period id" in problem.message


def test_two_targets_for_one_period_are_refused(plan: PlanState) -> None:
    targets = (Measurement("2027", Decimal(1)), Measurement("2027", Decimal(2)))

    problem = only_problem(plan, UpdateNode("k1", {"targets": targets}))

    assert problem == Problem(
        ("changes", 0, "updateNode", "targets", 1, "period"), "2027 has two targets"
    )


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_target_must_be_a_finite_number(plan: PlanState, value: str) -> None:
    problem = only_problem(
        plan, UpdateNode("k1", {"targets": (Measurement("2027", Decimal(value)),)})
    )

    assert problem.path == ("changes", 0, "updateNode", "targets", 0, "value")


def test_a_dimension_is_declared_once_with_distinct_values(plan: PlanState) -> None:
    dimensions = (Dimension("sex", ("female", "female")), Dimension("sex", ("male",)))

    problems = problems_of(plan, UpdateNode("k1", {"dimensions": dimensions}))

    assert paths_of(problems) == [
        ("changes", 0, "updateNode", "dimensions", 0, "values"),
        ("changes", 0, "updateNode", "dimensions", 1, "name"),
    ]


def test_the_same_reference_cannot_be_given_twice(plan: PlanState) -> None:
    sdg = Reference(ReferenceVocabulary.SDG_TARGET, "9.c")

    problem = only_problem(plan, UpdateNode("p1", {"references": (sdg, sdg)}))

    assert problem.path == ("changes", 0, "updateNode", "references", 1)


# -- the amendment as a whole ------------------------------------------------------------------
def test_an_amendment_needs_at_least_one_change(plan: PlanState) -> None:
    assert problems_of(plan) == [Problem(("changes",), "an amendment needs at least one change")]


@pytest.mark.parametrize("rationale", ["", "  \n"])
def test_an_amendment_needs_a_rationale(plan: PlanState, rationale: str) -> None:
    info = dataclasses.replace(INFO, rationale=rationale)

    problems = problems_of(plan, UpdateNode("p1", {"title": "New"}), info=info)

    assert problems == [Problem(("rationale",), "must not be empty")]


def test_every_problem_of_an_amendment_is_reported_together(plan: PlanState) -> None:
    info = dataclasses.replace(INFO, rationale="")

    with pytest.raises(ValidationError) as refused:
        decide_amendment(
            plan,
            info,
            [
                AddNode(KPI, "Misplaced", "k2", "p1"),
                UpdateNode("p2", {"title": "Fine on its own"}),
                AddNode(PRIORITY, "Metric", "p3", values={"unit": "%"}),
                RemoveNode("p1"),
            ],
        )

    assert paths_of(refused.value.problems) == [
        ("rationale",),
        ("changes", 0, "addNode", "parent_id"),
        ("changes", 2, "addNode", "unit"),
        ("changes", 3, "removeNode", "cascade"),
    ]
    message = str(refused.value)
    assert "changes[0].addNode.parent_id: a KPI cannot sit under a PRIORITY" in message
    assert "changes[2].addNode.unit: does not apply to a PRIORITY" in message


def test_one_change_can_report_several_problems(plan: PlanState) -> None:
    problems = problems_of(plan, AddNode(KPI, "", "k1", "p1", values={"region": None}))

    assert paths_of(problems) == [
        ("changes", 0, "addNode", "id"),
        ("changes", 0, "addNode", "parent_id"),
        ("changes", 0, "addNode", "title"),
        ("changes", 0, "addNode", "region"),
    ]


def test_a_later_change_can_use_a_node_added_by_an_earlier_one(plan: PlanState) -> None:
    state = amend(
        plan,
        AddNode(PRIORITY, "Inclusion", "p3", values={"code": "3"}),
        AddNode(OUTCOME, "Women online", "o3", "p3"),
        AddNode(KPI, "Gender gap", "k3", "o3"),
        LinkNodes("out1", "o3", SERVES),
        MoveNode("o1", "p3"),
    )

    assert [n.id for n in state.walk("p3")] == ["o3", "k3", "o1", "k1"]
    assert state.links == {Link("out1", "o3", SERVES)}


def test_a_refused_change_is_not_seen_by_the_changes_after_it(plan: PlanState) -> None:
    problems = problems_of(
        plan, AddNode(OUTCOME, "Misplaced", "o9", "k1"), AddNode(KPI, "Under it", "k9", "o9")
    )

    assert problems[1] == Problem(
        ("changes", 1, "addNode", "parent_id"), "no node 'o9' in this plan"
    )


def test_a_refused_amendment_applies_nothing(plan: PlanState) -> None:
    before = copy_of(plan)

    problems_of(
        plan,
        AddNode(PRIORITY, "Inclusion", "p3"),
        RemoveNode("e1"),
        LinkNodes("out1", "p1", SERVES),
        UpdateNode("p1", {"title": "Renamed"}),
        AddNode(KPI, "Misplaced", "k2", "p1"),
    )

    assert plan == before
    assert "p3" not in plan.nodes
    assert "e1" in plan.nodes
    assert plan.links == frozenset()
    assert amend(plan, AddNode(PRIORITY, "Inclusion", "p3")).nodes["p3"].title == "Inclusion"


def test_an_accepted_amendment_leaves_the_state_it_was_decided_on_unchanged(
    plan: PlanState,
) -> None:
    before = copy_of(plan)

    decide_amendment(plan, INFO, [RemoveNode("p1", cascade=True), AddNode(PRIORITY, "New", "p9")])

    assert plan == before


def test_titles_are_stored_without_surrounding_spaces(plan: PlanState) -> None:
    event = decide_amendment(plan, INFO, [AddNode(PRIORITY, "  Inclusion ", "p3")])

    assert event.changes == (
        NodeAdded(Node("p3", PRIORITY, "Inclusion"), len(plan.children[None])),
    )


# -- creation ------------------------------------------------------------------------------------
def test_a_plan_may_be_created_empty() -> None:
    created = decide_creation(INFO, "baku-2026", "Baku", 2026, 2029, None, [])

    assert created.changes == ()


def test_a_plan_creation_reports_every_problem() -> None:
    with pytest.raises(ValidationError) as refused:
        decide_creation(
            INFO,
            "Baku 2026",
            " ",
            2026,
            2025,
            None,
            [
                AddNode(KPI, "Orphan", "k1"),
                AddNode(PRIORITY, "Fine", "p1"),
                AddNode(OUTCOME, "Lost", "o1", "p9"),
            ],
        )

    assert paths_of(refused.value.problems) == [
        ("id",),
        ("title",),
        ("period_end",),
        ("changes", 0, "addNode", "parent_id"),
        ("changes", 2, "addNode", "parent_id"),
    ]


@pytest.mark.parametrize("plan_id", ["Baku", "baku-2026\n", "b", "-baku", "baku_2026"])
def test_a_plan_id_is_a_lowercase_slug(plan_id: str) -> None:
    with pytest.raises(ValidationError) as refused:
        decide_creation(INFO, plan_id, "Baku", 2026, 2029, None, [])

    assert paths_of(refused.value.problems) == [("id",)]


def test_a_plan_period_starts_in_a_plausible_year() -> None:
    with pytest.raises(ValidationError) as refused:
        decide_creation(INFO, "old-plan", "Old", 1850, 1853, None, [])

    assert paths_of(refused.value.problems) == [("period_start",)]


def test_targets_at_creation_are_checked_against_the_new_plans_period() -> None:
    changes = [
        AddNode(PRIORITY, "P", "p1"),
        AddNode(OUTCOME, "O", "o1", "p1"),
        AddNode(KPI, "K", "k1", "o1", values={"targets": (Measurement("2031", Decimal(1)),)}),
    ]

    with pytest.raises(ValidationError) as refused:
        decide_creation(INFO, "baku-2026", "Baku", 2026, 2029, None, changes)
    created = decide_creation(INFO, "long-plan", "Long", 2026, 2031, None, changes)

    assert paths_of(refused.value.problems) == [("changes", 2, "addNode", "targets", 0, "period")]
    assert len(created.changes) == 3
