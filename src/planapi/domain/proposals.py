"""Proposals: an amendment drafted, reviewed, and then adopted, rejected or withdrawn.

Each proposal is its own stream of these facts in the plan's log (hash-chained like every
event), so reviewing or revising one never moves the plan's version. A proposal keeps every
revision of its changes and every review; `fold_proposal` builds what it is now from them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from planapi.domain.changes import Change
from planapi.domain.errors import PlanApiError, Problem, ValidationError
from planapi.domain.events import AmendmentInfo, Authority
from planapi.domain.field_checks import text_problems

MAX_REVIEW = 20_000


class ProposalStatus(enum.Enum):
    OPEN = "OPEN"
    ADOPTED = "ADOPTED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"


class Verdict(enum.Enum):
    APPROVE = "APPROVE"
    REQUEST_CHANGES = "REQUEST_CHANGES"
    COMMENT = "COMMENT"


@dataclass(frozen=True, slots=True)
class ProposalOpened:
    plan_id: str
    base_version: int
    title: str
    changes: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class ProposalRevised:
    base_version: int
    changes: tuple[Change, ...]
    # What the revision answers (a review, a conflict), in the reviser's words.
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ProposalReviewed:
    verdict: Verdict
    text: str
    # The revision the reviewer read: a review never silently carries over to a later one.
    revision: int
    node_id: str | None = None


@dataclass(frozen=True, slots=True)
class ProposalWithdrawn:
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ProposalRejected:
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ProposalAdopted:
    revision: int
    # The plan version the adoption produced (the amendment that cites this proposal).
    plan_version: int


ProposalEvent = (
    ProposalOpened
    | ProposalRevised
    | ProposalReviewed
    | ProposalWithdrawn
    | ProposalRejected
    | ProposalAdopted
)
PROPOSAL_EVENTS: tuple[type[ProposalEvent], ...] = (
    ProposalOpened,
    ProposalRevised,
    ProposalReviewed,
    ProposalWithdrawn,
    ProposalRejected,
    ProposalAdopted,
)


@dataclass(frozen=True, slots=True)
class Fact:
    """One stored proposal event with who recorded it and when (its stream version)."""

    version: int
    event: ProposalEvent
    info: AmendmentInfo
    recorded_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Revision:
    number: int
    base_version: int
    changes: tuple[Change, ...]
    author: str
    recorded_at: dt.datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Review:
    verdict: Verdict
    text: str
    revision: int
    node_id: str | None
    reviewer: str
    authority: Authority
    recorded_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Proposal:
    id: str
    plan_id: str
    title: str
    # The amendment's own details (authority, rationale, reference, effective date), as opened.
    info: AmendmentInfo
    opened_at: dt.datetime
    status: ProposalStatus
    revisions: tuple[Revision, ...]
    reviews: tuple[Review, ...]
    # The stream's version: what a writer to the proposal expects.
    version: int
    adopted_version: int | None = None
    closed_by: str | None = None
    closed_at: dt.datetime | None = None
    reason: str | None = None

    @property
    def current(self) -> Revision:
        return self.revisions[-1]

    @property
    def author(self) -> str:
        return self.info.actor


class ProposalNotFoundError(PlanApiError):
    def __init__(self, proposal_id: str) -> None:
        self.proposal_id = proposal_id
        super().__init__(f"proposal {proposal_id!r} does not exist")


class ProposalClosedError(PlanApiError):
    """Only an open proposal may be reviewed, revised, withdrawn, rejected or adopted."""

    def __init__(self, proposal_id: str, status: ProposalStatus) -> None:
        self.proposal_id = proposal_id
        self.status = status
        super().__init__(f"proposal {proposal_id!r} is {status.value.lower()}, no longer open")


def fold_proposal(proposal_id: str, facts: Iterable[Fact]) -> Proposal:
    """What a proposal is after its facts, oldest first (the first must open it)."""
    it = iter(facts)
    first = next(it)
    if not isinstance(first.event, ProposalOpened):
        raise ValueError(f"proposal {proposal_id!r} does not start with ProposalOpened")
    opened = first.event
    revision = Revision(1, opened.base_version, opened.changes, first.info.actor, first.recorded_at)
    state = _Fold(proposal_id, opened, first, revision)
    for fact in it:
        state.apply(fact)
    return state.freeze()


class _Fold:
    def __init__(
        self, proposal_id: str, opened: ProposalOpened, first: Fact, revision: Revision
    ) -> None:
        self.proposal = Proposal(
            id=proposal_id,
            plan_id=opened.plan_id,
            title=opened.title,
            info=first.info,
            opened_at=first.recorded_at,
            status=ProposalStatus.OPEN,
            revisions=(revision,),
            reviews=(),
            version=first.version,
        )
        self.revisions = [revision]
        self.reviews: list[Review] = []
        self.changes: dict[str, object] = {}

    def apply(self, fact: Fact) -> None:
        self.changes["version"] = fact.version
        event, who, at = fact.event, fact.info.actor, fact.recorded_at
        match event:
            case ProposalRevised(base_version=base, changes=changes, note=note):
                number = len(self.revisions) + 1
                self.revisions.append(Revision(number, base, changes, who, at, note))
            case ProposalReviewed(verdict=verdict, text=text, revision=rev, node_id=node):
                self.reviews.append(Review(verdict, text, rev, node, who, fact.info.authority, at))
            case ProposalAdopted(plan_version=plan_version):
                self._close(ProposalStatus.ADOPTED, who, at, None)
                self.changes["adopted_version"] = plan_version
            case ProposalRejected(reason=reason):
                self._close(ProposalStatus.REJECTED, who, at, reason)
            case ProposalWithdrawn(reason=reason):
                self._close(ProposalStatus.WITHDRAWN, who, at, reason)

    def _close(self, status: ProposalStatus, who: str, at: dt.datetime, reason: str | None) -> None:
        self.changes.update(status=status, closed_by=who, closed_at=at, reason=reason)

    def freeze(self) -> Proposal:
        return dataclasses.replace(
            self.proposal,
            revisions=tuple(self.revisions),
            reviews=tuple(self.reviews),
            **self.changes,  # type: ignore[arg-type]
        )


def require_open(proposal: Proposal) -> None:
    if proposal.status is not ProposalStatus.OPEN:
        raise ProposalClosedError(proposal.id, proposal.status)


def decide_review(
    proposal: Proposal, verdict: Verdict, text: str, revision: int, node_id: str | None
) -> ProposalReviewed:
    """A review of `revision` (the one the reviewer read, which must exist)."""
    require_open(proposal)
    # An approval may say nothing more; asking for changes or commenting must say something.
    silent = verdict is Verdict.APPROVE and not text.strip()
    problems = [] if silent else text_problems(("text",), text, MAX_REVIEW, required=True)
    if not 1 <= revision <= len(proposal.revisions):
        problems.append(
            Problem(("revision",), f"proposal has revisions 1..{len(proposal.revisions)}")
        )
    if problems:
        raise ValidationError(problems)
    return ProposalReviewed(verdict, text.strip(), revision, node_id)


def decide_closing(
    proposal: Proposal, event: ProposalWithdrawn | ProposalRejected
) -> ProposalWithdrawn | ProposalRejected:
    require_open(proposal)
    problems = text_problems(("reason",), event.reason, MAX_REVIEW)
    if problems:
        raise ValidationError(problems)
    return event
