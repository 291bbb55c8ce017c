"""Proposals on both databases: drafted, reviewed, revised, adopted (exactly once under a race),
rejected and still readable; their facts in the same hash-chained log as the plan's versions."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.clock import SystemClock
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.proposal_store import SqlProposalLog
from planapi.adapters.snapshots import SqlSnapshotStore
from planapi.adapters.tables import events
from planapi.application.access import AccessDeniedError, Principal, Role, principal_for
from planapi.application.plans import PlanService
from planapi.application.proposals import (
    AdoptProposal,
    ProposalConflictError,
    ProposalService,
    ProposeAmendment,
    ReviewProposal,
    ReviseProposal,
)
from planapi.domain.changes import AddNode, Change, UpdateNode
from planapi.domain.errors import IdempotencyKeyReusedError, ValidationError, VersionConflictError
from planapi.domain.events import Authority
from planapi.domain.nodes import NodeKind
from planapi.domain.proposals import (
    ProposalAdopted,
    ProposalClosedError,
    ProposalStatus,
    Verdict,
)
from tests.contract.builders import create_command, guards_lifted

PLAN = "baku-2026"
DRAFTER = principal_for("bdt-drafter", Role.EDITOR, "token")
OTHER_DRAFTER = principal_for("member-state", Role.EDITOR, "token")
TDAG = principal_for("tdag-chair", Role.EDITOR, "token", grants={"review:TDAG", "adopt:TDAG"})
WTDC = principal_for("wtdc-chair", Role.EDITOR, "token", grants={"adopt:WTDC"})


def services(engine: AsyncEngine) -> ProposalService:
    """A use case over its own caches, as another process on the same database would be."""
    events = SqlEventStore(engine, SystemClock())
    plans = PlanService(events, SqlSnapshotStore(engine, SystemClock()), default_actor="tester")
    return ProposalService(plans, SqlProposalLog(events))


@pytest.fixture
def proposals(engine: AsyncEngine) -> ProposalService:
    return services(engine)


async def seeded(proposals: ProposalService) -> int:
    changes = (
        AddNode(NodeKind.PRIORITY, "Connectivity", "p1", values={"code": "1"}),
        AddNode(NodeKind.OUTCOME, "Access", "o1", "p1", values={"code": "1.1"}),
        AddNode(NodeKind.OUTCOME, "Quality", "o2", "p1", values={"code": "1.2"}),
    )
    created = await proposals.plans.create_plan(
        dataclasses.replace(create_command(PLAN), changes=changes)
    )
    return created.state.version


def draft(base: int, *changes: Change, key: str | None = None) -> ProposeAmendment:
    return ProposeAmendment(
        plan_id=PLAN,
        base_version=base,
        title="Sharper outcomes",
        authority=Authority.TDAG,
        rationale="Proposed by BDT after the regional consultations.",
        changes=changes,
        idempotency_key=key,
    )


async def test_two_proposals_on_different_nodes_both_adopt_one_after_the_other(
    proposals: ProposalService,
) -> None:
    base = await seeded(proposals)
    first = await proposals.propose(
        draft(base, UpdateNode("o1", {"title": "Universal access"})), DRAFTER
    )
    second = await proposals.propose(
        draft(base, UpdateNode("o2", {"title": "Meaningful quality"})), OTHER_DRAFTER
    )
    assert (first.id, second.id) == (f"{PLAN}.p1", f"{PLAN}.p2")

    adopted = await proposals.adopt(AdoptProposal(first.id, base, 1), TDAG)
    again = await proposals.adopt(AdoptProposal(second.id, base + 1, 1), TDAG)

    assert again.state.version == base + 2
    assert again.state.nodes["o1"].title == "Universal access"
    assert again.state.nodes["o2"].title == "Meaningful quality"
    assert adopted.amendment.info.proposal == first.id
    assert again.amendment.info.proposal == second.id
    assert again.amendment.info.actor == "tdag-chair"
    done = await proposals.require(second.id)
    assert done.status is ProposalStatus.ADOPTED
    assert done.adopted_version == base + 2


async def test_the_same_field_changed_by_both_the_second_names_the_conflict(
    proposals: ProposalService,
) -> None:
    base = await seeded(proposals)
    first = await proposals.propose(
        draft(base, UpdateNode("o1", {"title": "Universal access"})), DRAFTER
    )
    second = await proposals.propose(
        draft(base, UpdateNode("o1", {"title": "Affordable access"})), OTHER_DRAFTER
    )
    await proposals.adopt(AdoptProposal(first.id, base, 1), TDAG)

    preview = await proposals.preview(await proposals.require(second.id))
    with pytest.raises(ProposalConflictError) as refused:
        await proposals.adopt(AdoptProposal(second.id, base + 1, 1), TDAG)

    assert [(c.node_id, c.field) for c in refused.value.conflicts] == [("o1", "title")]
    assert [(c.node_id, c.field) for c in preview.conflicts] == [("o1", "title")]
    assert preview.state is None
    assert (await proposals.plans.require(PLAN)).state.version == base + 1
    assert (await proposals.require(second.id)).status is ProposalStatus.OPEN


async def test_a_revision_answers_a_review_and_only_the_revision_seen_adopts(
    proposals: ProposalService, event_store: SqlEventStore
) -> None:
    base = await seeded(proposals)
    opened = await proposals.propose(draft(base, UpdateNode("o1", {"title": "Access"})), DRAFTER)
    asked = ReviewProposal(opened.id, Verdict.REQUEST_CHANGES, "Say universal.", 1, "o1")
    await proposals.review(asked, TDAG)
    revised = await proposals.revise(
        ReviseProposal(
            opened.id, 1, base, (UpdateNode("o1", {"title": "Universal access"}),), "As TDAG asked"
        ),
        DRAFTER,
    )
    await proposals.review(ReviewProposal(opened.id, Verdict.APPROVE, "", 2), TDAG)

    with pytest.raises(VersionConflictError):
        await proposals.adopt(AdoptProposal(opened.id, base, 1), TDAG)
    adopted = await proposals.adopt(AdoptProposal(opened.id, base, 2), TDAG)

    assert [r.number for r in revised.revisions] == [1, 2]
    final = await proposals.require(opened.id)
    assert [(r.verdict, r.revision, r.node_id) for r in final.reviews] == [
        (Verdict.REQUEST_CHANGES, 1, "o1"),
        (Verdict.APPROVE, 2, None),
    ]
    assert final.revisions[1].note == "As TDAG asked"
    assert adopted.state.nodes["o1"].title == "Universal access"
    # Reviews and revisions never moved the plan: one version for the adoption.
    assert adopted.state.version == base + 1
    assert (await event_store.verify(f"proposal:{opened.id}")).ok


async def test_a_rejected_proposal_stays_readable_and_cannot_be_adopted(
    proposals: ProposalService,
) -> None:
    base = await seeded(proposals)
    opened = await proposals.propose(draft(base, UpdateNode("o1", {"title": "Access"})), DRAFTER)
    await proposals.review(ReviewProposal(opened.id, Verdict.COMMENT, "Out of remit?", 1), DRAFTER)
    await proposals.reject(opened.id, "Outside TDAG's remit", TDAG)

    found = await services(proposals.plans.events.engine).require(opened.id)  # type: ignore[attr-defined]
    assert found.status is ProposalStatus.REJECTED
    assert found.reason == "Outside TDAG's remit"
    assert found.closed_by == "tdag-chair"
    assert [r.text for r in found.reviews] == ["Out of remit?"]
    assert found.current.changes == (UpdateNode("o1", {"title": "Access"}),)
    assert (await proposals.preview(found)).diff is not None
    with pytest.raises(ProposalClosedError):
        await proposals.adopt(AdoptProposal(opened.id, base, 1), TDAG)
    assert (await proposals.proposals(PLAN, ProposalStatus.REJECTED)) == [found]
    assert await proposals.proposals(PLAN, ProposalStatus.OPEN) == []


async def test_eight_adopters_racing_adopt_exactly_once(
    proposals: ProposalService, engine: AsyncEngine, event_store: SqlEventStore
) -> None:
    base = await seeded(proposals)
    opened = await proposals.propose(draft(base, UpdateNode("o1", {"title": "Universal"})), DRAFTER)
    racers = [services(engine) for _ in range(8)]

    outcomes = await asyncio.gather(
        *(racer.adopt(AdoptProposal(opened.id, base, 1), TDAG) for racer in racers),
        return_exceptions=True,
    )

    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(won) == 1
    assert all(isinstance(o, VersionConflictError | ProposalClosedError) for o in lost), lost
    assert await event_store.latest_version(f"plan:{PLAN}") == base + 1
    facts = await SqlProposalLog(event_store).read(f"proposal:{opened.id}")
    assert [type(f.event) for f in facts].count(ProposalAdopted) == 1


async def test_a_proposal_is_checked_against_its_base_and_names_the_bad_change(
    proposals: ProposalService,
) -> None:
    base = await seeded(proposals)
    with pytest.raises(ValidationError) as refused:
        await proposals.propose(draft(base, UpdateNode("ghost", {"title": "Boo"})), DRAFTER)
    assert [p.path for p in refused.value.problems] == [("changes", 0, "updateNode", "id")]
    assert await proposals.proposals(PLAN) == []


async def test_an_idempotency_key_answers_a_retry_and_refuses_a_different_request(
    proposals: ProposalService,
) -> None:
    base = await seeded(proposals)
    change = UpdateNode("o1", {"title": "Universal access"})
    first = await proposals.propose(draft(base, change, key="k-1"), DRAFTER)
    again = await proposals.propose(draft(base, change, key="k-1"), DRAFTER)
    assert again == first
    with pytest.raises(IdempotencyKeyReusedError):
        await proposals.propose(draft(base, UpdateNode("o2", {"code": "9"}), key="k-1"), DRAFTER)
    assert len(await proposals.proposals(PLAN)) == 1


@pytest.mark.parametrize(
    ("who", "allowed"),
    [(DRAFTER, False), (WTDC, False), (TDAG, True)],
    ids=["none", "wtdc", "tdag"],
)
async def test_approving_and_adopting_need_a_grant_for_the_proposals_authority(
    proposals: ProposalService, who: Principal, allowed: bool
) -> None:
    base = await seeded(proposals)
    opened = await proposals.propose(draft(base, UpdateNode("o1", {"title": "Universal"})), DRAFTER)
    approve = proposals.review(ReviewProposal(opened.id, Verdict.APPROVE, "", 1), who)
    adopt = proposals.adopt(AdoptProposal(opened.id, base, 1), who)
    if allowed:
        await approve
        await adopt
        return
    with pytest.raises(AccessDeniedError, match="review:TDAG"):
        await approve
    with pytest.raises(AccessDeniedError, match="adopt:TDAG"):
        await adopt
    assert (await proposals.require(opened.id)).reviews == ()


async def test_only_the_author_revises_or_withdraws(proposals: ProposalService) -> None:
    base = await seeded(proposals)
    opened = await proposals.propose(draft(base, UpdateNode("o1", {"title": "Universal"})), DRAFTER)
    with pytest.raises(AccessDeniedError, match="author"):
        await proposals.withdraw(opened.id, "not mine", OTHER_DRAFTER)
    withdrawn = await proposals.withdraw(opened.id, "superseded", DRAFTER)
    assert withdrawn.status is ProposalStatus.WITHDRAWN


async def test_proposal_facts_share_the_plans_log_in_global_order(
    proposals: ProposalService, event_store: SqlEventStore
) -> None:
    base = await seeded(proposals)
    opened = await proposals.propose(draft(base, UpdateNode("o1", {"title": "Universal"})), DRAFTER)
    await proposals.adopt(AdoptProposal(opened.id, base, 1), TDAG)

    log = await event_store.read_all(0, 100)

    assert [(r.stream_id, type(r.event).__name__) for r in log] == [
        (f"plan:{PLAN}", "PlanCreated"),
        (f"proposal:{opened.id}", "ProposalOpened"),
        (f"plan:{PLAN}", "PlanAmended"),
        (f"proposal:{opened.id}", "ProposalAdopted"),
    ]
    assert [r.position for r in log] == sorted(r.position for r in log)


async def test_a_review_altered_after_it_was_written_breaks_the_proposals_chain(
    proposals: ProposalService, engine: AsyncEngine
) -> None:
    base = await seeded(proposals)
    opened = await proposals.propose(draft(base, UpdateNode("o1", {"title": "Universal"})), DRAFTER)
    await proposals.review(ReviewProposal(opened.id, Verdict.REQUEST_CHANGES, "No", 1), TDAG)
    [intact] = await proposals.verify(PLAN)
    assert intact.ok
    assert intact.checked == 2

    stream = f"proposal:{opened.id}"
    async with guards_lifted(engine) as conn:
        row = (events.c.stream_id == stream) & (events.c.version == 2)
        stored = (await conn.execute(select(events.c.data).where(row))).scalar_one()
        await conn.execute(update(events).where(row).values(data={**stored, "verdict": "APPROVE"}))

    [broken] = await proposals.verify(PLAN)
    assert broken.first_break is not None
    assert (broken.first_break.version, broken.first_break.what) == (2, "altered")
