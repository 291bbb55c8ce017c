"""A node's history and blame, straight from the domain (domain/history.py): examples an auditor
would check by hand, then properties over random valid histories."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings

from planapi.domain.changes import (
    AddNode,
    Change,
    LinkNodes,
    MoveNode,
    RemoveNode,
    UnlinkNodes,
    UpdateNode,
)
from planapi.domain.decide import decide_amendment
from planapi.domain.diff import FieldChange
from planapi.domain.events import PlanAmended, PlanEvent
from planapi.domain.history import (
    PARENT,
    FieldOrigin,
    NodeChange,
    NodeChangeKind,
    blame,
    node_history,
    touched_nodes,
)
from planapi.domain.links import Link, LinkRelation
from planapi.domain.nodes import LIST_FIELDS, Node, NodeKind, field_values
from planapi.domain.plan import EMPTY, PlanBuilder, PlanState, fold
from tests.unit.strategies import INFO, PLAN_END, PLAN_START, create, histories

History = tuple[list[PlanEvent], list[PlanState]]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ADDED, UPDATED, MOVED = NodeChangeKind.ADDED, NodeChangeKind.UPDATED, NodeChangeKind.MOVED
REMOVED, LINKED, UNLINKED = NodeChangeKind.REMOVED, NodeChangeKind.LINKED, NodeChangeKind.UNLINKED


class Log:
    """A plan's events as the store numbers them (version, event), grown one amendment at a time."""

    def __init__(self, *changes: Change) -> None:
        self.events: list[PlanEvent] = [create(*changes)]
        self.states = [fold(self.events)]

    def amend(self, *changes: Change) -> PlanState:
        event = decide_amendment(self.states[-1], INFO, changes)
        self.events.append(event)
        self.states.append(fold([event], self.states[-1]))
        return self.states[-1]

    def numbered(self, upto: int | None = None) -> list[tuple[int, PlanEvent]]:
        return list(enumerate(self.events, start=1))[:upto]

    def history(self, node_id: str, upto: int | None = None) -> list[NodeChange]:
        return node_history(node_id, self.numbered(upto))

    def blame(self, node_id: str, upto: int | None = None) -> dict[str, tuple[object, int]]:
        state = self.states[(upto or len(self.states)) - 1]
        node = state.nodes[node_id]
        return {o.field: (o.value, o.version) for o in blame(node, self.history(node_id, upto))}


def kinds(history: list[NodeChange]) -> list[tuple[int, NodeChangeKind]]:
    return [(change.version, change.kind) for change in history]


def fields(change: NodeChange) -> dict[str, tuple[object, object]]:
    return {f.field: (f.before, f.after) for f in change.fields}


def baku() -> Log:
    return Log(
        AddNode(NodeKind.PRIORITY, "Affordable connectivity", "p1", values={"code": "1"}),
        AddNode(NodeKind.PRIORITY, "Digital transformation", "p2", values={"code": "2"}),
        AddNode(
            NodeKind.OUTCOME,
            "Broadband for all",
            "o1",
            "p1",
            values={"code": "1.1", "description": "More people online."},
        ),
        AddNode(NodeKind.OUTPUT, "Toolkits", "out-1"),
    )


# -- examples ----------------------------------------------------------------------------------
def test_a_node_added_at_creation_has_one_entry_listing_every_field_it_was_given() -> None:
    log = baku()

    [entry] = log.history("o1")

    assert (entry.version, entry.kind, entry.link) == (1, ADDED, None)
    assert fields(entry) == {
        PARENT: (None, "p1"),
        "code": (None, "1.1"),
        "title": (None, "Broadband for all"),
        "description": (None, "More people online."),
    }, "empty fields (no references) are left out"


def test_a_title_changed_twice_shows_each_change_with_its_before_and_after() -> None:
    log = baku()
    log.amend(UpdateNode("o1", {"title": "Broadband for everyone"}))
    log.amend(UpdateNode("p2", {"title": "Something else"}))  # another node: not in o1's history
    log.amend(UpdateNode("o1", {"title": "Meaningful connectivity"}))

    history = log.history("o1")

    assert kinds(history) == [(1, ADDED), (2, UPDATED), (4, UPDATED)]
    assert fields(history[1]) == {"title": ("Broadband for all", "Broadband for everyone")}
    assert fields(history[2]) == {"title": ("Broadband for everyone", "Meaningful connectivity")}
    assert log.blame("o1") == {
        PARENT: ("p1", 1),
        "code": ("1.1", 1),
        "title": ("Meaningful connectivity", 4),
        "description": ("More people online.", 1),
    }


