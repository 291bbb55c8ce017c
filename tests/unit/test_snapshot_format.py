"""Snapshot formats 3 and 2 (MessagePack): any state written and read back is the state folded
from the events — action and operational plans, activities with budget lines, milestones, shares
and statuses, languages and translations, links, retired nodes, a plan's status and edition —
and a payload written by format 2 (every field of every node) still reads as that state."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planapi.adapters.snapshot_format import decode_state, encode_state
from planapi.adapters.snapshots import SNAPSHOT_FORMAT, WHOLE_NODES_FORMAT, _holds
from planapi.domain.events import (
    LanguagesDeclared,
    NodeAdded,
    NodeEvent,
    NodeRemoved,
    NodesLinked,
    PlanAmended,
    PlanCreated,
    PlanEvent,
    PlanStatus,
    TextTranslated,
)
from planapi.domain.links import Link, LinkRelation
from planapi.domain.nodes import Node, NodeKind
from planapi.domain.plan import PlanState, fold
from planapi.domain.plan_kinds import PlanKind
from planapi.domain.translations import LANGUAGES
from tests.unit.strategies import FIELD_VALUES, histories

_KINDS = [NodeKind.ACTIVITY, NodeKind.ACTIVITY, NodeKind.KPI, NodeKind.PRIORITY, NodeKind.SECTION]


@st.composite
def _nodes(draw: st.DrawFn) -> list[Node]:
    """Nodes with any stored values (today's rules broken too), each under an earlier one or
    at the top, in the order they were added."""
    nodes: list[Node] = []
    for index in range(draw(st.integers(0, 8))):
        names = draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), unique=True, max_size=8))
        values = {name: draw(FIELD_VALUES[name]) for name in names}
        title = values.pop("title", None) or f"Node {index}"
        parent = draw(st.sampled_from([None, *(node.id for node in nodes)]))
        kind = draw(st.sampled_from(_KINDS))
        nodes.append(Node(id=f"n{index}", kind=kind, title=title, parent_id=parent, **values))  # type: ignore[arg-type]
    return nodes


@st.composite
def _facts(draw: st.DrawFn, nodes: list[Node]) -> list[NodeEvent]:
    """Links, translations, languages, and leaves removed (as a cascade would, deepest first)."""
    ids = [node.id for node in nodes]
    facts: list[NodeEvent] = []
    if len(ids) >= 2:  # one relation a pair, as the link rules allow
        pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=4))
        for a, b in dict.fromkeys(pairs):
            facts.append(NodesLinked(Link(a, b, draw(st.sampled_from(LinkRelation)))))
    if draw(st.booleans()):
        published = tuple(draw(st.lists(st.sampled_from(LANGUAGES), unique=True, min_size=1)))
        facts.append(LanguagesDeclared(published[0], published))
    for node_id in draw(st.lists(st.sampled_from(ids), max_size=3)) if ids else []:
        slot = draw(st.sampled_from(["title", "description", "expected_results[0]"]))
        lang, text = draw(st.sampled_from(LANGUAGES)), draw(st.text(max_size=12))
        facts.append(TextTranslated(node_id, slot, lang, text, "source text"))
    parents = {node.parent_id for node in nodes}
    leaves = [node_id for node_id in ids if node_id not in parents]
    for node_id in draw(st.lists(st.sampled_from(leaves), unique=True)) if leaves else []:
        facts.append(NodeRemoved(node_id))
    return facts


@st.composite
def folded_plans(draw: st.DrawFn) -> PlanState:
    """A plan of any kind folded from a creation and an amendment carrying any facts."""
    kind = draw(st.sampled_from(PlanKind))
    nodes = draw(_nodes())
    positions = {node.parent_id: 0 for node in nodes}
    added: list[NodeEvent] = []
    for node in nodes:
        added.append(NodeAdded(node, positions[node.parent_id]))
        positions[node.parent_id] += 1
    created = PlanCreated(
        plan_id="p",
        title=draw(st.sampled_from(["Plan", "План", ""])),
        period_start=2027,
        period_end=2030,
        description=draw(st.one_of(st.none(), st.text(max_size=8))),
        changes=tuple(added),
        status=draw(st.sampled_from(PlanStatus)),
        succeeds=draw(st.sampled_from([None, "older"])),
        plan_kind=kind,
        implements="baku-2026" if kind is PlanKind.OPERATIONAL_PLAN else None,
    )
    events: list[PlanEvent] = [created]
    if draw(st.booleans()):
        events.append(
            PlanAmended(
                tuple(draw(_facts(nodes))),
                status=draw(st.one_of(st.none(), st.sampled_from(PlanStatus))),
                superseded_by=draw(st.sampled_from([None, "newer"])),
                edition=draw(st.one_of(st.none(), st.integers(1, 4))),
            )
        )
    return fold(events)


def _seen(state: PlanState) -> str:
    """Everything a state holds, as text: a NaN decimal (a value stored before today's rules) is
    unequal to itself, and the order of a mapping or a set is no part of the state."""
    fields = {f.name: getattr(state, f.name) for f in dataclasses.fields(state)}
    for name, value in fields.items():
        if isinstance(value, Mapping):
            fields[name] = sorted(value.items(), key=repr)
        elif isinstance(value, frozenset):
            fields[name] = sorted(value, key=repr)
    return repr(sorted(fields.items(), key=lambda item: item[0]))


@settings(max_examples=200)
@given(folded_plans())
def test_any_state_reads_back_as_folded(state: PlanState) -> None:
    assert _seen(decode_state(encode_state(state))) == _seen(state)


@settings(max_examples=100)
@given(histories())
def test_every_version_of_a_valid_history_reads_back_equal(
    history: tuple[list[PlanEvent], list[PlanState]],
) -> None:
    _, states = history
    for state in states:
        assert decode_state(encode_state(state)) == state


def test_bytes_that_are_not_a_snapshot_are_refused() -> None:
    with pytest.raises(msgspec.DecodeError):
        decode_state(b"\x93not a snapshot")
    with pytest.raises(msgspec.DecodeError):  # a format 1 state's JSON is no format 2 payload
        decode_state(b'{"id": "p", "nodes": []}')


def whole_nodes_payload(state: PlanState) -> bytes:
    """`state` as format 2 wrote it: the same layout, every node with every field, defaults
    too (its nodes were dataclasses, which msgspec encodes whole)."""
    raw = msgspec.msgpack.decode(encode_state(state))
    raw[13] = [msgspec.structs.asdict(node) for node in state.walk()]
    return msgspec.msgpack.encode(raw)


@settings(max_examples=200)
@given(folded_plans())
def test_any_state_written_by_format_2_reads_back_as_folded(state: PlanState) -> None:
    assert _seen(decode_state(whole_nodes_payload(state))) == _seen(state)


@settings(max_examples=200)
@given(folded_plans())
def test_any_state_written_by_format_2_is_checked_as_unaltered(state: PlanState) -> None:
    """An audit after upgrading must not report a format-2 snapshot as tampered with, NaNs
    stored before today's rules included (unequal to themselves once decoded)."""
    assert _holds(WHOLE_NODES_FORMAT, whole_nodes_payload(state), state)
    assert _holds(SNAPSHOT_FORMAT, encode_state(state), state)


@settings(max_examples=200)
@given(folded_plans())
def test_any_node_reads_back_as_it_was(state: PlanState) -> None:
    read = decode_state(encode_state(state))
    assert [repr(node) for node in read.walk()] == [repr(node) for node in state.walk()]


def test_a_node_is_written_with_its_fields_that_differ_from_their_default() -> None:
    priority = Node(id="p1", kind=NodeKind.PRIORITY, title="P", code="1")
    state = fold([PlanCreated("p", "Plan", 2027, 2030, None, (NodeAdded(priority, 0),))])
    nodes = msgspec.msgpack.decode(encode_state(state))[13]
    assert nodes == [{"id": "p1", "kind": "PRIORITY", "title": "P", "code": "1"}]
    assert len(encode_state(state)) < len(whole_nodes_payload(state)) / 3
