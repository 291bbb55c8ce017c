"""Decisions: check commands against the current state and turn them into events.

Changes are checked in order against a working copy, so a later change sees an earlier one (add an
outcome, then a KPI under it). Every problem is collected, not just the first, and nothing is
decided unless there are none: an amendment applies whole or not at all.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence

from planapi.domain.activities import activity_problems
from planapi.domain.bounds import range_problems
from planapi.domain.changes import (
    OPERATION_NAMES,
    AddNode,
    Change,
    DeclareLanguages,
    LinkNodes,
    MoveNode,
    RemoveNode,
    SetTranslation,
    UnlinkNodes,
    UpdateNode,
)
from planapi.domain.editions import edition_problems
from planapi.domain.errors import Problem, ValidationError
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
from planapi.domain.field_checks import (
    MAX_CODE,
    MAX_TEXT,
    MAX_TITLE,
    Path,
    code_problems,
    existing,
    fresh_id,
    kinds_message,
    new_id_problems,
    parent_problems,
    position_problems,
    text_problems,
    value_problems,
)
from planapi.domain.links import LINK_RULES, Link
from planapi.domain.nodes import Node, fields_for
from planapi.domain.plan import EMPTY, PlanBuilder, PlanState, updated
from planapi.domain.plan_kinds import PlanKind, creation_problems, node_kind_problems
from planapi.domain.status import (
    PlanStatus,
    amendment_status_problems,
    creation_status_problems,
)
from planapi.domain.translation_rules import declare_languages, set_translation

__all__ = [
    "MAX_CHANGES",
    "MAX_CODE",
    "MAX_TEXT",
    "MAX_TITLE",
    "PLAN_ID",
    "Path",
    "decide_amendment",
    "decide_creation",
    "info_problems",
]

PLAN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}\Z")  # \Z: no trailing newline
MAX_CHANGES = 1_000


def info_problems(info: AmendmentInfo) -> list[Problem]:
    return [
        *text_problems(("rationale",), info.rationale, 10_000, required=True),
        *text_problems(("reference",), info.reference, 500),
    ]


def decide_creation(
    info: AmendmentInfo,
    plan_id: str,
    title: str,
    period_start: int,
    period_end: int,
    description: str | None,
    changes: Sequence[Change],
    *,
    status: PlanStatus = PlanStatus.DRAFT,
    succeeds: str | None = None,
    plan_kind: PlanKind = PlanKind.ACTION_PLAN,
    implements: str | None = None,
    implemented: PlanState | None = None,
) -> PlanCreated:
    """`implemented`: the action plan an operational plan's activities link into."""
    problems = info_problems(info) + creation_problems(plan_kind, implements)
    problems += creation_status_problems(info, plan_id, status, succeeds, plan_kind.value)
    if not PLAN_ID.match(plan_id):
        problems.append(
            Problem(("id",), "must be 2-64 characters of a-z, 0-9 and '-', starting alphanumeric")
        )
    problems += text_problems(("title",), title, MAX_TITLE, required=True)
    problems += text_problems(("description",), description, MAX_TEXT)
    if not 1900 <= period_start <= 2200:
        problems.append(Problem(("period_start",), "must be a year between 1900 and 2200"))
    if period_end < period_start:
        problems.append(Problem(("period_end",), "must not be before period_start"))
    start = dataclasses.replace(
        EMPTY, period_start=period_start, period_end=period_end, plan_kind=plan_kind
    )
    events = _decide_changes(start, changes, problems, implemented, allow_empty=True)
    return PlanCreated(
        plan_id,
        title.strip(),
        period_start,
        period_end,
        description,
        events,
        status=status,
        succeeds=succeeds,
        plan_kind=plan_kind,
        implements=implements,
    )