def test_an_update_lists_only_the_fields_whose_value_changed() -> None:
    log = baku()
    log.amend(UpdateNode("o1", {"title": "Broadband for all", "code": "1.2"}))

    [_, update] = log.history("o1")

    assert update.kind is UPDATED
    assert fields(update) == {"code": ("1.1", "1.2")}, "the title was set to what it was"
    assert log.blame("o1")["title"] == ("Broadband for all", 1)


def test_a_cleared_field_is_blamed_on_the_amendment_that_cleared_it() -> None:
    log = baku()
    log.amend(UpdateNode("o1", {"description": None}))

    [_, cleared] = log.history("o1")

    assert fields(cleared) == {"description": ("More people online.", None)}
    assert log.blame("o1")["description"] == (None, 2)
    assert "references" not in log.blame("o1"), "a field never set is not blamed on anyone"


def test_reading_an_older_version_leaves_out_later_amendments() -> None:
    log = baku()
    log.amend(UpdateNode("o1", {"title": "Broadband for everyone"}))
    log.amend(UpdateNode("o1", {"title": "Meaningful connectivity"}))

    assert kinds(log.history("o1", upto=2)) == [(1, ADDED), (2, UPDATED)]
    assert log.blame("o1", upto=2)["title"] == ("Broadband for everyone", 2)
    assert log.blame("o1", upto=1)["title"] == ("Broadband for all", 1)


def test_a_move_to_another_parent_is_blamed_for_the_parent_and_nothing_else() -> None:
    log = baku()
    log.amend(MoveNode("o1", "p2"))

    [_, moved] = log.history("o1")

    assert moved.kind is MOVED
    assert moved.fields == (FieldChange(PARENT, "p1", "p2"),)
    blamed = log.blame("o1")
    assert blamed[PARENT] == ("p2", 2)
    assert blamed["title"] == ("Broadband for all", 1)


def test_a_reorder_under_the_same_parent_is_a_move_that_changes_no_field() -> None:
    log = baku()
    log.amend(MoveNode("p2", None, 0))

    [_, moved] = log.history("p2")

    assert (moved.version, moved.kind, moved.fields) == (2, MOVED, ())
    assert PARENT not in log.blame("p2"), "a priority has no parent to blame"


def test_links_show_on_both_ends_as_linked_then_unlinked() -> None:
    log = baku()
    log.amend(LinkNodes("out-1", "p1", LinkRelation.SERVES))
    log.amend(UnlinkNodes("out-1", "p1", LinkRelation.SERVES))
    link = Link("out-1", "p1", LinkRelation.SERVES)

    for end in ("out-1", "p1"):
        history = log.history(end)
        assert kinds(history) == [(1, ADDED), (2, LINKED), (3, UNLINKED)], end
        assert history[1].link == history[2].link == link
        assert history[1].fields == history[2].fields == ()
    assert kinds(log.history("p2")) == [(1, ADDED)], "a node the link never touched"


def test_a_removed_node_history_ends_with_removed_and_its_links_go_first() -> None:
    log = baku()
    log.amend(LinkNodes("out-1", "o1", LinkRelation.SERVES))
    log.amend(RemoveNode("p1", cascade=True))

    outcome, priority, output = log.history("o1"), log.history("p1"), log.history("out-1")

    assert kinds(outcome) == [(1, ADDED), (2, LINKED), (3, UNLINKED), (3, REMOVED)]
    assert kinds(priority) == [(1, ADDED), (3, REMOVED)], "the cascade names each node it took"
    assert kinds(output) == [(1, ADDED), (2, LINKED), (3, UNLINKED)], "the other end sees it go"
    assert outcome[-1].fields == ()
    assert outcome[-1].link is None


def test_blame_of_a_node_added_later_points_at_the_amendment_that_added_it() -> None:
    log = baku()
    log.amend(
        AddNode(NodeKind.KPI, "Individuals online", "k1", "o1", values={"unit": "%"}),
        UpdateNode("k1", {"code": "1.1.1"}),
    )
    log.amend(UpdateNode("k1", {"unit": "percent"}))

    assert kinds(log.history("k1")) == [(2, ADDED), (2, UPDATED), (3, UPDATED)]
    assert log.blame("k1") == {
        PARENT: ("o1", 2),
        "code": ("1.1.1", 2),
        "title": ("Individuals online", 2),
        "unit": ("percent", 3),
    }


def test_history_ignores_events_that_touch_other_nodes_only() -> None:
    log = baku()
    log.amend(UpdateNode("p2", {"code": "9"}), AddNode(NodeKind.OUTPUT, "Data", "out-2"))

    assert kinds(log.history("o1")) == [(1, ADDED)]
    assert log.history("no-such-node") == []


