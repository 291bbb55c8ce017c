"""The three-way merge of a proposal drafted against an older version (its base) into the plan
as it stands now (current), per node and field.

The proposal's intent is what differs between the base and the base with the proposal applied
("ours"); what the plan did meanwhile is what differs between the base and current ("theirs").
Changes to different nodes or fields both apply. The same field changed to different values on
both sides, a node removed on one side and changed on the other, a parent removed meanwhile, a
link to a node removed meanwhile, siblings placed under the same parent on both sides, and an id
taken meanwhile are conflicts named by node and field. What merges is expressed as changes
against the current version and decided again, so the merged result passes every check a
direct amendment passes, and whatever decide refuses (a duplicate code…) is a conflict too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
from planapi.domain.diff import _longest_kept_order as longest_kept_order
from planapi.domain.errors import Problem, ValidationError
from planapi.domain.events import AmendmentInfo, PlanAmended
from planapi.domain.nodes import Node, field_values
from planapi.domain.plan import PlanState, fold

NOTHING_LEFT = "nothing left to apply: the current version already makes every change proposed"
NODE_CHANGES = (AddNode, UpdateNode, RemoveNode, MoveNode, LinkNodes, UnlinkNodes)


@dataclass(frozen=True, slots=True, order=True)
class Conflict:
    """Why part of a proposal cannot apply to the current version, named by node and field
    (`None`: the amendment as a whole, or no single field)."""

    node_id: str | None
    field: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Merged:
    """The proposal rebased onto the current version: the changes that would apply, and either
    the conflicts or the amendment and the plan it would make."""

    changes: tuple[Change, ...]
    conflicts: tuple[Conflict, ...]
    event: PlanAmended | None
    state: PlanState | None

    @property
    def clean(self) -> bool:
        return not self.conflicts


def proposed(base: PlanState, changes: Sequence[Change], info: AmendmentInfo) -> PlanState:
    """The base with the proposal applied (ValidationError when it does not apply there)."""
    return fold([decide_amendment(base, info, changes)], base)


def merge(
    base: PlanState, current: PlanState, changes: Sequence[Change], info: AmendmentInfo
) -> Merged:
    """The proposal's `changes`, drafted against `base`, merged into `current`."""
    if current.version == base.version:
        # Nothing moved since the draft: the proposal applies exactly as written.
        return validated(current, tuple(changes), info)
    ours = proposed(base, changes, info)
    named = {c.id for c in changes if isinstance(c, AddNode) and c.id is not None}
    rebase = _Rebase(base, current, ours, named)
    rebase.run()
    # Changes this merge does not know (later change types) carry over as written.
    rebased = (*rebase.changes, *(c for c in changes if not isinstance(c, NODE_CHANGES)))
    if rebase.conflicts:
        return Merged(rebased, tuple(sorted(set(rebase.conflicts), key=_order)), None, None)
    if not rebased:
        return Merged((), (Conflict(None, "changes", NOTHING_LEFT),), None, None)
    return validated(current, rebased, info)


def validated(current: PlanState, changes: tuple[Change, ...], info: AmendmentInfo) -> Merged:
    try:
        event = decide_amendment(current, info, changes)
    except ValidationError as refused:
        found = {_conflict_of(problem, changes) for problem in refused.problems}
        return Merged(changes, tuple(sorted(found, key=_order)), None, None)
    return Merged(changes, (), event, fold([event], current))


def _order(conflict: Conflict) -> tuple[str, str, str]:
    return (conflict.node_id or "", conflict.field or "", conflict.message)


def _conflict_of(problem: Problem, changes: Sequence[Change]) -> Conflict:
    path = problem.path
    if len(path) >= 3 and path[0] == "changes" and isinstance(path[1], int):
        change = changes[path[1]]
        node_id = _node_of(change)
        field = next((str(step) for step in path[3:] if isinstance(step, str)), None)
        if field in ("from_id", "to_id"):
            field = "links"
        return Conflict(node_id, field, problem.message)
    return Conflict(None, str(path[0]) if path else None, problem.message)


def _node_of(change: object) -> str | None:
    # `object`: change types added later (the plan's own fields) name no node.
    if isinstance(change, AddNode | UpdateNode | RemoveNode | MoveNode):
        return change.id
    if isinstance(change, LinkNodes | UnlinkNodes):
        return change.from_id
    return None


def _values(node: Node) -> dict[str, object]:
    """What an AddNode needs besides kind and title: every field that is set."""
    return {
        name: value
        for name, value in field_values(node).items()
        if name != "title" and value is not None and value != ()
    }


_NOWHERE = object()


