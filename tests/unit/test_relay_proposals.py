"""The relay publishes a proposal's facts like a plan's versions: same message shape, its type
named, its stream in the subject."""

from __future__ import annotations

import datetime as dt
import json

from planapi.application.proposal_ports import RecordedFact
from planapi.domain.changes import UpdateNode
from planapi.domain.events import AmendmentInfo, Authority
from planapi.domain.proposals import ProposalOpened
from planapi.entrypoints.relay import message_of, subject_of


def test_a_proposal_fact_is_published_with_its_type_and_stream() -> None:
    fact = RecordedFact(
        stream_id="proposal:baku-2026.p1",
        version=1,
        position=42,
        event=ProposalOpened("baku-2026", 3, "Retitle", (UpdateNode("p1", {"title": "New"}),)),
        info=AmendmentInfo("bdt", Authority.TDAG, "why"),
        recorded_at=dt.datetime(2026, 12, 6, tzinfo=dt.UTC),
        hash=b"\x01" * 32,
    )

    payload, headers = message_of(fact)

    message = json.loads(payload)
    assert message["type"] == headers["Planapi-Event-Type"] == "ProposalOpened"
    assert message["data"]["changes"] == [
        {"op": "updateNode", "id": "p1", "values": {"title": "New"}}
    ]
    assert headers["Nats-Msg-Id"] == "42"
    assert subject_of("planapi", fact.stream_id) == "planapi.proposal.baku-2026_p1"
