"""Snapshot formats 2 and 3: a plan state as MessagePack, decoded by msgspec straight into the
domain's own types.

Format 1 (JSON, `snapshots.state_to_primitive`) went through the per-field decoding of stored
events, which made reading a 1,000-KPI state from its snapshot cost as much as folding it. Here
msgspec builds the nodes, their budget lines, milestones and targets in C. Format 2 wrote each
node whole (every field, defaults too), as msgspec filled a missing field of the dataclass a node
was then several times slower than it read a present one. Format 3 writes only a node's fields
that differ from their default (a plain KPI: 4 keys, not 40): `Node` is a msgspec struct, which
fills defaults in C, so an action plan's snapshot is an eighth of format 2's size and decodes
about 5 times faster. Both are read by the same decoder: a format-2 node is a struct's map with
every key present.

Nodes are maps keyed by field name, so a field the domain adds later, with a default, still
reads; any other change to a stored type's shape needs a new format number (`snapshots`).
"""

from __future__ import annotations

import msgspec

from planapi.domain.events import PlanStatus
from planapi.domain.links import Link
from planapi.domain.nodes import Node
from planapi.domain.plan import EMPTY, PlanBuilder, PlanState
from planapi.domain.plan_kinds import PlanKind
from planapi.domain.translations import Languages, Translation


class _Snapshot(msgspec.Struct, array_like=True, frozen=True):
    id: str
    title: str
    description: str | None
    period_start: int
    period_end: int
    version: int
    status: PlanStatus
    succeeds: str | None
    superseded_by: str | None
    plan_kind: PlanKind
    implements: str | None
    edition: int | None
    languages: Languages
    # Parents before children, each list in sibling order: enough to rebuild the tree.
    nodes: list[Node]
    links: list[Link]
    retired: list[str]
    translations: list[tuple[str, str, str, Translation]]


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(_Snapshot)


def encode_state(state: PlanState) -> bytes:
    return _ENCODER.encode(
        _Snapshot(
            id=state.id,
            title=state.title,
            description=state.description,
            period_start=state.period_start,
            period_end=state.period_end,
            version=state.version,
            status=state.status,
            succeeds=state.succeeds,
            superseded_by=state.superseded_by,
            plan_kind=state.plan_kind,
            implements=state.implements,
            edition=state.edition,
            languages=state.languages,
            nodes=list(state.walk()),
            links=sorted(state.links),
            retired=sorted(state.retired_ids),
            translations=[(*key, item) for key, item in sorted(state.translations.items())],
        )
    )


def decode_state(payload: bytes) -> PlanState:
    """The state `encode_state` wrote; msgspec.DecodeError (a ValidationError too) if the
    payload is not one."""
    raw = _DECODER.decode(payload)
    builder = PlanBuilder(EMPTY)
    builder.id, builder.title, builder.description = raw.id, raw.title, raw.description
    builder.period_start, builder.period_end = raw.period_start, raw.period_end
    builder.version, builder.status = raw.version, raw.status
    builder.succeeds, builder.superseded_by = raw.succeeds, raw.superseded_by
    builder.plan_kind, builder.implements = raw.plan_kind, raw.implements
    builder.edition, builder.languages = raw.edition, raw.languages
    nodes, children = builder.nodes, builder.children
    for node in raw.nodes:
        nodes[node.id] = node
        siblings = children.get(node.parent_id)
        if siblings is None:
            children[node.parent_id] = [node.id]
        else:
            siblings.append(node.id)
    builder.links = set(raw.links)
    builder.retired = set(raw.retired)
    builder.translations = {
        (node_id, slot, lang): item for node_id, slot, lang, item in raw.translations
    }
    return builder.freeze()