class _Rebase:
    """Ours (base → proposal) re-expressed as changes against current, with the conflicts."""

    def __init__(self, base: PlanState, current: PlanState, ours: PlanState, named: set[str]):
        self.base, self.current, self.ours = base, current, ours
        self.changes: list[Change] = []
        self.conflicts: list[Conflict] = []
        self.theirs_removed = base.nodes.keys() - current.nodes.keys()
        self.ours_removed = base.nodes.keys() - ours.nodes.keys()
        self.ours_placed = _placed(base, ours)
        self.theirs_placed = _placed(base, current)
        self.theirs_parents = set(self.theirs_placed.values())
        self.rename = _renames(base, current, ours, named)
        # Children lists and parents as the rebased changes leave them so far (copy on write).
        self.kids: dict[str | None, list[str]] = {}
        self.parent: dict[str, str | None] = {}
        self.deferred: list[str] = []

    def run(self) -> None:
        self._unlinks()
        self._removals()
        self._updates()
        self._placements()
        for node_id in self.deferred:
            self._remove(node_id)
        self._links()

    def _r(self, node_id: str | None) -> str | None:
        return None if node_id is None else self.rename.get(node_id, node_id)

    def _id(self, node_id: str) -> str:
        return self.rename.get(node_id, node_id)

    def conflict(self, node_id: str | None, field: str | None, message: str) -> None:
        self.conflicts.append(Conflict(node_id, field, message))

    # -- links and removals ---------------------------------------------------------------
    def _unlinks(self) -> None:
        for link in sorted(self.base.links - self.ours.links):
            if link in self.current.links:
                self.changes.append(UnlinkNodes(link.from_id, link.to_id, link.relation))

    def _removals(self) -> None:
        covered: set[str] = set()
        for node in self.base.walk():
            top = node.parent_id is None or node.parent_id not in self.ours_removed
            if node.id not in self.ours_removed or not top or node.id in self.theirs_removed:
                continue
            subtree = [node.id, *(d.id for d in self.current.walk(node.id))]
            covered.update(subtree)
            rescued = [d for d in subtree if self._removal_conflicts(node.id, d)]
            if rescued:
                # Ours moves these out first: remove the rest once the placements are made.
                self.deferred.append(node.id)
            else:
                self._remove(node.id)
        for node_id in sorted(self.ours_removed - self.theirs_removed - covered):
            self.conflict(
                node_id, "parent_id", "moved meanwhile out of a node the proposal removes"
            )

    def _removal_conflicts(self, top: str, node_id: str) -> bool:
        """Record what forbids removing `node_id` with `top`; True when ours keeps it elsewhere."""
        if node_id not in self.base.nodes:
            self.conflict(
                node_id, "parent_id", f"added meanwhile under {top!r}, which the proposal removes"
            )
            return False
        if node_id in self.ours.nodes:
            if node_id in self.ours_placed:
                return True
            self.conflict(
                node_id, "parent_id", f"moved meanwhile under {top!r}, which the proposal removes"
            )
            return False
        before, now = (
            field_values(self.base.nodes[node_id]),
            field_values(self.current.nodes[node_id]),
        )
        for name, value in now.items():
            if before.get(name) != value:
                self.conflict(node_id, name, "changed meanwhile; the proposal removes the node")
        touching = (
            *self.current.outgoing.get(node_id, ()),
            *self.current.incoming.get(node_id, ()),
        )
        for link in touching:
            if link not in self.base.links:
                self.conflict(
                    node_id,
                    "links",
                    f"linked meanwhile ({link.from_id} {link.relation.value} {link.to_id});"
                    " the proposal removes the node",
                )
        return False

    def _remove(self, node_id: str) -> None:
        self._kids(self._parent_now(node_id)).remove(node_id)
        self.changes.append(RemoveNode(node_id, cascade=True))

    def _links(self) -> None:
        for link in sorted(self.ours.links - self.base.links):
            if link in self.current.links:
                continue
            gone = [end for end in (link.from_id, link.to_id) if end in self.theirs_removed]
            if gone:
                self.conflict(
                    link.from_id, "links", f"the link to {gone[-1]!r} is broken: removed meanwhile"
                )
                continue
            self.changes.append(
                LinkNodes(self._id(link.from_id), self._id(link.to_id), link.relation)
            )

    # -- fields -------------------------------------------------------------------------
    def _updates(self) -> None:
        for node in self.ours.walk():
            old = self.base.nodes.get(node.id)
            if old is None or old is node or old == node:
                continue
            before, after = field_values(old), field_values(node)
            now = self.current.nodes.get(node.id)
            theirs = field_values(now) if now is not None else {}
            values: dict[str, object] = {}
            for name, value in after.items():
                if before.get(name) == value:
                    continue
                if now is None:
                    self.conflict(node.id, name, "the node was removed meanwhile")
                elif theirs.get(name, _NOWHERE) == value:
                    continue  # both sides made the same change
                elif theirs.get(name, _NOWHERE) != before.get(name):
                    self.conflict(node.id, name, f"changed meanwhile to {theirs.get(name)!r}")
                else:
                    values[name] = value
            if values:
                self.changes.append(UpdateNode(node.id, values))

    # -- where nodes sit ------------------------------------------------------------------
    def _placements(self) -> None:
        wanted = set(self.ours_placed.values())
        for parent_id in [None, *(node.id for node in self.ours.walk())]:
            if parent_id not in wanted:
                continue
            arrivals = [
                kid
                for kid in self.ours.children.get(parent_id, ())
                if self.ours_placed.get(kid, _NOWHERE) == parent_id
            ]
            if arrivals and self._placeable(parent_id, arrivals):
                self._place(parent_id)

    def _placeable(self, parent_id: str | None, arrivals: list[str]) -> bool:
        before = len(self.conflicts)
        where = "the plan" if parent_id is None else repr(parent_id)
        if parent_id is not None and parent_id in self.theirs_removed:
            for kid in arrivals:
                self.conflict(kid, "parent_id", f"{where} was removed meanwhile")
        elif parent_id in self.theirs_parents:
            for kid in arrivals:
                self.conflict(
                    kid, "position", f"the order of the nodes under {where} changed meanwhile"
                )
        for kid in arrivals:
            if kid in self.theirs_removed:
                self.conflict(kid, "parent_id", "the node was removed meanwhile")
            elif kid in self.base.nodes and kid in self.theirs_placed:
                self.conflict(kid, "parent_id", "moved meanwhile")
            elif (
                kid not in self.base.nodes
                and kid not in self.rename
                and (kid in self.current.nodes or kid in self.current.retired_ids)
            ):
                self.conflict(kid, "id", f"{kid!r} was taken meanwhile")
        return len(self.conflicts) == before

    def _place(self, parent_id: str | None) -> None:
        target = [
            kid
            for kid in self.ours.children.get(parent_id, ())
            if self.ours_placed.get(kid, _NOWHERE) == parent_id
            or (kid in self.current.nodes and self._parent_now(kid) == parent_id)
        ]
        for position, kid in enumerate(target):
            kids = self._kids(parent_id)
            if kid not in self.base.nodes and kid not in self.parent:
                node = self.ours.nodes[kid]
                self.changes.append(
                    AddNode(
                        node.kind,
                        node.title,
                        self._id(kid),
                        self._r(parent_id),
                        position,
                        _values(node),
                    )
                )
            elif self._parent_now(kid) == parent_id and kids.index(kid) == position:
                continue
            else:
                self._kids(self._parent_now(kid)).remove(kid)
                self.changes.append(MoveNode(self._id(kid), self._r(parent_id), position))
            kids.insert(position, kid)
            self.parent[kid] = parent_id

    def _kids(self, parent_id: str | None) -> list[str]:
        found = self.kids.get(parent_id)
        if found is None:
            found = self.kids[parent_id] = list(self.current.children.get(parent_id, ()))
        return found

    def _parent_now(self, node_id: str) -> str | None:
        if node_id in self.parent:
            return self.parent[node_id]
        return self.current.nodes[node_id].parent_id


