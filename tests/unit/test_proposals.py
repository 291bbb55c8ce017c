"""A proposal's facts: stored and read back unchanged, folded into what a reviewer sees, and
refused once the proposal is closed."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planapi.adapters.proposal_codec import decode_any, encode_any
from planapi.domain.changes import Change, UpdateNode
from planapi.domain.errors import ValidationError
from planapi.domain.events import AmendmentInfo, Authority
from planapi.domain.plan import EMPTY
from planapi.domain.proposals import (
    Fact,
    ProposalAdopted,
    ProposalClosedError,
    ProposalOpened,
    ProposalRejected,
    ProposalReviewed,
    ProposalRevised,
    ProposalStatus,
    ProposalWithdrawn,
    Verdict,
    decide_closing,
    decide_review,
    fold_proposal,
)
from tests.unit.strategies import PLAN_END, PLAN_START, new_plan, valid_adds, valid_changes

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AT = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
BDT = AmendmentInfo("bdt-drafter", Authority.WTDC, "Bring KPI 1.1 up to date.")
TDAG = AmendmentInfo("tdag-member", Authority.TDAG, "review")


@st.composite
def changes(draw: st.DrawFn) -> list[Change]:
    start = dataclasses.replace(EMPTY, period_start=PLAN_START, period_end=PLAN_END)
    base = new_plan(*draw(valid_adds(start, max_size=8)))
    return draw(valid_changes(base, max_size=5))


@FAST
@given(changes(), st.sampled_from(list(Verdict)))
def test_every_proposal_event_reads_back_as_it_was_stored(
    drawn: list[Change], verdict: Verdict
) -> None:
    events = [
        ProposalOpened("baku-2026", 3, "KPI 1.1 targets", tuple(drawn)),
        ProposalRevised(4, tuple(drawn), "answers the TDAG review"),
        ProposalReviewed(verdict, "Looks right.", 2, "kpi-1"),
        ProposalWithdrawn("superseded"),
        ProposalRejected(None),
        ProposalAdopted(2, 5),
    ]
    for event in events:
        type_, schema_version, data = encode_any(event)
        assert decode_any(type_, schema_version, data) == event


def opened(*later: Fact) -> list[Fact]:
    first = ProposalOpened("baku-2026", 3, "KPI targets", (UpdateNode("kpi-1", {"unit": "%"}),))
    return [Fact(1, first, BDT, AT), *later]


def test_a_proposal_keeps_every_revision_and_review_in_order() -> None:
    revised = ProposalRevised(4, (UpdateNode("kpi-1", {"unit": "people"}),), "as TDAG asked")
    facts = opened(
        Fact(2, ProposalReviewed(Verdict.REQUEST_CHANGES, "Use people", 1), TDAG, AT),
        Fact(3, revised, BDT, AT + dt.timedelta(hours=1)),
        Fact(4, ProposalReviewed(Verdict.APPROVE, "", 2), TDAG, AT),
    )
    proposal = fold_proposal("baku-2026.p1", facts)
    assert proposal.status is ProposalStatus.OPEN
    assert [r.number for r in proposal.revisions] == [1, 2]
    assert proposal.current.base_version == 4
    assert proposal.current.note == "as TDAG asked"
    assert [(r.verdict, r.revision, r.authority) for r in proposal.reviews] == [
        (Verdict.REQUEST_CHANGES, 1, Authority.TDAG),
        (Verdict.APPROVE, 2, Authority.TDAG),
    ]
    assert proposal.version == 4
    assert proposal.author == "bdt-drafter"


def test_an_adopted_proposal_names_the_version_it_made() -> None:
    proposal = fold_proposal("baku-2026.p1", opened(Fact(2, ProposalAdopted(1, 7), BDT, AT)))
    assert proposal.status is ProposalStatus.ADOPTED
    assert proposal.adopted_version == 7
    assert proposal.closed_by == "bdt-drafter"


def test_a_closed_proposal_refuses_reviews_and_closing_again() -> None:
    proposal = fold_proposal(
        "baku-2026.p1", opened(Fact(2, ProposalRejected("out of remit"), TDAG, AT))
    )
    assert proposal.status is ProposalStatus.REJECTED
    assert proposal.reason == "out of remit"
    with pytest.raises(ProposalClosedError, match="rejected"):
        decide_review(proposal, Verdict.COMMENT, "late", 1, None)
    with pytest.raises(ProposalClosedError):
        decide_closing(proposal, ProposalWithdrawn(None))


def test_a_review_must_name_a_revision_that_exists_and_say_why_it_asks_for_changes() -> None:
    proposal = fold_proposal("baku-2026.p1", opened())
    with pytest.raises(ValidationError) as refused:
        decide_review(proposal, Verdict.REQUEST_CHANGES, "  ", 2, None)
    assert [p.path for p in refused.value.problems] == [("text",), ("revision",)]
    assert decide_review(proposal, Verdict.APPROVE, "", 1, None).text == ""
