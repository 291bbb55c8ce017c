"""proposalUpdated through the schema on both backends, wired as the app wires it: each new fact
of any of a plan's proposals reaches the subscriber as the proposal now stands."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import ExecutionResult

from planapi.api.schema import build_schema
from planapi.api.types.context import Context
from planapi.application.access import Role, principal_for
from planapi.application.proposals import ProposeAmendment, ReviewProposal
from planapi.bootstrap import Services, bootstrap
from planapi.config import Settings
from planapi.domain.changes import UpdateNode
from planapi.domain.events import Authority
from planapi.domain.proposals import Verdict
from tests.readings_fixtures import PLAN_ID, create_plan_command

UPDATED = """
subscription Updated($planId: ID!) {
  proposalUpdated(planId: $planId) { proposalId status revision reviews { verdict text } }
}
"""
WAIT = 10.0
ADMIN = principal_for("chair", Role.ADMIN, "token")


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    services = await bootstrap(settings)
    await services.notifier.start()
    await services.plans.create_plan(create_plan_command())
    try:
        yield services
    finally:
        await services.close()


async def test_a_subscriber_sees_a_proposal_opened_then_reviewed(services: Services) -> None:
    assert services.proposals is not None
    context = Context(
        plans=services.plans,
        readings=services.readings,
        live=services.live,
        proposals=services.proposals,
        principal=principal_for("subscriber", Role.READER, "token"),
    )
    stream = await build_schema().subscribe(
        UPDATED, variable_values={"planId": PLAN_ID}, context_value=context
    )
    assert not isinstance(stream, ExecutionResult), stream
    try:
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.5)  # the subscription listens, then notes where things stand
        draft = ProposeAmendment(
            PLAN_ID, 1, "Retitle", Authority.TDAG, "why", [UpdateNode("p1", {"title": "New"})]
        )
        opened = await services.proposals.propose(draft, ADMIN)
        got: Any = await asyncio.wait_for(first, WAIT)
        assert not got.errors, got.errors
        assert got.data["proposalUpdated"] == {
            "proposalId": opened.id,
            "status": "OPEN",
            "revision": 1,
            "reviews": [],
        }
        review = ReviewProposal(opened.id, Verdict.COMMENT, "Looks fine", 1)
        await services.proposals.review(review, ADMIN)
        got = await asyncio.wait_for(anext(stream), WAIT)
        assert got.data["proposalUpdated"]["reviews"] == [
            {"verdict": "COMMENT", "text": "Looks fine"}
        ]
    finally:
        await stream.aclose()