def _placed(base: PlanState, after: PlanState) -> dict[str, str | None]:
    """The nodes `after` added or moved (to another parent or among their siblings): where.
    The diff's rule (domain/diff.py), read only under parents whose children changed."""
    placed: dict[str, str | None] = {}
    for parent_id, kids in after.children.items():
        if base.children.get(parent_id) == kids:
            continue
        stayed = []
        for kid in kids:
            old = base.nodes.get(kid)
            if old is None or old.parent_id != parent_id:
                placed[kid] = parent_id
            else:
                stayed.append(kid)
        kept = longest_kept_order(stayed, base)
        placed.update((kid, parent_id) for kid in stayed if kid not in kept)
    return placed


def _renames(
    base: PlanState, current: PlanState, ours: PlanState, named: set[str]
) -> dict[str, str]:
    """New ids for nodes the proposal added under an id it did not choose (generated against
    the base), where the plan has taken that id meanwhile."""
    taken = set(current.nodes) | set(current.retired_ids) | set(ours.nodes) | named
    renames: dict[str, str] = {}
    number = len(current.nodes) + len(current.retired_ids) + 1
    for node in ours.walk():
        if node.id in base.nodes or node.id in named:
            continue
        if node.id not in current.nodes and node.id not in current.retired_ids:
            continue
        prefix = node.kind.value.lower().replace("_", "-")
        while f"{prefix}-{number}" in taken:
            number += 1
        renames[node.id] = f"{prefix}-{number}"
        taken.add(renames[node.id])
    return renames
