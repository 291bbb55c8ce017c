"""The Merkle logs in GraphQL: `Query.checkpoint` and `Amendment.inclusionProof`.

Both answer from the stored tree and the latest signed checkpoint, so they change whenever a
checkpoint is signed (volatile: never served from the response cache).
"""

from __future__ import annotations

import base64
from enum import Enum

import strawberry

from planapi.api.types.context import Context
from planapi.api.types.errors import bad_input
from planapi.application.transparency import EVENTS, READINGS, Transparency
from planapi.domain.errors import Problem, ValidationError
from planapi.domain.merkle import ProofError
from planapi.domain.notes import Checkpoint

Info = strawberry.Info[Context, None]


@strawberry.enum(description="The two Merkle logs: one per origin, each with its checkpoints.")
class LogName(Enum):
    EVENTS = EVENTS
    READINGS = READINGS


@strawberry.type(description="A signed checkpoint of a Merkle log (c2sp.org/tlog-checkpoint).")
class LogCheckpoint:
    origin: str
    tree_size: int
    root_hash: str = strawberry.field(description="Base64, as in the note.")
    note: str = strawberry.field(description="The signed note, to keep as it is (a witness).")


@strawberry.type(description="RFC 9162 §2.1.3 inclusion proof of one leaf in a tree size.")
class InclusionProof:
    leaf: int = strawberry.field(description="The leaf's index, in commit order from 0.")
    position: int = strawberry.field(description="The event's position in the log (`events`).")
    tree_size: int
    hashes: list[str] = strawberry.field(description="Base64 hashes, leaf end first.")


def _service(info: Info) -> Transparency:
    if info.context.transparency is None:
        raise bad_input(ValidationError([Problem(("log",), "the Merkle log is not available")]))
    return info.context.transparency


async def checkpoint(info: Info, log: LogName = LogName.EVENTS) -> LogCheckpoint | None:
    """The latest signed checkpoint of a log; null until one is signed."""
    found = await _service(info).checkpoint(log.value)
    if found is None:
        return None
    parsed = Checkpoint.parse(found.note.split("\n\n", 1)[0] + "\n")
    root = base64.b64encode(found.root_hash).decode()
    return LogCheckpoint(origin=parsed.origin, tree_size=found.tree_size, root_hash=root,
                         note=found.note)  # fmt: skip


async def inclusion_proof(
    info: Info, position: int, tree_size: int | None
) -> InclusionProof | None:
    """Null while the event is not yet a leaf of the tree asked for (or of any checkpoint)."""
    service = _service(info)
    leaf = await service.tree.leaf_of(EVENTS, position)
    if tree_size is None:
        latest = await service.checkpoint(EVENTS)
        tree_size = latest.tree_size if latest else None
    if leaf is None or tree_size is None or leaf >= tree_size:
        return None
    try:
        proof = await service.inclusion(EVENTS, leaf, tree_size)
    except ProofError as error:
        raise bad_input(ValidationError([Problem(("treeSize",), str(error))])) from error
    return InclusionProof(leaf=leaf, position=position, tree_size=tree_size,
                          hashes=proof["hashes"])  # fmt: skip
