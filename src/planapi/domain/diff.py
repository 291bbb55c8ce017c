"""What differs between two versions of a plan, computed from the two states alone.

Because it compares states rather than replaying changes, edits that cancel out (a title changed
and changed back, a node added then removed) leave no trace in the diff.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from planapi.domain.links import Link
from planapi.domain.nodes import field_values
from planapi.domain.plan import PlanState
from planapi.domain.translations import TranslationChange, changed_between


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: object
    after: object


@dataclass(frozen=True, slots=True)
class NodeChanged:
    node_id: str
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True, slots=True)
class NodeRelocated:
    """A node under a new parent, or reordered among the siblings it kept."""

    node_id: str
    from_parent_id: str | None
    to_parent_id: str | None
    from_position: int
    to_position: int


@dataclass(frozen=True, slots=True)
class Placement:
    node_id: str
    parent_id: str | None
    position: int


@dataclass(frozen=True, slots=True)
class PlanDiff:
    from_version: int
    to_version: int
    added: tuple[Placement, ...]
    removed: tuple[str, ...]
    moved: tuple[NodeRelocated, ...]
    changed: tuple[NodeChanged, ...]
    links_added: tuple[Link, ...]
    links_removed: tuple[Link, ...]
    # Translations new or revised between the two versions (domain.translations.changed_between).
    translated: tuple[TranslationChange, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.moved
            or self.changed
            or self.links_added
            or self.links_removed
            or self.translated
        )


def diff(before: PlanState, after: PlanState) -> PlanDiff:
    added = tuple(
        Placement(node.id, node.parent_id, after.position_of(node.id))
        for node in after.walk()
        if node.id not in before.nodes
    )
    removed = tuple(node.id for node in before.walk() if node.id not in after.nodes)
    return PlanDiff(
        from_version=before.version,
        to_version=after.version,
        added=added,
        removed=removed,
        moved=_moved(before, after),
        changed=_changed(before, after),
        links_added=tuple(sorted(after.links - before.links)),
        links_removed=tuple(sorted(before.links - after.links)),
        translated=changed_between(before.translations, after.translations),
    )


def _changed(before: PlanState, after: PlanState) -> tuple[NodeChanged, ...]:
    out: list[NodeChanged] = []
    for node in after.walk():
        old = before.nodes.get(node.id)
        # Versions share the nodes they did not change: identity settles most without `==`.
        if old is None or old is node or old == node:
            continue
        old_values, new_values = field_values(old), field_values(node)
        fields = tuple(
            FieldChange(name, old_values.get(name), value)
            for name, value in new_values.items()
            if old_values.get(name) != value
        )
        if fields:
            out.append(NodeChanged(node.id, fields))
    return tuple(out)


def _moved(before: PlanState, after: PlanState) -> tuple[NodeRelocated, ...]:
    out: list[NodeRelocated] = []
    for parent_id, kids in after.children.items():
        if before.children.get(parent_id) == kids:
            continue  # the same children in the same order: none of them moved
        stayed = [
            kid for kid in kids if kid in before.nodes and before.nodes[kid].parent_id == parent_id
        ]
        kept = _longest_kept_order(stayed, before)
        for position, kid in enumerate(kids):
            old = before.nodes.get(kid)
            if old is None or (old.parent_id == parent_id and kid in kept):
                continue
            out.append(
                NodeRelocated(kid, old.parent_id, parent_id, before.position_of(kid), position)
            )
    return tuple(sorted(out, key=lambda m: (m.to_parent_id or "", m.to_position)))


def _longest_kept_order(stayed: list[str], before: PlanState) -> set[str]:
    """The largest set of siblings whose relative order did not change (a longest increasing
    subsequence of their old positions); the others count as moved."""
    positions = [before.position_of(kid) for kid in stayed]
    tails: list[int] = []
    tail_index: list[int] = []
    previous: list[int] = [-1] * len(positions)
    for i, value in enumerate(positions):
        slot = bisect.bisect_left(tails, value)
        if slot == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[slot] = value
            tail_index[slot] = i
        previous[i] = tail_index[slot - 1] if slot else -1
    kept: set[str] = set()
    i = tail_index[-1] if tail_index else -1
    while i != -1:
        kept.add(stayed[i])
        i = previous[i]
    return kept