def decide_amendment(
    state: PlanState,
    info: AmendmentInfo,
    changes: Sequence[Change],
    *,
    status: PlanStatus | None = None,
    succeeds: str | None = None,
    superseded_by: str | None = None,
    edition: int | None = None,
    implemented: PlanState | None = None,
) -> PlanAmended:
    """`edition`: set by the Council's approval of an operational plan."""
    problems = info_problems(info) + edition_problems(state, info, edition)
    problems += amendment_status_problems(state, info, status, succeeds, superseded_by)
    plan_level = status is not None or succeeds is not None or edition is not None
    events = _decide_changes(state, changes, problems, implemented, allow_empty=plan_level)
    return PlanAmended(
        events, status=status, succeeds=succeeds, superseded_by=superseded_by, edition=edition
    )


def _decide_changes(
    state: PlanState,
    changes: Sequence[Change],
    problems: list[Problem],
    implemented: PlanState | None,
    *,
    allow_empty: bool,
) -> tuple[NodeEvent, ...]:
    if not changes and not allow_empty:
        problems.append(Problem(("changes",), "an amendment needs at least one change"))
    if len(changes) > MAX_CHANGES:
        problems.append(Problem(("changes",), f"at most {MAX_CHANGES} changes per amendment"))
    work = PlanBuilder(state, implemented)
    # Ids the amendment asks for by name: a generated id must not take one first.
    reserved = {c.id for c in changes if isinstance(c, AddNode) and c.id is not None}
    events: list[NodeEvent] = []
    for index, change in enumerate(changes):
        path: Path = ("changes", index, OPERATION_NAMES[type(change)])
        found: list[Problem] = []
        decided = _decide(change, work, path, found, reserved)
        if found:
            problems += found
            continue
        for event in decided:
            work.apply(event)
        events += decided
    if problems:
        raise ValidationError(problems)
    return tuple(events)


@functools.singledispatch
def _decide(
    change: Change, work: PlanBuilder, path: Path, problems: list[Problem], reserved: set[str]
) -> list[NodeEvent]:
    """The events `change` amounts to against `work`, adding what is wrong to `problems`.

    `reserved`: ids the amendment names for new nodes, which a generated id must avoid."""
    raise TypeError(f"no decider for {type(change).__name__}")


@_decide.register
def _add(
    change: AddNode, work: PlanBuilder, path: Path, problems: list[Problem], reserved: set[str]
) -> list[NodeEvent]:
    node_id = change.id if change.id is not None else fresh_id(work, change.kind, reserved)
    if "title" in change.values:
        problems.append(Problem((*path, "title"), "give the title once, as the title"))
    if change.id is not None:
        problems += new_id_problems(work, change.id, (*path, "id"))
    problems += node_kind_problems(work.plan_kind, change.kind, (*path, "kind"))
    parent_ok = parent_problems(work, change.kind, change.parent_id, (*path, "parent_id"))
    problems += parent_ok
    problems += text_problems((*path, "title"), change.title, MAX_TITLE, required=True)
    problems += value_problems(work, change.kind, change.values, path)
    node = Node(
        id=node_id, kind=change.kind, title=change.title.strip(), parent_id=change.parent_id
    )
    # Fields that do not apply are reported above; leave them out so an unknown name cannot
    # crash building the node.
    allowed = fields_for(change.kind)
    node = updated(node, {name: v for name, v in change.values.items() if name in allowed})
    if not parent_ok:
        problems += code_problems(work, node, change.parent_id, path)
    problems += activity_problems(work, node, path)
    siblings = len(work.siblings(change.parent_id))
    position = siblings if change.position is None else change.position
    problems += position_problems(position, siblings, (*path, "position"))
    if not problems:
        problems += range_problems(node, change.values, path)
    return [NodeAdded(node, position)]


