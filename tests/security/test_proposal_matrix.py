"""Who may do what to a proposal, by caller: roles and authority grants on tokens, over GraphQL on
both databases — allowed where docs/security.md ("Proposals") says, Forbidden elsewhere, and a
refusal writes nothing. Then the setting that sends an authority's amendments through proposals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from planapi.config import Settings
from tests.e2e.conftest import issue_token
from tests.e2e.queries import CREATE
from tests.readings_fixtures import PLAN_ID, create_plan_input
from tests.security.conftest import http_client, post_graphql, retitling, running

RESULT = """
    __typename
    ... on ProposalUpdated { proposal { proposalId status reviews { verdict } } }
    ... on Forbidden { message reason }
    ... on UserError { message }
"""
PROPOSE = f"mutation($i: ProposeAmendmentInput!) {{ proposeAmendment(input: $i) {{ {RESULT} }} }}"
REVIEW = f"mutation($i: ReviewProposalInput!) {{ reviewProposal(input: $i) {{ {RESULT} }} }}"
WITHDRAW = f"mutation($id: ID!) {{ withdrawProposal(id: $id) {{ {RESULT} }} }}"
REJECT = f"mutation($id: ID!) {{ rejectProposal(id: $id) {{ {RESULT} }} }}"
ADOPT = """mutation($id: ID!, $v: Int!) {
  adoptProposal(id: $id, expectedVersion: $v, expectedRevision: 1) {
    __typename ... on AmendmentApplied { amendment { version proposal { proposalId } } }
    ... on Forbidden { message reason } ... on UserError { message } } }"""
AMEND = """
mutation($input: AmendPlanInput!) {
  amendPlan(input: $input) { __typename ... on Forbidden { message reason } }
}
"""

# caller: (role, grants) — None: no credentials at all.
CALLERS: dict[str, tuple[str, list[str]] | None] = {
    "anonymous": None,
    "reader": ("reader", []),
    "reader with review:TDAG": ("reader", ["review:TDAG"]),
    "editor": ("editor", []),
    "editor with review:TDAG": ("editor", ["review:TDAG"]),
    "editor with adopt:WTDC": ("editor", ["adopt:WTDC"]),
    "editor with adopt:TDAG": ("editor", ["adopt:TDAG"]),
    "admin": ("admin", []),
}
# What each caller may do to a TDAG proposal drafted by someone else.
MAY: dict[str, set[str]] = {
    "anonymous": set(),
    "reader": {"comment"},
    "reader with review:TDAG": {"comment", "approve"},
    "editor": {"propose", "comment"},
    "editor with review:TDAG": {"propose", "comment", "approve"},
    "editor with adopt:WTDC": {"propose", "comment"},
    "editor with adopt:TDAG": {"propose", "comment", "reject", "adopt"},
    "admin": {"propose", "comment", "approve", "withdraw", "reject", "adopt"},
}


def draft(version: int) -> dict[str, Any]:
    return {
        "planId": PLAN_ID,
        "baseVersion": version,
        "title": "Retitle p1",
        "authority": "TDAG",
        "rationale": "matrix",
        "changes": [{"updateNode": {"id": "p1", "title": "Retitled"}}],
    }


async def opened(http: httpx.AsyncClient) -> str:
    status, body = await post_graphql(http, PROPOSE, i=draft(1))
    assert "data" in body, (status, body)
    result = body["data"]["proposeAmendment"]
    assert result["__typename"] == "ProposalUpdated", result
    return str(result["proposal"]["proposalId"])


def review(proposal_id: str, verdict: str) -> dict[str, Any]:
    return {"proposalId": proposal_id, "verdict": verdict, "revision": 1, "text": "ok"}


def check(body: dict[str, Any], allowed: bool, what: str) -> None:
    """Allowed: the success member. Refused: Forbidden, or (by the door's guard, before any
    resolver) a GraphQL error naming the missing permission."""
    if body.get("errors"):
        assert not allowed, (what, body)
        assert body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}
        return
    [result] = body["data"].values()
    if allowed:
        assert result["__typename"] in {"ProposalUpdated", "AmendmentApplied"}, (what, result)
    else:
        assert result["__typename"] == "Forbidden", (what, result)


@pytest.mark.parametrize("caller", list(CALLERS))
async def test_each_caller_may_do_to_a_proposal_exactly_what_the_rules_say(
    app: Starlette, readings_plan: str, settings: Settings, admin_token: str, caller: str
) -> None:
    given = CALLERS[caller]
    token = None
    if given is not None:
        role, grants = given
        token = await issue_token(settings, "the-caller", role, grants=grants)
    drafter = await issue_token(settings, "the-drafter", "editor")
    may = MAY[caller]
    async with http_client(app, token) as http, http_client(app, drafter) as author:
        first, second = await opened(author), await opened(author)

        for what, document, variables in (
            ("propose", PROPOSE, {"i": draft(1)}),
            ("comment", REVIEW, {"i": review(first, "COMMENT")}),
            ("approve", REVIEW, {"i": review(first, "APPROVE")}),
            ("withdraw", WITHDRAW, {"id": first}),
            ("reject", REJECT, {"id": second}),
            ("adopt", ADOPT, {"id": await opened(author), "v": 1}),
        ):
            _, body = await post_graphql(http, document, **variables)
            check(body, what in may, what)
        _, plan = await post_graphql(author, f'{{ plan(id: "{PLAN_ID}") {{ version }} }}')
        assert plan["data"]["plan"]["version"] == (2 if "adopt" in may else 1)


async def test_an_authority_listed_as_proposals_only_cannot_amend_directly(
    settings: Settings, admin_token: str
) -> None:
    strict = settings.model_copy(update={"proposal_authorities": "TDAG"})
    async with running(strict) as app, http_client(app, admin_token) as http:
        await post_graphql(http, CREATE, input=create_plan_input())
        given = retitling("p1", "Retitled", "straight in")
        _, body = await post_graphql(http, AMEND, input=given)
        refused = body["data"]["amendPlan"]
        _, other = await post_graphql(http, AMEND, input={**given, "authority": "WTDC"})

    assert refused["__typename"] == "Forbidden", refused
    assert "proposeAmendment" in refused["message"]
    assert other["data"]["amendPlan"]["__typename"] == "AmendmentApplied"
