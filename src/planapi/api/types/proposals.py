"""Proposals in GraphQL: a proposal, its revisions and reviews, its preview (a full `Plan` as it
would be if adopted now), its diff against the current version and its conflicts.

Ids follow the global-id rule (api/types/global_ids.py): a `Proposal`'s id names the proposal's
stream version *and* the plan version its preview merges into, since both fix its data; its
preview's ids carry the proposal and revision in the plan part
(`Kpi:baku-2026.p3~r2:8:kpi-1-1-1`), so they never equal a real version's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, cast

import strawberry
from strawberry.scalars import JSON

from planapi.api.types.context import Context
from planapi.api.types.global_ids import Node as GlobalNode
from planapi.api.types.global_ids import global_id
from planapi.api.types.history import Amendment
from planapi.api.types.naming import camel
from planapi.api.types.plans import Plan, PlanDiff, as_plan_diff
from planapi.application.plans import PlanVersion, VersionDiff
from planapi.application.ports import Recorded
from planapi.application.primitives import field_to_primitive
from planapi.application.proposals import Preview
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
from planapi.domain.events import Authority
from planapi.domain.merge import Conflict
from planapi.domain.proposals import Proposal as ProposalState
from planapi.domain.proposals import ProposalStatus, Review, Revision, Verdict

if TYPE_CHECKING:
    from planapi.application.proposals import ProposalService

Info = strawberry.Info[Context, None]

ProposalStatusEnum = strawberry.enum(
    ProposalStatus, name="ProposalStatus", description="Where a proposal stands."
)
VerdictEnum = strawberry.enum(
    Verdict,
    name="ReviewVerdict",
    description="APPROVE and REQUEST_CHANGES need a review grant for an authority; anyone "
    "who may read may COMMENT.",
)


def proposal_service(info: Info) -> ProposalService:
    found = info.context.proposals
    assert found is not None, "the server wires ProposalService into every context"
    return found


def change_json(change: Change) -> JSON:
    """A change as asked for, in the API's own names (`addNode`, `parentId`, field values as
    the wire spells them)."""
    out: dict[str, object] = {"op": OPERATION_NAMES.get(type(change), type(change).__name__)}
    match change:
        case AddNode():
            out.update(kind=change.kind.value, title=change.title, id=change.id)
            out.update(parentId=change.parent_id, position=change.position)
            out["values"] = {camel(k): field_to_primitive(k, v) for k, v in change.values.items()}
        case UpdateNode():
            out["id"] = change.id
            out["values"] = {camel(k): field_to_primitive(k, v) for k, v in change.values.items()}
        case RemoveNode():
            out.update(id=change.id, cascade=change.cascade)
        case MoveNode():
            out.update(id=change.id, parentId=change.parent_id, position=change.position)
        case LinkNodes() | UnlinkNodes():
            out.update(fromId=change.from_id, toId=change.to_id, relation=change.relation.value)
    return cast(JSON, out)


@strawberry.type(description="Part of a proposal that cannot apply to the current version.")
class MergeConflict:
    node_id: strawberry.ID | None = strawberry.field(description="The node; null: the whole.")
    field: str | None = strawberry.field(description="The field (API name); null: the node.")
    message: str

    @classmethod
    def of(cls, conflict: Conflict) -> MergeConflict:
        return cls(
            node_id=strawberry.ID(conflict.node_id) if conflict.node_id else None,
            field=camel(conflict.field) if conflict.field else None,
            message=conflict.message,
        )


@strawberry.type(description="A review: who, for which body, on which revision, and what.")
class ProposalReview:
    review: strawberry.Private[Review]

    @strawberry.field
    def reviewer(self) -> str:
        return self.review.reviewer

    @strawberry.field(description="The body the reviewer spoke for.")
    def authority(self) -> Authority:
        return self.review.authority

    @strawberry.field
    def verdict(self) -> Verdict:
        return self.review.verdict

    @strawberry.field
    def text(self) -> str:
        return self.review.text

    @strawberry.field(description="The revision the reviewer read.")
    def revision(self) -> int:
        return self.review.revision

    @strawberry.field(description="The node the review is anchored to, if any.")
    def node_id(self) -> strawberry.ID | None:
        return strawberry.ID(self.review.node_id) if self.review.node_id else None

    @strawberry.field
    def recorded_at(self) -> dt.datetime:
        return self.review.recorded_at


@strawberry.type(description="One revision of a proposal's changes; every revision is kept.")
class ProposalRevision:
    revision: strawberry.Private[Revision]

    @strawberry.field(description="1 for the changes as opened.")
    def number(self) -> int:
        return self.revision.number

    @strawberry.field(description="The plan version these changes were drafted against.")
    def base_version(self) -> int:
        return self.revision.base_version

    @strawberry.field
    def author(self) -> str:
        return self.revision.author

    @strawberry.field(description="What this revision answers.")
    def note(self) -> str | None:
        return self.revision.note

    @strawberry.field
    def recorded_at(self) -> dt.datetime:
        return self.revision.recorded_at

    @strawberry.field(description="The changes, as amendPlan's `changes` spell them.")
    def changes(self) -> list[JSON]:
        return [change_json(change) for change in self.revision.changes]


def preview_version(preview: Preview) -> PlanVersion | None:
    """The preview as a plan version whose ids carry the proposal and revision: its state's id
    is `<proposal>~r<revision>` (plan ids hold no `~`) and its version the one it would make."""
    if preview.state is None:
        return None
    if preview.proposal.adopted_version is not None:
        return PlanVersion(preview.state, preview.current.amendment)
    marker = f"{preview.proposal.id}~r{preview.revision}"
    state = dataclasses.replace(preview.state, id=marker)
    current = preview.current.amendment
    unrecorded = Recorded(
        stream_id=f"proposal:{preview.proposal.id}",
        version=state.version,
        position=0,
        event=current.event,
        info=preview.proposal.info,
        recorded_at=current.recorded_at,
        hash=b"",
    )
    return PlanVersion(state, unrecorded)


@strawberry.type(description="An amendment drafted, reviewed, and then adopted or not.")
class Proposal(GlobalNode):
    found: strawberry.Private[ProposalState]
    # The plan version the preview merges into, read once per proposal per request.
    latest: strawberry.Private[int]

    @strawberry.field(
        description="Global id: `Proposal:<proposalId>:<its own version>:<plan version>` (the "
        "plan version its preview, diff and conflicts are computed against)."
    )
    def id(self) -> strawberry.ID:
        return global_id("Proposal", self.found.id, self.found.version, self.latest)

    @strawberry.field(description="Stable id (`baku-2026.p3`): what the mutations take.")
    def proposal_id(self) -> strawberry.ID:
        return strawberry.ID(self.found.id)

    @strawberry.field
    def plan_id(self) -> strawberry.ID:
        return strawberry.ID(self.found.plan_id)

    @strawberry.field(description="The plan at its latest version.")
    async def plan(self, info: Info) -> Plan:
        return Plan(found=await info.context.plans.require(self.found.plan_id))

    @strawberry.field
    def title(self) -> str:
        return self.found.title

    @strawberry.field(description="The authority whose amendment this would be.")
    def authority(self) -> Authority:
        return self.found.info.authority

    @strawberry.field
    def rationale(self) -> str:
        return self.found.info.rationale

    @strawberry.field
    def reference(self) -> str | None:
        return self.found.info.reference

    @strawberry.field
    def effective_from(self) -> dt.date | None:
        return self.found.info.effective_from

    @strawberry.field(description="Who opened it.")
    def author(self) -> str:
        return self.found.author

    @strawberry.field
    def opened_at(self) -> dt.datetime:
        return self.found.opened_at

    @strawberry.field
    def status(self) -> ProposalStatus:
        return self.found.status

    @strawberry.field(description="The current revision's number (what adoptProposal expects).")
    def revision(self) -> int:
        return self.found.current.number

    @strawberry.field(description="The version the current revision was drafted against.")
    def base_version(self) -> int:
        return self.found.current.base_version

    @strawberry.field(description="The current revision's changes.")
    def changes(self) -> list[JSON]:
        return [change_json(change) for change in self.found.current.changes]

    @strawberry.field
    def revisions(self) -> list[ProposalRevision]:
        return [ProposalRevision(revision=r) for r in self.found.revisions]

    @strawberry.field(description="Reviews and comments, oldest first.")
    def reviews(self) -> list[ProposalReview]:
        return [ProposalReview(review=r) for r in self.found.reviews]

    @strawberry.field(description="Who adopted, rejected or withdrew it, when, and why.")
    def closed_by(self) -> str | None:
        return self.found.closed_by

    @strawberry.field
    def closed_at(self) -> dt.datetime | None:
        return self.found.closed_at

    @strawberry.field
    def reason(self) -> str | None:
        return self.found.reason

    @strawberry.field(
        description="The plan as it would be if adopted now (once adopted: as adopted); null "
        "while it conflicts with the current version. Its ids name the proposal and revision."
    )
    async def preview(self, info: Info) -> Plan | None:
        found = preview_version(await proposal_service(info).preview(self.found, self.latest))
        return Plan(found=found) if found else None

    @strawberry.field(description="What adopting it now would change in the current version.")
    async def diff(self, info: Info) -> PlanDiff | None:
        preview = await proposal_service(info).preview(self.found, self.latest)
        after = preview_version(preview)
        if after is None or preview.diff is None:
            return None
        found = as_plan_diff(VersionDiff(preview.current, after, preview.diff))
        return dataclasses.replace(found, plan_id=strawberry.ID(self.found.plan_id))

    @strawberry.field(description="Why it cannot be adopted now, by node and field.")
    async def conflicts(self, info: Info) -> list[MergeConflict]:
        preview = await proposal_service(info).preview(self.found, self.latest)
        return [MergeConflict.of(conflict) for conflict in preview.conflicts]

    @strawberry.field(description="The amendment that adopted it.")
    async def adopted_as(self, info: Info) -> Amendment | None:
        if self.found.adopted_version is None:
            return None
        found = await info.context.plans.amendment(self.found.plan_id, self.found.adopted_version)
        return Amendment(record=found) if found else None


async def as_proposal(info: Info, found: ProposalState) -> Proposal:
    latest = await info.context.plans.require(found.plan_id)
    return Proposal(found=found, latest=latest.state.version)