@_decide.register
def _update(
    change: UpdateNode, work: PlanBuilder, path: Path, problems: list[Problem], reserved: set[str]
) -> list[NodeEvent]:
    node = existing(work, change.id, (*path, "id"), problems)
    if node is None:
        return []
    if not change.values:
        problems.append(Problem((*path,), "names no field to change"))
    if "title" in change.values:
        title = change.values["title"]
        if not isinstance(title, str):
            problems.append(Problem((*path, "title"), "cannot be removed; give a new title"))
        else:
            problems += text_problems((*path, "title"), title, MAX_TITLE, required=True)
    problems += value_problems(work, node.kind, change.values, path)
    values = {
        k: (v.strip() if k == "title" and isinstance(v, str) else v)
        for k, v in change.values.items()
    }
    if not problems:
        problems += code_problems(work, updated(node, values), node.parent_id, path)
        problems += activity_problems(work, updated(node, values), path)
    if not problems:
        problems += range_problems(updated(node, values), values, path)
    return [NodeUpdated(node.id, values)]


@_decide.register
def _remove(
    change: RemoveNode, work: PlanBuilder, path: Path, problems: list[Problem], reserved: set[str]
) -> list[NodeEvent]:
    node = existing(work, change.id, (*path, "id"), problems)
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


@_decide.register
def _move(
    change: MoveNode, work: PlanBuilder, path: Path, problems: list[Problem], reserved: set[str]
) -> list[NodeEvent]:
    node = existing(work, change.id, (*path, "id"), problems)
    if node is None:
        return []
    found = parent_problems(work, node.kind, change.parent_id, (*path, "parent_id"))
    problems += found
    if change.parent_id is not None and (
        change.parent_id == node.id or change.parent_id in work.descendants(node.id)
    ):
        problems.append(Problem((*path, "parent_id"), "cannot move a node under itself"))
        return []
    siblings = [s for s in work.siblings(change.parent_id) if s != node.id]
    position = len(siblings) if change.position is None else change.position
    problems += position_problems(position, len(siblings), (*path, "position"))
    if not found:
        problems += code_problems(work, node, change.parent_id, path)
    return [NodeMoved(node.id, change.parent_id, position)]


def _endpoints(
    change: LinkNodes | UnlinkNodes, work: PlanBuilder, path: Path, problems: list[Problem]
) -> tuple[Node | None, Node | None, Link]:
    source = existing(work, change.from_id, (*path, "from_id"), problems)
    target = existing(work, change.to_id, (*path, "to_id"), problems)
    return source, target, Link(change.from_id, change.to_id, change.relation)


@_decide.register
def _unlink(
    change: UnlinkNodes, work: PlanBuilder, path: Path, problems: list[Problem], reserved: set[str]
) -> list[NodeEvent]:
    source, target, link = _endpoints(change, work, path, problems)
    if source and target and link not in work.links:
        problems.append(
            Problem(
                path,
                f"{link.from_id!r} is not linked to {link.to_id!r} by {link.relation.value}",
            )
        )
    return [NodesUnlinked(link)]


@_decide.register
def _link(
    change: LinkNodes, work: PlanBuilder, path: Path, problems: list[Problem], reserved: set[str]
) -> list[NodeEvent]:
    source, target, link = _endpoints(change, work, path, problems)
    if source is None or target is None:
        return []
    starts, ends = LINK_RULES[change.relation]
    if source.kind not in starts:
        problems.append(
            Problem(
                (*path, "from_id"),
                kinds_message(f"{change.relation.value} links start from", starts, source),
            )
        )
    if target.kind not in ends:
        problems.append(
            Problem(
                (*path, "to_id"),
                kinds_message(f"{change.relation.value} links point to", ends, target),
            )
        )
    if link in work.links:
        problems.append(Problem(path, f"{link.from_id!r} is already linked to {link.to_id!r}"))
    return [NodesLinked(link)]


@_decide.register
def _declare_languages(
    change: DeclareLanguages,
    work: PlanBuilder,
    path: Path,
    problems: list[Problem],
    reserved: set[str],
) -> list[NodeEvent]:
    return declare_languages(change, work, path, problems)


@_decide.register
def _translate(
    change: SetTranslation,
    work: PlanBuilder,
    path: Path,
    problems: list[Problem],
    reserved: set[str],
) -> list[NodeEvent]:
    return set_translation(change, work, path, problems)
