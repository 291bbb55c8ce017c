"""A proposal as delegates read a draft: the whole plan as the proposal would make it, with
what it inserts marked as insertions and what it alters marked as changed, followed by every
change proposed (old text struck, new text inserted, removed nodes struck)."""

from __future__ import annotations

import dataclasses

from planapi.application.document import Block, Document, diff_document, plan_document
from planapi.application.plans import PlanVersion, VersionDiff
from planapi.application.ports import Recorded
from planapi.application.proposal_commands import Preview


def proposal_document(preview: Preview) -> Document | None:
    """None while the proposal conflicts with the current version (there is no draft to show)."""
    if preview.state is None or preview.diff is None:
        return None
    proposal, current, change = preview.proposal, preview.current, preview.diff
    record = current.amendment
    unrecorded = Recorded(
        stream_id=f"proposal:{proposal.id}",
        version=preview.state.version,
        position=0,
        event=record.event,
        info=proposal.info,
        recorded_at=record.recorded_at,
        hash=b"",
    )
    after = PlanVersion(preview.state, unrecorded)
    inserted = {placed.node_id for placed in change.added}
    altered = {c.node_id for c in change.changed} | {m.node_id for m in change.moved}
    draft = plan_document(after)
    blocks = [_marked(block, inserted, altered) for block in draft.blocks]
    proposed = diff_document(VersionDiff(current, after, change)).blocks
    heading = f"Changes proposed ({proposal.id}, revision {preview.revision})"
    blocks += [Block("heading", heading, 2), *_deeper(proposed)]
    return dataclasses.replace(
        draft,
        title=f"{draft.title} — draft: {proposal.title}",
        blocks=blocks,
        from_version=current.state.version,
    )


def _marked(block: Block, inserted: set[str], altered: set[str]) -> Block:
    if block.node_id in inserted:
        return dataclasses.replace(block, mark="added")
    if block.node_id in altered:
        return dataclasses.replace(block, mark="changed")
    return block


def _deeper(blocks: list[Block]) -> list[Block]:
    """The diff's own headings one level down, under "Changes proposed"."""
    return [
        dataclasses.replace(b, level=min(b.level + 1, 6)) if b.type == "heading" else b
        for b in blocks
    ]
