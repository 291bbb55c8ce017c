"""Properties over random histories of valid amendments, and over random (possibly bad) changes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planapi.domain.decide import decide_amendment
from planapi.domain.diff import PlanDiff, diff
from planapi.domain.errors import ValidationError
from planapi.domain.events import PlanEvent
from planapi.domain.links import Link
from planapi.domain.nodes import Node
from planapi.domain.plan import PlanState, fold
from tests.unit.strategies import INFO, any_change, copy_of, histories

History = tuple[list[PlanEvent], list[PlanState]]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass
class Patched:
    nodes: dict[str, Node]
    children: dict[str | None, list[str]]
    links: set[Link]


def patch(before: PlanState, changes: PlanDiff, source: PlanState) -> Patched:
    """`before` with `changes` applied. A diff names added nodes without their fields: those are
    read from `source`, the state the diff was taken to."""
    nodes = dict(before.nodes)
    children = {parent: list(kids) for parent, kids in before.children.items()}

    def detach(node_id: str) -> None:
        children[nodes[node_id].parent_id].remove(node_id)

    for node_id in changes.removed:
        detach(node_id)
        del nodes[node_id]
    for change in changes.changed:
        after = {f.field: f.after for f in change.fields}
        nodes[change.node_id] = msgspec.structs.replace(nodes[change.node_id], **after)
    arrivals: list[tuple[str | None, int, str]] = []
    for move in changes.moved:
        assert nodes[move.node_id].parent_id == move.from_parent_id
        assert before.position_of(move.node_id) == move.from_position
        detach(move.node_id)
        nodes[move.node_id] = msgspec.structs.replace(
            nodes[move.node_id], parent_id=move.to_parent_id
        )
        arrivals.append((move.to_parent_id, move.to_position, move.node_id))
    for placement in changes.added:
        assert placement.node_id not in nodes
        nodes[placement.node_id] = source.nodes[placement.node_id]
        assert nodes[placement.node_id].parent_id == placement.parent_id
        arrivals.append((placement.parent_id, placement.position, placement.node_id))
    for parent_id, position, node_id in sorted(arrivals, key=lambda a: (a[0] or "", a[1])):
        children.setdefault(parent_id, []).insert(position, node_id)
    links = (set(before.links) - set(changes.links_removed)) | set(changes.links_added)
    return Patched(nodes, {p: kids for p, kids in children.items() if kids}, links)


def as_patched(state: PlanState) -> Patched:
    return Patched(
        dict(state.nodes),
        {parent: list(kids) for parent, kids in state.children.items()},
        set(state.links),
    )


@FAST
@given(histories())
def test_a_diff_applied_to_the_earlier_version_gives_the_later_one(history: History) -> None:
    _, states = history

    for a, earlier in enumerate(states):
        for later in states[a + 1 :]:
            assert patch(earlier, diff(earlier, later), later) == as_patched(later)


@FAST
@given(histories())
def test_a_version_compared_with_itself_shows_no_change(history: History) -> None:
    _, states = history

    assert all(diff(state, state).is_empty for state in states)
    assert all(diff(state, copy_of(state)).is_empty for state in states)


@FAST
@given(histories(), st.data())
def test_folding_in_two_steps_gives_the_same_state_as_in_one(
    history: History, data: st.DataObject
) -> None:
    events, states = history
    split = data.draw(st.integers(0, len(events)), label="split")

    in_two = fold(events[split:], fold(events[:split]) if split else None)

    assert fold(events) == in_two == states[-1]
    assert in_two.version == len(events)


@FAST
@given(histories())
def test_each_version_keeps_its_state_whatever_comes_after(history: History) -> None:
    events, states = history

    for version, state in enumerate(states, start=1):
        assert fold(events[:version]) == state
        assert state.version == version


@FAST
@given(histories(), st.data())
def test_deciding_random_changes_either_succeeds_or_refuses_with_problems(
    history: History, data: st.DataObject
) -> None:
    _, states = history
    state = data.draw(st.sampled_from(states), label="state")
    changes = data.draw(st.lists(any_change(state), max_size=5), label="changes")
    rationale = data.draw(st.sampled_from(["Agreed.", "", " "]), label="rationale")
    info = dataclasses.replace(INFO, rationale=rationale)
    before = copy_of(state)

    refused: ValidationError | None = None
    try:
        event = decide_amendment(state, info, changes)
    except ValidationError as error:
        refused = error

    assert state == before
    if refused is not None:
        assert refused.problems
        assert all(problem.message for problem in refused.problems)
        return
    assert changes
    after = fold([event], state)
    assert after.version == state.version + 1
    # Whatever is accepted leaves a well-formed state: every node listed under its parent.
    for node in after.nodes.values():
        assert node.id in after.children[node.parent_id]
        assert node.parent_id is None or node.parent_id in after.nodes
    assert all(link.from_id in after.nodes and link.to_id in after.nodes for link in after.links)
    assert state == before  # folding the accepted event made a new state
