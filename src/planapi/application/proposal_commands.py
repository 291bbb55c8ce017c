"""What proposal use cases take and give: the commands, the conflict refusal, the preview."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from planapi.application.plans import PlanVersion
from planapi.domain.changes import Change
from planapi.domain.diff import PlanDiff
from planapi.domain.errors import PlanApiError
from planapi.domain.events import Authority
from planapi.domain.merge import Conflict
from planapi.domain.plan import PlanState
from planapi.domain.proposals import Proposal, Verdict


@dataclass(frozen=True, slots=True)
class ProposeAmendment:
    plan_id: str
    base_version: int
    title: str
    authority: Authority
    rationale: str
    changes: Sequence[Change]
    reference: str | None = None
    effective_from: dt.date | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewProposal:
    proposal_id: str
    verdict: Verdict
    text: str
    revision: int
    node_id: str | None = None
    # The body the reviewer speaks for; by default the proposal's own, else their first grant.
    authority: Authority | None = None


@dataclass(frozen=True, slots=True)
class ReviseProposal:
    proposal_id: str
    expected_revision: int
    base_version: int
    changes: Sequence[Change]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class AdoptProposal:
    proposal_id: str
    expected_version: int
    expected_revision: int


class ProposalConflictError(PlanApiError):
    def __init__(self, proposal_id: str, conflicts: Sequence[Conflict]) -> None:
        self.proposal_id = proposal_id
        self.conflicts = tuple(conflicts)
        super().__init__(f"proposal {proposal_id!r} conflicts with the current version")


@dataclass(frozen=True, slots=True)
class Preview:
    """The plan as it would be if the proposal were adopted now (or, once adopted, as it was
    adopted), against the version it would amend."""

    proposal: Proposal
    revision: int
    current: PlanVersion
    conflicts: tuple[Conflict, ...]
    state: PlanState | None
    diff: PlanDiff | None
