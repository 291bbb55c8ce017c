"""Decisions: check commands against the current state and turn them into events.

Changes are checked in order against a working copy, so a later change sees an earlier one (add an
outcome, then a KPI under it). Every problem is collected, not just the first, and nothing is
decided unless there are none: an amendment applies whole or not at all.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from planapi.domain.changes import (
    OPERATION_NAMES,
    AddNode,
    Change,
    LinkNodes,
    MoveNode,
    RemoveNode,
    UnlinkNodes,
    UpdateNode,
)
from planapi.domain.errors import PeriodError, Problem, ValidationError
from planapi.domain.events import (
    AmendmentInfo,
    NodeAdded,
    NodeEvent,
    NodeMoved,
    NodeRemoved,
    NodesLinked,
    NodesUnlinked,
    NodeUpdated,
    PlanAmended,
    PlanCreated,
)
from planapi.domain.links import LINK_RULES, Link
from planapi.domain.nodes import (
    NODE_ID,
    PARENT_KINDS,
    Dimension,
    Measurement,
    Node,
    NodeKind,
    Reference,
    fields_for,
)
from planapi.domain.periods import parse_period
from planapi.domain.plan import EMPTY, PlanBuilder, PlanState, updated

PLAN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}\Z")  # \Z: no trailing newline
MAX_TITLE = 500
MAX_TEXT = 100_000
MAX_CODE = 32
MAX_CHANGES = 1_000

Path = tuple[str | int, ...]
T = TypeVar("T")


def info_problems(info: AmendmentInfo) -> list[Problem]:
    return [
        *_text_problems(("rationale",), info.rationale, 10_000, required=True),
        *_text_problems(("reference",), info.reference, 500),
    ]


def decide_creation(
    info: AmendmentInfo,
    plan_id: str,
    title: str,
    period_start: int,
    period_end: int,
    description: str | None,
    changes: Sequence[Change],
) -> PlanCreated:
    problems = info_problems(info)
    if not PLAN_ID.match(plan_id):
        problems.append(
            Problem(("id",), "must be 2-64 characters of a-z, 0-9 and '-', starting alphanumeric")
        )
    problems += _text_problems(("title",), title, MAX_TITLE, required=True)
    problems += _text_problems(("description",), description, MAX_TEXT)
    if not 1900 <= period_start <= 2200:
        problems.append(Problem(("period_start",), "must be a year between 1900 and 2200"))
    if period_end < period_start:
        problems.append(Problem(("period_end",), "must not be before period_start"))
    start = dataclasses.replace(EMPTY, period_start=period_start, period_end=period_end)
    events = _decide_changes(start, changes, problems, allow_empty=True)
    return PlanCreated(plan_id, title.strip(), period_start, period_end, description, events)


def decide_amendment(
    state: PlanState, info: AmendmentInfo, changes: Sequence[Change]
) -> PlanAmended:
    problems = info_problems(info)
    return PlanAmended(_decide_changes(state, changes, problems, allow_empty=False))


def _decide_changes(
    state: PlanState, changes: Sequence[Change], problems: list[Problem], *, allow_empty: bool
) -> tuple[NodeEvent, ...]:
    if not changes and not allow_empty:
        problems.append(Problem(("changes",), "an amendment needs at least one change"))
    if len(changes) > MAX_CHANGES:
        problems.append(Problem(("changes",), f"at most {MAX_CHANGES} changes per amendment"))
    work = PlanBuilder(state)
    # Ids the amendment asks for by name: a generated id must not take one first.
    reserved = {c.id for c in changes if isinstance(c, AddNode) and c.id is not None}
    events: list[NodeEvent] = []
    for index, change in enumerate(changes):
        path: Path = ("changes", index, OPERATION_NAMES[type(change)])
        found: list[Problem] = []
        decided = _DECIDERS[type(change)](work, change, path, found, reserved)
        if found:
            problems += found
            continue
        for event in decided:
            work.apply(event)
        events += decided
    if problems:
        raise ValidationError(problems)
    return tuple(events)


Decider = Callable[[PlanBuilder, Change, Path, list[Problem], set[str]], list[NodeEvent]]


def _add(
    work: PlanBuilder,
    change: Change,
    path: Path,
    problems: list[Problem],
    reserved: set[str],
) -> list[NodeEvent]:
    assert isinstance(change, AddNode)
    node_id = change.id if change.id is not None else _fresh_id(work, change.kind, reserved)
    if "title" in change.values:
        problems.append(Problem((*path, "title"), "give the title once, as the title"))
    if change.id is not None:
        problems += _new_id_problems(work, change.id, (*path, "id"))
    parent_ok = _parent_problems(work, change.kind, change.parent_id, (*path, "parent_id"))
    problems += parent_ok
    problems += _text_problems((*path, "title"), change.title, MAX_TITLE, required=True)
    problems += _value_problems(work, change.kind, change.values, path)
    node = Node(
        id=node_id, kind=change.kind, title=change.title.strip(), parent_id=change.parent_id
    )
    # Fields that do not apply are reported above; leave them out so an unknown name cannot
    # crash building the node.
    allowed = fields_for(change.kind)
    node = updated(node, {name: v for name, v in change.values.items() if name in allowed})
    if not parent_ok:
        problems += _code_problems(work, node, change.parent_id, path)
    siblings = len(work.siblings(change.parent_id))
    position = siblings if change.position is None else change.position
    problems += _position_problems(position, siblings, (*path, "position"))
    return [NodeAdded(node, position)]


def _update(
    work: PlanBuilder,
    change: Change,
    path: Path,
    problems: list[Problem],
    reserved: set[str],
) -> list[NodeEvent]:
    assert isinstance(change, UpdateNode)
    node = _existing(work, change.id, (*path, "id"), problems)
    if node is None:
        return []
    if not change.values:
        problems.append(Problem((*path,), "names no field to change"))
    if "title" in change.values:
        title = change.values["title"]
        if not isinstance(title, str):
            problems.append(Problem((*path, "title"), "cannot be removed; give a new title"))
        else:
            problems += _text_problems((*path, "title"), title, MAX_TITLE, required=True)
    problems += _value_problems(work, node.kind, change.values, path)
    values = {
        k: (v.strip() if k == "title" and isinstance(v, str) else v)
        for k, v in change.values.items()
    }
    if not problems:
        problems += _code_problems(work, updated(node, values), node.parent_id, path)
    return [NodeUpdated(node.id, values)]


def _remove(
    work: PlanBuilder,
    change: Change,
    path: Path,
    problems: list[Problem],
    reserved: set[str],
) -> list[NodeEvent]:
    assert isinstance(change, RemoveNode)
    node = _existing(work, change.id, (*path, "id"), problems)
    if node is None:
        return []
    doomed = work.descendants(node.id)
    if doomed and not change.cascade:
        problems.append(
            Problem(
                (*path, "cascade"),
                f"node {node.id!r} has {len(doomed)} descendant(s); "
                "set cascade: true to remove them too",
            )
        )
        return []
    doomed.append(node.id)
    gone = set(doomed)
    unlinked: list[NodeEvent] = [
        NodesUnlinked(link)
        for link in sorted(work.links)
        if link.from_id in gone or link.to_id in gone
    ]
    return [*unlinked, *(NodeRemoved(node_id) for node_id in doomed)]


def _move(
    work: PlanBuilder,
    change: Change,
    path: Path,
    problems: list[Problem],
    reserved: set[str],
) -> list[NodeEvent]:
    assert isinstance(change, MoveNode)
    node = _existing(work, change.id, (*path, "id"), problems)
    if node is None:
        return []
    parent_problems = _parent_problems(work, node.kind, change.parent_id, (*path, "parent_id"))
    problems += parent_problems
    if change.parent_id is not None and (
        change.parent_id == node.id or change.parent_id in work.descendants(node.id)
    ):
        problems.append(Problem((*path, "parent_id"), "cannot move a node under itself"))
        return []
    siblings = [s for s in work.siblings(change.parent_id) if s != node.id]
    position = len(siblings) if change.position is None else change.position
    problems += _position_problems(position, len(siblings), (*path, "position"))
    if not parent_problems:
        problems += _code_problems(work, node, change.parent_id, path)
    return [NodeMoved(node.id, change.parent_id, position)]


def _link(
    work: PlanBuilder,
    change: Change,
    path: Path,
    problems: list[Problem],
    reserved: set[str],
) -> list[NodeEvent]:
    assert isinstance(change, LinkNodes | UnlinkNodes)
    source = _existing(work, change.from_id, (*path, "from_id"), problems)
    target = _existing(work, change.to_id, (*path, "to_id"), problems)
    link = Link(change.from_id, change.to_id, change.relation)
    if isinstance(change, UnlinkNodes):
        if source and target and link not in work.links:
            problems.append(
                Problem(
                    path,
                    f"{link.from_id!r} is not linked to {link.to_id!r} by {link.relation.value}",
                )
            )
        return [NodesUnlinked(link)]
    if source is None or target is None:
        return []
    starts, ends = LINK_RULES[change.relation]
    if source.kind not in starts:
        problems.append(
            Problem(
                (*path, "from_id"),
                _kinds_message(f"{change.relation.value} links start from", starts, source),
            )
        )
    if target.kind not in ends:
        problems.append(
            Problem(
                (*path, "to_id"),
                _kinds_message(f"{change.relation.value} links point to", ends, target),
            )
        )
    if link in work.links:
        problems.append(Problem(path, f"{link.from_id!r} is already linked to {link.to_id!r}"))
    return [NodesLinked(link)]


_DECIDERS: dict[type[Change], Decider] = {
    AddNode: _add,
    UpdateNode: _update,
    RemoveNode: _remove,
    MoveNode: _move,
    LinkNodes: _link,
    UnlinkNodes: _link,
}


# -- single checks ---------------------------------------------------------------------------
def _existing(work: PlanBuilder, node_id: str, path: Path, problems: list[Problem]) -> Node | None:
    node = work.nodes.get(node_id)
    if node is None:
        problems.append(Problem(path, _missing(work, node_id)))
    return node


def _missing(work: PlanBuilder, node_id: str) -> str:
    if node_id in work.retired:
        return f"node {node_id!r} was removed"
    return f"no node {node_id!r} in this plan"


def _new_id_problems(work: PlanBuilder, node_id: str, path: Path) -> list[Problem]:
    if not NODE_ID.match(node_id):
        return [Problem(path, "must be 1-80 characters of a-z, 0-9, '.', '_' and '-'")]
    if node_id in work.nodes:
        return [Problem(path, f"node {node_id!r} already exists")]
    if node_id in work.retired:
        return [Problem(path, f"{node_id!r} belonged to a removed node; ids are never reused")]
    return []


def _fresh_id(work: PlanBuilder, kind: NodeKind, reserved: set[str]) -> str:
    prefix = kind.value.lower().replace("_", "-")
    number = len(work.nodes) + len(work.retired) + 1
    taken = work.nodes.keys() | work.retired | reserved
    while f"{prefix}-{number}" in taken:
        number += 1
    return f"{prefix}-{number}"


def _parent_problems(
    work: PlanBuilder, kind: NodeKind, parent_id: str | None, path: Path
) -> list[Problem]:
    allowed = PARENT_KINDS[kind]
    if parent_id is None:
        if None in allowed:
            return []
        return [Problem(path, f"a {kind.value} needs a parent: {_names(allowed)}")]
    parent = work.nodes.get(parent_id)
    if parent is None:
        return [Problem(path, _missing(work, parent_id))]
    if parent.kind not in allowed:
        where = _names(allowed) if allowed - {None} else "the plan itself"
        return [
            Problem(
                path, f"a {kind.value} cannot sit under a {parent.kind.value} (allowed: {where})"
            )
        ]
    return []


def _code_problems(
    work: PlanBuilder, node: Node, parent_id: str | None, path: Path
) -> list[Problem]:
    if node.code is None:
        return []
    for sibling_id in work.siblings(parent_id):
        sibling = work.nodes[sibling_id]
        if sibling.id != node.id and sibling.kind is node.kind and sibling.code == node.code:
            return [
                Problem(
                    (*path, "code"),
                    f"code {node.code!r} is already used by {sibling.id!r} under the same parent",
                )
            ]
    return []


def _position_problems(position: int, siblings: int, path: Path) -> list[Problem]:
    if 0 <= position <= siblings:
        return []
    return [Problem(path, f"must be between 0 and {siblings}")]


def _text_problems(
    path: Path, text: str | None, limit: int, *, required: bool = False
) -> list[Problem]:
    if text is None or not text.strip():
        return [Problem(path, "must not be empty")] if required or text is not None else []
    if len(text) > limit:
        return [Problem(path, f"must be at most {limit} characters")]
    return []


def _value_problems(
    work: PlanBuilder, kind: NodeKind, values: Mapping[str, object], path: Path
) -> list[Problem]:
    problems: list[Problem] = []
    allowed = fields_for(kind)
    for name, value in values.items():
        if name not in allowed:
            problems.append(Problem((*path, name), f"does not apply to a {kind.value}"))
            continue
        check = _FIELD_CHECKS.get(name)
        if check is not None and value is not None:
            problems += check(work, value, (*path, name))
    return problems


def _check_code(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    text = str(value)
    if not text.strip() or len(text) > MAX_CODE or text != text.strip():
        return [Problem(path, f"must be 1-{MAX_CODE} characters without surrounding spaces")]
    return []


def _check_text(limit: int) -> Callable[[PlanBuilder, object, Path], list[Problem]]:
    def check(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
        return _text_problems(path, str(value), limit)

    return check


def _check_references(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[object, str]] = set()
    for i, ref in enumerate(_items(value, Reference)):
        problems += _text_problems((*path, i, "code"), ref.code, 100, required=True)
        key = (ref.vocabulary, ref.code)
        if key in seen:
            problems.append(Problem((*path, i), "the same reference is given twice"))
        seen.add(key)
    return problems


def _check_measurement(
    work: PlanBuilder, value: Measurement, path: Path, *, target: bool
) -> list[Problem]:
    problems: list[Problem] = []
    try:
        period = parse_period(value.period)
    except PeriodError as error:
        problems.append(Problem((*path, "period"), str(error)))
    else:
        if target and not work.period_start <= period.year <= work.period_end:
            problems.append(
                Problem(
                    (*path, "period"),
                    f"{value.period} is outside the plan "
                    f"period {work.period_start}-{work.period_end}",
                )
            )
    if not value.value.is_finite():
        problems.append(Problem((*path, "value"), "must be a finite number"))
    return problems


def _check_baseline(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    assert isinstance(value, Measurement)
    return _check_measurement(work, value, path, target=False)


def _check_targets(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, target in enumerate(_items(value, Measurement)):
        problems += _check_measurement(work, target, (*path, i), target=True)
        if target.period in seen:
            problems.append(Problem((*path, i, "period"), f"{target.period} has two targets"))
        seen.add(target.period)
    return problems


def _check_dimensions(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, dimension in enumerate(_items(value, Dimension)):
        problems += _text_problems((*path, i, "name"), dimension.name, 64, required=True)
        if dimension.name in seen:
            problems.append(Problem((*path, i, "name"), f"{dimension.name!r} is declared twice"))
        seen.add(dimension.name)
        if len(set(dimension.values)) != len(dimension.values):
            problems.append(Problem((*path, i, "values"), "values must be distinct"))
    return problems


def _check_distinct(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    items = _items(value, enum.Enum)
    if len(set(items)) != len(items):
        return [Problem(path, "each value may be given once")]
    return []


def _check_expected_results(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    problems: list[Problem] = []
    for i, item in enumerate(_items(value, str)):
        problems += _text_problems((*path, i), item, MAX_TEXT, required=True)
    return problems


def _items(value: object, kind: type[T]) -> list[T]:
    assert isinstance(value, tuple)
    return [item for item in value if isinstance(item, kind)]


_FIELD_CHECKS: dict[str, Callable[[PlanBuilder, object, Path], list[Problem]]] = {
    "code": _check_code,
    "description": _check_text(MAX_TEXT),
    "unit": _check_text(100),
    "objective": _check_text(MAX_TEXT),
    "number": _check_text(32),
    "revision": _check_text(200),
    "references": _check_references,
    "baseline": _check_baseline,
    "targets": _check_targets,
    "dimensions": _check_dimensions,
    "expected_results": _check_expected_results,
    "period_types": _check_distinct,
    "contents": _check_distinct,
}


def _names(kinds: frozenset[NodeKind | None]) -> str:
    return ", ".join(sorted(kind.value for kind in kinds if kind is not None))


def _kinds_message(prefix: str, kinds: frozenset[NodeKind], node: Node) -> str:
    return f"{prefix} {_names(frozenset(kinds))}, not a {node.kind.value} ({node.id!r})"
