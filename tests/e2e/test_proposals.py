"""Proposals over GraphQL on both databases: drafted, reviewed, revised and adopted as delegates
would, two at once, one conflicting, one rejected, and eight adopters racing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import update

CONNECTIVITY = "priority-affordable-connectivity"
DIGITAL = "priority-digital-transformation"

PROPOSAL_FIELDS = """
fragment ProposalFields on Proposal {
  id proposalId planId title status revision baseVersion author authority changes
  reviews { reviewer authority verdict text revision nodeId }
  revisions { number baseVersion note author }
  conflicts { nodeId field message }
  preview { id planId version nodes { id nodeId title } }
  diff { planId fromVersion toVersion changed { node { nodeId } fields { field before after } } }
  adoptedAs { version actor proposal { proposalId } }
  closedBy reason
}
"""
RESULT = """
    __typename
    ... on ProposalUpdated { proposal { ...ProposalFields } }
    ... on UserError { message }
    ... on ValidationFailed { problems { path message } }
"""
PROPOSE = f"""
mutation Propose($input: ProposeAmendmentInput!) {{
  proposeAmendment(input: $input) {{ {RESULT} }}
}}
{PROPOSAL_FIELDS}"""
REVIEW = f"""
mutation Review($input: ReviewProposalInput!) {{
  reviewProposal(input: $input) {{ {RESULT} }}
}}
{PROPOSAL_FIELDS}"""
REVISE = f"""
mutation Revise($input: ReviseProposalInput!) {{
  reviseProposal(input: $input) {{ {RESULT} }}
}}
{PROPOSAL_FIELDS}"""
REJECT = f"""
mutation Reject($id: ID!, $reason: String) {{
  rejectProposal(id: $id, reason: $reason) {{ {RESULT} }}
}}
{PROPOSAL_FIELDS}"""
ADOPT = """
mutation Adopt($id: ID!, $version: Int!, $revision: Int!) {
  adoptProposal(id: $id, expectedVersion: $version, expectedRevision: $revision) {
    __typename
    ... on AmendmentApplied {
      plan { version }
      amendment { version proposal { proposalId status } }
    }
    ... on ProposalConflict { message conflicts { nodeId field message } }
    ... on VersionConflict { expectedVersion actualVersion }
    ... on ProposalClosed { status }
    ... on UserError { message }
  }
}
"""
READ = f"""
query Read($id: ID!, $plan: ID!, $status: ProposalStatus) {{
  proposal(id: $id) {{ ...ProposalFields }}
  proposals(planId: $plan, status: $status) {{ proposalId status }}
}}
{PROPOSAL_FIELDS}"""


async def propose(graphql: GraphQL, *changes: dict[str, Any], base: int = 1) -> dict[str, Any]:
    given = {
        "planId": "baku-2026",
        "baseVersion": base,
        "title": "Sharper priorities",
        "authority": "TDAG",
        "rationale": "Proposed by BDT after the regional consultations.",
        "changes": list(changes),
    }
    body = await graphql(PROPOSE, input=given)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["proposeAmendment"]
    assert result["__typename"] == "ProposalUpdated", result
    return result["proposal"]  # type: ignore[no-any-return]


async def adopt(graphql: GraphQL, proposal_id: str, version: int, revision: int = 1) -> Any:
    body = await graphql(ADOPT, id=proposal_id, version=version, revision=revision)
    assert "errors" not in body, body
    return body["data"]["adoptProposal"]


async def test_a_proposal_is_reviewed_revised_and_adopted_as_one_amendment_citing_it(
    graphql: GraphQL, baku: str
) -> None:
    opened = await propose(graphql, update(CONNECTIVITY, title="Connectivity"))
    pid = opened["proposalId"]
    assert pid == "baku-2026.p1"
    assert opened["status"] == "OPEN"
    assert opened["changes"] == [
        {"op": "updateNode", "id": CONNECTIVITY, "values": {"title": "Connectivity"}}
    ]
    # The preview is a whole plan whose ids name the proposal and revision, never a version's.
    assert opened["preview"]["planId"] == baku
    assert opened["preview"]["id"] == "Plan:baku-2026.p1~r1:2"
    assert all("baku-2026.p1~r1" in node["id"] for node in opened["preview"]["nodes"])
    assert opened["diff"]["changed"][0]["fields"][0]["after"] == "Connectivity"

    asked = {"proposalId": pid, "verdict": "REQUEST_CHANGES", "revision": 1}
    reviewed = await graphql(
        REVIEW, input={**asked, "text": "Keep it meaningful", "nodeId": CONNECTIVITY}
    )
    assert reviewed["data"]["reviewProposal"]["proposal"]["reviews"][0]["nodeId"] == CONNECTIVITY
    revised = await graphql(
        REVISE,
        input={
            "proposalId": pid,
            "expectedRevision": 1,
            "baseVersion": 1,
            "changes": [update(CONNECTIVITY, title="Meaningful connectivity")],
            "note": "As TDAG asked",
        },
    )
    assert revised["data"]["reviseProposal"]["proposal"]["revision"] == 2
    await graphql(REVIEW, input={"proposalId": pid, "verdict": "APPROVE", "revision": 2})

    stale = await adopt(graphql, pid, 1, revision=1)
    assert stale["__typename"] == "VersionConflict"
    applied = await adopt(graphql, pid, 1, revision=2)

    assert applied["__typename"] == "AmendmentApplied", applied
    assert applied["amendment"]["version"] == 2
    assert applied["amendment"]["proposal"] == {"proposalId": pid, "status": "ADOPTED"}
    read = (await graphql(READ, id=pid, plan=baku))["data"]["proposal"]
    assert read["adoptedAs"]["version"] == 2
    assert [r["verdict"] for r in read["reviews"]] == ["REQUEST_CHANGES", "APPROVE"]
    assert [r["note"] for r in read["revisions"]] == [None, "As TDAG asked"]


async def test_two_proposals_on_different_nodes_both_adopt_one_after_the_other(
    graphql: GraphQL, baku: str
) -> None:
    first = await propose(graphql, update(CONNECTIVITY, title="Connectivity"))
    second = await propose(graphql, update(DIGITAL, title="Inclusive digital transformation"))

    assert (await adopt(graphql, first["proposalId"], 1))["__typename"] == "AmendmentApplied"
    later = await adopt(graphql, second["proposalId"], 2)

    assert later["__typename"] == "AmendmentApplied", later
    assert later["plan"]["version"] == 3


async def test_the_same_field_changed_by_both_the_second_names_the_conflict(
    graphql: GraphQL, baku: str
) -> None:
    first = await propose(graphql, update(CONNECTIVITY, title="Connectivity"))
    second = await propose(graphql, update(CONNECTIVITY, title="Universal connectivity"))
    await adopt(graphql, first["proposalId"], 1)

    refused = await adopt(graphql, second["proposalId"], 2)
    read = (await graphql(READ, id=second["proposalId"], plan=baku))["data"]["proposal"]

    assert refused["__typename"] == "ProposalConflict", refused
    assert [(c["nodeId"], c["field"]) for c in refused["conflicts"]] == [(CONNECTIVITY, "title")]
    assert read["conflicts"] == refused["conflicts"]
    assert read["preview"] is None
    assert read["status"] == "OPEN"


async def test_a_rejected_proposal_stays_readable(graphql: GraphQL, baku: str) -> None:
    opened = await propose(graphql, update(CONNECTIVITY, title="Connectivity"))
    pid = opened["proposalId"]
    rejected = await graphql(REJECT, id=pid, reason="Outside TDAG's remit")
    assert rejected["data"]["rejectProposal"]["proposal"]["status"] == "REJECTED"

    body = await graphql(READ, id=pid, plan=baku, status="REJECTED")

    assert body["data"]["proposal"]["reason"] == "Outside TDAG's remit"
    assert body["data"]["proposal"]["changes"] == opened["changes"]
    assert body["data"]["proposals"] == [{"proposalId": pid, "status": "REJECTED"}]
    closed = await adopt(graphql, pid, 1)
    assert closed == {
        "__typename": "ProposalClosed",
        "status": "REJECTED",
        "message": closed["message"],
    }


async def test_eight_adopters_racing_adopt_exactly_once(graphql: GraphQL, baku: str) -> None:
    opened = await propose(graphql, update(CONNECTIVITY, title="Connectivity"))

    results = await asyncio.gather(*(adopt(graphql, opened["proposalId"], 1) for _ in range(8)))

    kinds = [result["__typename"] for result in results]
    assert kinds.count("AmendmentApplied") == 1, kinds
    assert set(kinds) <= {"AmendmentApplied", "VersionConflict", "ProposalClosed"}
    plan = await graphql('query { plan(id: "baku-2026") { version } }')
    assert plan["data"]["plan"]["version"] == 2


async def test_a_proposal_that_does_not_apply_to_its_base_names_the_change(
    graphql: GraphQL, baku: str
) -> None:
    given = {
        "planId": baku,
        "baseVersion": 1,
        "title": "Nothing real",
        "authority": "TDAG",
        "rationale": "Test",
        "changes": [update("ghost", title="Boo")],
    }
    body = await graphql(PROPOSE, input=given)
    result = body["data"]["proposeAmendment"]
    assert result["__typename"] == "ValidationFailed"
    assert result["problems"][0]["path"] == "changes[0].updateNode.id"


async def test_a_proposal_exports_as_a_marked_up_draft(
    graphql: GraphQL, baku: str, client: httpx.AsyncClient
) -> None:
    added = {
        "addNode": {
            "kind": "OUTCOME",
            "id": "outcome-schools",
            "parentId": CONNECTIVITY,
            "code": "1.9",
            "title": "Every school connected",
        }
    }
    opened = await propose(graphql, update(DIGITAL, title="Inclusive transformation"), added)

    page = await client.get(f"/proposals/{opened['proposalId']}/document?format=html")
    markdown = await client.get(f"/proposals/{opened['proposalId']}/document")
    missing = await client.get("/proposals/baku-2026.p99/document")

    assert page.status_code == 200, page.text
    assert "<ins>Outcome 1.9 Every school connected</ins>" in page.text
    assert "<del>title: " in page.text
    assert "<ins>title: Inclusive transformation</ins>" in page.text
    assert "draft: Sharper priorities" in markdown.text
    assert missing.status_code == 404


async def test_the_audit_page_query_lists_proposals_with_reviews_and_diff(
    graphql: GraphQL, baku: str
) -> None:
    from planapi.api.runtime.trusted import audit_page_documents
    from planapi.entrypoints.audit import STATIC

    script = (STATIC / "audit.js").read_text(encoding="utf-8")
    [query] = [d for d in audit_page_documents(script) if "AuditProposals" in d.body]
    opened = await propose(graphql, update(CONNECTIVITY, title="Connectivity"))
    review = {"proposalId": opened["proposalId"], "verdict": "COMMENT", "revision": 1}
    await graphql(REVIEW, input={**review, "text": "Fine by the Africa group"})

    body = await graphql(query.body, id=baku)

    assert "errors" not in body, body
    [listed] = body["data"]["proposals"]
    assert listed["reviews"][0]["text"] == "Fine by the Africa group"
    assert listed["diff"]["changed"][0]["node"]["nodeId"] == CONNECTIVITY
