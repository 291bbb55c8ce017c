"""Proposal use cases: draft an amendment, review and revise it, then adopt, reject or withdraw.

A proposal is its own stream (`proposal:<plan>.p<n>`), so none of this moves the plan's version
until adoption, which appends the amendment (citing the proposal) and the proposal's adoption in
one transaction. Who may do what is application/grants.py.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import AsyncGenerator, Sequence

from planapi.application.access import Principal
from planapi.application.cache import LruCache
from planapi.application.command_keys import command_key
from planapi.application.grants import (
    Act,
    authorities_for,
    require_author,
    require_direct,
    require_grant,
    require_signed,
)
from planapi.application.live import PLAN_EVENTS
from planapi.application.plans import PlanService, PlanVersion, stream_of
from planapi.application.ports import (
    CommandKey,
    IntegrityReport,
    Notifier,
    NotifierClosedError,
)
from planapi.application.proposal_commands import (
    AdoptProposal,
    Preview,
    ProposalConflictError,
    ProposeAmendment,
    ReviewProposal,
    ReviseProposal,
)
from planapi.application.proposal_ports import ProposalLog
from planapi.domain.changes import Change
from planapi.domain.decide import MAX_TITLE, decide_amendment, info_problems
from planapi.domain.diff import diff
from planapi.domain.errors import (
    IdempotencyKeyReusedError,
    PlanNotFoundError,
    Problem,
    ValidationError,
    VersionConflictError,
)
from planapi.domain.events import AmendmentInfo, Authority
from planapi.domain.field_checks import text_problems
from planapi.domain.merge import Merged, merge
from planapi.domain.plan import PlanState
from planapi.domain.proposals import (
    Fact,
    Proposal,
    ProposalAdopted,
    ProposalEvent,
    ProposalNotFoundError,
    ProposalOpened,
    ProposalRejected,
    ProposalRevised,
    ProposalStatus,
    ProposalWithdrawn,
    Verdict,
    decide_closing,
    decide_review,
    fold_proposal,
    require_open,
)

__all__ = [
    "AdoptProposal",
    "Preview",
    "ProposalConflictError",
    "ProposalService",
    "ProposeAmendment",
    "ReviewProposal",
    "ReviseProposal",
]

PREFIX = "proposal:"
# Idempotency keys of proposeAmendment are scoped to the plan's proposals, not to one of them.
KEY_SCOPE = "proposals:"
MAX_OPEN_ATTEMPTS = 50


def proposal_stream(proposal_id: str) -> str:
    return f"{PREFIX}{proposal_id}"


def plan_of(proposal_id: str) -> str:
    """`baku-2026.p3` → `baku-2026` (plan ids hold no '.')."""
    return proposal_id.rpartition(".p")[0]


class ProposalService:
    def __init__(
        self,
        plans: PlanService,
        log: ProposalLog,
        notifier: Notifier | None = None,
        direct_refused: frozenset[Authority] = frozenset(),
        cache_size: int = 128,
    ) -> None:
        self.plans = plans
        self.log = log
        self.notifier = notifier
        # Authorities whose amendments go through proposals only (PLANAPI_PROPOSAL_AUTHORITIES).
        self.direct_refused = direct_refused
        # A preview depends on the proposal's revision and the plan version it merges into.
        self.previews: LruCache[tuple[str, int, int], Merged] = LruCache(cache_size)

    def require_direct(self, authority: Authority) -> None:
        """amendPlan under an authority listed in PLANAPI_PROPOSAL_AUTHORITIES: Forbidden."""
        require_direct(self.direct_refused, authority)

    # -- queries ---------------------------------------------------------------------------
    async def proposal(self, proposal_id: str) -> Proposal | None:
        facts = await self.log.read(proposal_stream(proposal_id))
        if not facts:
            return None
        return fold_proposal(
            proposal_id, (Fact(f.version, f.event, f.info, f.recorded_at) for f in facts)
        )

    async def require(self, proposal_id: str) -> Proposal:
        found = await self.proposal(proposal_id)
        if found is None:
            raise ProposalNotFoundError(proposal_id)
        return found

    async def proposals(self, plan_id: str, status: ProposalStatus | None = None) -> list[Proposal]:
        streams = await self.plans.events.stream_ids(proposal_stream(f"{plan_id}.p"))
        found = [await self.require(s.removeprefix(PREFIX)) for s in streams]
        return [p for p in found if status is None or p.status is status]

    async def verify(self, plan_id: str) -> list[IntegrityReport]:
        """Each of the plan's proposal streams re-hashed from the stored bytes, as plans are."""
        streams = await self.plans.events.stream_ids(proposal_stream(f"{plan_id}.p"))
        return [await self.plans.events.verify(stream) for stream in streams]

    async def preview(self, proposal: Proposal, into: int | None = None) -> Preview:
        """`into`: the plan version to merge into (default: the latest)."""
        revision = proposal.current
        if proposal.adopted_version is not None:
            adopted = await self.plans.require(proposal.plan_id, proposal.adopted_version)
            before = await self.plans.require(proposal.plan_id, proposal.adopted_version - 1)
            done = diff(before.state, adopted.state)
            return Preview(proposal, revision.number, before, (), adopted.state, done)
        current = await self.plans.require(proposal.plan_id, into)
        merged = await self._merged(proposal, current)
        change = diff(current.state, merged.state) if merged.state is not None else None
        return Preview(proposal, revision.number, current, merged.conflicts, merged.state, change)

    async def updates(
        self, plan_id: str, poll_seconds: float = 3.0
    ) -> AsyncGenerator[Proposal, None]:
        """Each proposal of the plan as it stands after each new fact (opened, revised,
        reviewed, closed), from now on. Ends when the notifier closes."""
        if self.notifier is None:
            raise RuntimeError("proposal updates need a notifier")
        prefix = proposal_stream(f"{plan_id}.p")
        async with self.notifier.listen(PLAN_EVENTS) as wakeups:
            if await self.plans.events.latest_version(stream_of(plan_id)) == 0:
                raise PlanNotFoundError(plan_id)
            seen = await self.plans.events.latest_versions(prefix)
            while True:
                try:
                    await wakeups.wait(poll_seconds)
                except NotifierClosedError:
                    return
                now = await self.plans.events.latest_versions(prefix)
                for stream, version in now.items():
                    if seen.get(stream, 0) < version:
                        yield await self.require(stream.removeprefix(PREFIX))
                seen = now

    async def _merged(self, proposal: Proposal, current: PlanVersion) -> Merged:
        key = (proposal.id, proposal.current.number, current.state.version)
        found = self.previews.get(key)
        if found is None:
            base = await self.plans.require(proposal.plan_id, proposal.current.base_version)
            info = self._amendment_info(proposal, proposal.author)
            found = merge(base.state, current.state, proposal.current.changes, info)
            self.previews.put(key, found)
        return found

    # -- commands --------------------------------------------------------------------------
    async def propose(self, command: ProposeAmendment, principal: Principal) -> Proposal:
        info = AmendmentInfo(
            principal.name,
            command.authority,
            command.rationale.strip(),
            command.reference,
            command.effective_from,
        )
        keyed = command_key(command, principal.name)
        scope = f"{KEY_SCOPE}{command.plan_id}"
        if keyed is not None and (replayed := await self._replay(scope, command.plan_id, keyed)):
            return replayed
        base = await self.plans.require(command.plan_id, command.base_version)
        problems = [
            *info_problems(info),
            *text_problems(("title",), command.title, MAX_TITLE, required=True),
        ]
        self._check_changes(base.state, info, command.changes, problems)
        event = ProposalOpened(
            command.plan_id, command.base_version, command.title.strip(), tuple(command.changes)
        )
        number = (
            len(await self.plans.events.stream_ids(proposal_stream(f"{command.plan_id}.p"))) + 1
        )
        for attempt in range(MAX_OPEN_ATTEMPTS):
            proposal_id = f"{command.plan_id}.p{number + attempt}"
            try:
                await self._append(proposal_id, 0, event, info, keyed, (scope, number + attempt))
            except VersionConflictError:
                if keyed is not None and (
                    found := await self._replay(scope, command.plan_id, keyed)
                ):
                    return found
                continue  # another proposal took this number first
            return await self.require(proposal_id)
        raise VersionConflictError(proposal_stream(f"{command.plan_id}.p{number}"), 0, 1)

    async def _replay(self, scope: str, plan_id: str, keyed: CommandKey) -> Proposal | None:
        found = await self.log.command_key(scope, keyed.actor, keyed.key)
        if found is None:
            return None
        request_hash, number = found
        if not hmac.compare_digest(request_hash, keyed.request_hash):
            raise IdempotencyKeyReusedError(keyed.key, f"a different proposal on plan {plan_id!r}")
        return await self.require(f"{plan_id}.p{number}")

    def _check_changes(
        self,
        base: PlanState,
        info: AmendmentInfo,
        changes: Sequence[Change],
        problems: list[Problem],
    ) -> None:
        try:
            decide_amendment(base, info, changes)
        except ValidationError as refused:
            problems += [p for p in refused.problems if p.path and p.path[0] == "changes"]
        if problems:
            raise ValidationError(problems)

    async def review(self, command: ReviewProposal, principal: Principal) -> Proposal:
        proposal = await self.require(command.proposal_id)
        authority = command.authority or proposal.info.authority
        require_signed(principal, "review or comment")
        if command.verdict is not Verdict.COMMENT:
            granted = authorities_for(principal, Act.REVIEW)
            if command.authority is None and authority not in granted and granted:
                authority = granted[0]
            require_grant(principal, Act.REVIEW, authority, f"{command.verdict.value} as reviewer")
        if command.node_id is not None:
            await self._check_node(proposal, command.node_id)
        event = decide_review(
            proposal, command.verdict, command.text, command.revision, command.node_id
        )
        why = command.text.strip() or command.verdict.value
        info = AmendmentInfo(principal.name, authority, why)
        await self._append(proposal.id, proposal.version, event, info)
        return await self.require(proposal.id)

    async def _check_node(self, proposal: Proposal, node_id: str) -> None:
        """A review anchored to a node names one the base or the proposal has."""
        base = await self.plans.require(proposal.plan_id, proposal.current.base_version)
        if node_id in base.state.nodes:
            return
        added = {getattr(c, "id", None) for c in proposal.current.changes}
        if node_id not in added:
            raise ValidationError(
                [Problem(("node_id",), f"no node {node_id!r} in the proposal or its base")]
            )

    async def revise(self, command: ReviseProposal, principal: Principal) -> Proposal:
        proposal = await self.require(command.proposal_id)
        require_open(proposal)
        require_author(principal, proposal.author, "revise it")
        if command.expected_revision != len(proposal.revisions):
            raise VersionConflictError(
                proposal_stream(proposal.id), command.expected_revision, len(proposal.revisions)
            )
        base = await self.plans.require(proposal.plan_id, command.base_version)
        problems = text_problems(("note",), command.note, 10_000)
        self._check_changes(base.state, proposal.info, command.changes, problems)
        event = ProposalRevised(command.base_version, tuple(command.changes), command.note)
        info = dataclasses.replace(proposal.info, actor=principal.name)
        await self._append(proposal.id, proposal.version, event, info)
        return await self.require(proposal.id)

    async def withdraw(
        self, proposal_id: str, reason: str | None, principal: Principal
    ) -> Proposal:
        proposal = await self.require(proposal_id)
        require_author(principal, proposal.author, "withdraw it")
        event = decide_closing(proposal, ProposalWithdrawn(reason))
        info = AmendmentInfo(principal.name, proposal.info.authority, reason or "withdrawn")
        await self._append(proposal.id, proposal.version, event, info)
        return await self.require(proposal.id)

    async def reject(self, proposal_id: str, reason: str | None, principal: Principal) -> Proposal:
        proposal = await self.require(proposal_id)
        authority = proposal.info.authority
        require_grant(principal, Act.ADOPT, authority, f"reject proposals for {authority.value}")
        event = decide_closing(proposal, ProposalRejected(reason))
        info = AmendmentInfo(principal.name, authority, reason or "rejected")
        await self._append(proposal.id, proposal.version, event, info)
        return await self.require(proposal.id)

    async def adopt(self, command: AdoptProposal, principal: Principal) -> PlanVersion:
        proposal = await self.require(command.proposal_id)
        authority = proposal.info.authority
        require_grant(principal, Act.ADOPT, authority, f"adopt proposals for {authority.value}")
        require_open(proposal)
        if command.expected_revision != len(proposal.revisions):
            # Nobody adopts a revision they did not see.
            raise VersionConflictError(
                proposal_stream(proposal.id), command.expected_revision, len(proposal.revisions)
            )
        plan_stream = stream_of(proposal.plan_id)
        current = await self.plans.require(proposal.plan_id)
        if current.state.version != command.expected_version:
            raise VersionConflictError(plan_stream, command.expected_version, current.state.version)
        merged = await self._merged(proposal, current)
        if merged.event is None or merged.state is None:
            raise ProposalConflictError(proposal.id, merged.conflicts)
        info = self._amendment_info(proposal, principal.name)
        adopted = ProposalAdopted(len(proposal.revisions), current.state.version + 1)
        adopter = AmendmentInfo(
            principal.name, authority, f"adopted as version {adopted.plan_version}"
        )
        recorded, fact = await self.log.adopt(
            plan_stream,
            current.state.version,
            merged.event,
            info,
            proposal_stream(proposal.id),
            proposal.version,
            adopted,
            adopter,
        )
        self._announce(recorded.position, fact.position, plan_id=proposal.plan_id)
        return await self.plans._remember(recorded, merged.state)

    def _amendment_info(self, proposal: Proposal, actor: str) -> AmendmentInfo:
        """The adopted amendment's details: the proposal's own, citing it."""
        return dataclasses.replace(proposal.info, actor=actor, proposal=proposal.id)

    async def _append(
        self,
        proposal_id: str,
        expected: int,
        event: ProposalEvent,
        info: AmendmentInfo,
        keyed: CommandKey | None = None,
        scope: tuple[str, int] | None = None,
    ) -> None:
        fact = await self.log.append(
            proposal_stream(proposal_id), expected, event, info, keyed, scope
        )
        self._announce(fact.position, plan_id=plan_of(proposal_id))

    def _announce(self, *positions: int, plan_id: str = "") -> None:
        if self.plans.heads is not None:  # read-your-writes: this process's heads move now
            for position in positions:
                self.plans.heads.note_version(plan_id, 0, position)
        if self.notifier is not None:
            for position in positions:
                self.notifier.publish(PLAN_EVENTS, position)
