"""The root fields of proposals: `proposal(id)`, `proposals(planId, status)` and the mutations
that open, review, revise, withdraw, reject and adopt one (mixed into Query and Mutation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry

from planapi.api.types.errors import (
    Forbidden,
    IdempotencyKeyReused,
    PlanNotFound,
    UserError,
    ValidationFailed,
    VersionConflict,
    as_union_member,
    bad_input,
)
from planapi.api.types.history import Amendment
from planapi.api.types.inputs import PlanChangeInput, to_change
from planapi.api.types.plans import AmendmentApplied, Plan
from planapi.api.types.proposals import (
    MergeConflict,
    Proposal,
    as_proposal,
    proposal_service,
)
from planapi.api.types.root_fields import Caching, Cost, declare
from planapi.application.access import Permission, Principal
from planapi.application.freshness import version_token
from planapi.application.proposals import (
    AdoptProposal,
    ProposalConflictError,
    ProposeAmendment,
    ReviewProposal,
    ReviseProposal,
)
from planapi.domain.errors import PlanApiError
from planapi.domain.events import Authority
from planapi.domain.proposals import Proposal as ProposalState
from planapi.domain.proposals import (
    ProposalClosedError,
    ProposalNotFoundError,
    ProposalStatus,
    Verdict,
)

Info = strawberry.Info[Any, None]


@strawberry.input
class ProposeAmendmentInput:
    plan_id: strawberry.ID
    base_version: int = strawberry.field(description="The version the changes are drafted on.")
    title: str
    authority: Authority
    rationale: str
    changes: list[PlanChangeInput]
    reference: str | None = None
    effective_from: dt.date | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Per plan and caller, as amendPlan's."
    )


@strawberry.input
class ReviewProposalInput:
    proposal_id: strawberry.ID
    verdict: Verdict
    revision: int = strawberry.field(description="The revision you read.")
    text: str = ""
    node_id: strawberry.ID | None = strawberry.field(default=None, description="Anchor.")
    authority: Authority | None = strawberry.field(
        default=None, description="The body you review for (default: the proposal's)."
    )


@strawberry.input
class ReviseProposalInput:
    proposal_id: strawberry.ID
    expected_revision: int = strawberry.field(description="The revision you are replacing.")
    base_version: int
    changes: list[PlanChangeInput]
    note: str | None = strawberry.field(default=None, description="What this answers.")


@strawberry.type(description="The proposal, as it stands after the mutation.")
class ProposalUpdated:
    proposal: Proposal


@strawberry.type
class ProposalNotFound(UserError):
    proposal_id: strawberry.ID


@strawberry.type(description="The proposal is no longer open; nothing was written.")
class ProposalClosed(UserError):
    proposal_id: strawberry.ID
    status: ProposalStatus


@strawberry.type(description="The proposal conflicts with the current version; revise it.")
class ProposalConflict(UserError):
    proposal_id: strawberry.ID
    conflicts: list[MergeConflict]


ProposeAmendmentResult = Annotated[
    ProposalUpdated | ValidationFailed | PlanNotFound | IdempotencyKeyReused | Forbidden,
    strawberry.union("ProposeAmendmentResult"),
]
ProposalResult = Annotated[
    ProposalUpdated
    | ValidationFailed
    | VersionConflict
    | ProposalNotFound
    | ProposalClosed
    | Forbidden,
    strawberry.union("ProposalResult"),
]
AdoptProposalResult = Annotated[
    AmendmentApplied
    | ProposalConflict
    | VersionConflict
    | ProposalNotFound
    | ProposalClosed
    | Forbidden,
    strawberry.union("AdoptProposalResult"),
]


def _refused(error: PlanApiError) -> Any:
    match error:
        case ProposalNotFoundError():
            return ProposalNotFound(
                message=str(error), proposal_id=strawberry.ID(error.proposal_id)
            )
        case ProposalClosedError():
            return ProposalClosed(
                message=str(error),
                proposal_id=strawberry.ID(error.proposal_id),
                status=error.status,
            )
        case ProposalConflictError():
            return ProposalConflict(
                message=str(error),
                proposal_id=strawberry.ID(error.proposal_id),
                conflicts=[MergeConflict.of(c) for c in error.conflicts],
            )
    return as_union_member(error)


def _principal(info: Info) -> Principal:
    found = info.context.principal
    assert found is not None, "the guard lets no one without a principal this far"
    return found  # type: ignore[no-any-return]


async def _updated(info: Info, found: ProposalState) -> ProposalUpdated:
    return ProposalUpdated(proposal=await as_proposal(info, found))


WRITE = declare(Permission.AMEND, Caching.NOT_A_QUERY)


@strawberry.type
class ProposalQueries:
    @strawberry.field(
        description="One proposal by its id (`baku-2026.p3`); null when there is none.",
        metadata=declare(Permission.READ, Caching.HEADS),
    )
    async def proposal(self, info: Info, id: strawberry.ID) -> Proposal | None:
        try:
            found = await proposal_service(info).proposal(id)
            return await as_proposal(info, found) if found else None
        except PlanApiError as error:
            raise bad_input(error) from error

    @strawberry.field(
        description="A plan's proposals, oldest first (of one status, if given).",
        metadata=declare(Permission.READ, Caching.HEADS, Cost(items=20)),
    )
    async def proposals(
        self, info: Info, plan_id: strawberry.ID, status: ProposalStatus | None = None
    ) -> list[Proposal]:
        try:
            found = await proposal_service(info).proposals(plan_id, status)
            return [await as_proposal(info, each) for each in found]
        except PlanApiError as error:
            raise bad_input(error) from error


@strawberry.type
class ProposalMutations:
    @strawberry.mutation(
        description="Draft an amendment for review: the same changes as amendPlan, checked "
        "against `baseVersion`; the plan does not change until it is adopted.",
        metadata=WRITE,
    )
    async def propose_amendment(
        self, info: Info, input: ProposeAmendmentInput
    ) -> ProposeAmendmentResult:
        command = ProposeAmendment(
            plan_id=input.plan_id,
            base_version=input.base_version,
            title=input.title,
            authority=input.authority,
            rationale=input.rationale,
            changes=[to_change(change) for change in input.changes],
            reference=input.reference,
            effective_from=input.effective_from,
            idempotency_key=input.idempotency_key,
        )
        try:
            found = await proposal_service(info).propose(command, _principal(info))
            return await _updated(info, found)
        except PlanApiError as error:
            return _refused(error)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Review a revision: APPROVE, REQUEST_CHANGES or COMMENT, optionally "
        "anchored to a node. Does not move the plan's version.",
        metadata=declare(Permission.READ, Caching.NOT_A_QUERY),
    )
    async def review_proposal(self, info: Info, input: ReviewProposalInput) -> ProposalResult:
        command = ReviewProposal(
            input.proposal_id,
            input.verdict,
            input.text,
            input.revision,
            input.node_id,
            input.authority,
        )
        try:
            found = await proposal_service(info).review(command, _principal(info))
            return await _updated(info, found)
        except PlanApiError as error:
            return _refused(error)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Replace the changes (the author; every revision is kept).", metadata=WRITE
    )
    async def revise_proposal(self, info: Info, input: ReviseProposalInput) -> ProposalResult:
        command = ReviseProposal(
            input.proposal_id,
            input.expected_revision,
            input.base_version,
            [to_change(change) for change in input.changes],
            input.note,
        )
        try:
            found = await proposal_service(info).revise(command, _principal(info))
            return await _updated(info, found)
        except PlanApiError as error:
            return _refused(error)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Withdraw it (the author).", metadata=WRITE)
    async def withdraw_proposal(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> ProposalResult:
        try:
            found = await proposal_service(info).withdraw(id, reason, _principal(info))
            return await _updated(info, found)
        except PlanApiError as error:
            return _refused(error)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Reject it (an adopt grant for its authority); it stays readable.",
        metadata=WRITE,
    )
    async def reject_proposal(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> ProposalResult:
        try:
            found = await proposal_service(info).reject(id, reason, _principal(info))
            return await _updated(info, found)
        except PlanApiError as error:
            return _refused(error)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Adopt it as the plan's next version (one amendment citing the proposal), "
        "merged into the current version if it moved since the base; `expectedRevision`: "
        "nobody adopts a revision they did not see.",
        metadata=WRITE,
    )
    async def adopt_proposal(
        self, info: Info, id: strawberry.ID, expected_version: int, expected_revision: int
    ) -> AdoptProposalResult:
        command = AdoptProposal(id, expected_version, expected_revision)
        try:
            found = await proposal_service(info).adopt(command, _principal(info))
        except PlanApiError as error:
            return _refused(error)  # type: ignore[no-any-return]
        return AmendmentApplied(
            plan=Plan(found=found),
            amendment=Amendment(record=found.amendment),
            consistency_token=version_token(found.amendment.position),
        )


@strawberry.type
class ProposalSubscriptions:
    @strawberry.subscription(
        description="Each proposal of the plan as it stands after each new fact (opened, "
        "revised, reviewed, adopted, rejected, withdrawn), from now on.",
        metadata=declare(Permission.READ, Caching.NOT_A_QUERY),
    )
    async def proposal_updated(
        self, info: Info, plan_id: strawberry.ID
    ) -> AsyncGenerator[Proposal, None]:
        updates = proposal_service(info).updates(plan_id)
        try:
            async for found in updates:
                yield await as_proposal(info, found)
        except PlanApiError as error:
            raise bad_input(error) from error
        finally:
            await updates.aclose()