def test_blame_takes_the_node_as_given_and_falls_back_to_its_addition() -> None:
    node = Node("x", NodeKind.OUTPUT, "Toolkits", description="Guides.")
    added = NodeChange(3, ADDED, (FieldChange("title", None, "Toolkits"),))

    found = blame(node, [added])

    assert found == [
        FieldOrigin("title", "Toolkits", 3),
        FieldOrigin("description", "Guides.", 3),
    ], "a value with no recorded change dates from the node's addition"


# -- properties --------------------------------------------------------------------------------
def _field_map(node: Node) -> dict[str, object]:
    return {PARENT: node.parent_id, **field_values(node)}


def _empty(name: str) -> object:
    return () if name in LIST_FIELDS else None


@dataclasses.dataclass
class Truth:
    """What an auditor would work out by replaying the log change by change."""

    last_set: dict[str, dict[str, int]]  # node → field → version whose change last altered it
    touched_after_add: dict[str, set[str]]  # fields altered after the change that added the node
    removed_at: dict[str, int]
    at_version: list[dict[str, tuple[dict[str, int], set[str]]]]  # per version, per live node


def _replay(events: list[PlanEvent]) -> Truth:
    start = dataclasses.replace(EMPTY, period_start=PLAN_START, period_end=PLAN_END)
    builder = PlanBuilder(start)
    truth = Truth({}, {}, {}, [])
    for version, event in enumerate(events, start=1):
        for change in event.changes:
            ids = touched_nodes(PlanAmended((change,)))
            before = {i: _field_map(builder.nodes[i]) for i in ids if i in builder.nodes}
            builder.apply(change)
            for node_id in ids:
                if node_id not in builder.nodes:
                    truth.removed_at[node_id] = version
                    continue
                after = _field_map(builder.nodes[node_id])
                last = truth.last_set.setdefault(node_id, {})
                if node_id not in before:
                    last.update(dict.fromkeys(after, version))
                    truth.touched_after_add[node_id] = set()
                    continue
                for name, value in after.items():
                    if before[node_id].get(name) != value:
                        last[name] = version
                        truth.touched_after_add[node_id].add(name)
        builder.version += 1
        truth.at_version.append(
            {
                node_id: (dict(truth.last_set[node_id]), set(truth.touched_after_add[node_id]))
                for node_id in builder.nodes
            }
        )
    return truth


@FAST
@given(histories())
def test_blame_names_the_last_version_whose_change_altered_each_field(history: History) -> None:
    events, states = history
    truth = _replay(events)
    numbered = list(enumerate(events, start=1))

    for version, state in enumerate(states, start=1):
        for node_id, node in state.nodes.items():
            found = blame(node, node_history(node_id, numbered[:version]))
            last_set, touched_later = truth.at_version[version - 1][node_id]
            values = _field_map(node)
            expected = {
                name: last_set[name]
                for name, value in values.items()
                if value != _empty(name) or name in touched_later
            }
            assert {o.field: o.version for o in found} == expected, (node_id, version)
            assert all(o.value == values[o.field] for o in found)


@FAST
@given(histories())
def test_replaying_history_after_values_from_added_rebuilds_the_node(history: History) -> None:
    events, states = history
    numbered = list(enumerate(events, start=1))

    for version, state in enumerate(states, start=1):
        for node_id, node in state.nodes.items():
            changes = node_history(node_id, numbered[:version])
            assert changes[0].kind is ADDED
            assert REMOVED not in {c.kind for c in changes}
            rebuilt: dict[str, object] = {}
            for change in changes:
                for field in change.fields:
                    # Before its addition the node had no value at all, not an empty one.
                    was = (
                        None
                        if change.kind is ADDED
                        else rebuilt.get(field.field, _empty(field.field))
                    )
                    assert field.before == was, (node_id, change)
                    rebuilt[field.field] = field.after
            values = _field_map(node)
            assert {name: rebuilt.get(name, _empty(name)) for name in values} == values
            assert set(rebuilt) <= set(values)


@FAST
@given(histories())
def test_history_has_an_entry_for_exactly_the_versions_the_store_indexes(history: History) -> None:
    events, _ = history
    numbered = list(enumerate(events, start=1))
    truth = _replay(events)
    everyone = {node_id for _, event in numbered for node_id in touched_nodes(event)}

    for node_id in everyone:
        changes = node_history(node_id, numbered)
        indexed = [v for v, event in numbered if node_id in touched_nodes(event)]
        assert sorted({c.version for c in changes}) == indexed, node_id
        assert [c.version for c in changes] == sorted(c.version for c in changes), "oldest first"
        assert changes[0].kind is ADDED
        if node_id in truth.removed_at:
            assert (changes[-1].version, changes[-1].kind) == (truth.removed_at[node_id], REMOVED)
            assert [c.kind for c in changes].count(REMOVED) == 1
        for change in changes:
            if change.kind in (LINKED, UNLINKED):
                assert change.link is not None
                assert change.link.touches(node_id)
            else:
                assert change.link is None
