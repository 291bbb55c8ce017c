"""An operational plan's activities link into the action plan's version in force on the day
the creation or amendment takes effect (its `effectiveFrom`, else the day it is recorded), not
into whatever the action plan's latest version holds; while no version is in force (the draft
was never adopted), into its latest. On both backends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import AMEND, CREATE, add
from tests.operational_fixtures import CONNECTIVITY, DIGITAL, PLAN_ID, activity, operational_input

Amend = Callable[..., Awaitable[dict[str, Any]]]
OUTCOME = "outcome-digital-skills"
LINKED = activity("act-skills", "A1", servesIds=[CONNECTIVITY, OUTCOME])


async def _adopted_then_outcome(amend: Amend, baku: str) -> None:
    """Version 2 adopts the draft from 2026; version 3 adds an outcome from 2028 on."""
    adopted = await amend(baku, 1, status="ADOPTED", authority="WTDC", effectiveFrom="2026-01-01")
    assert adopted["__typename"] == "AmendmentApplied", adopted
    change = add("OUTCOME", "Digital skills", id=OUTCOME, parentId=DIGITAL)
    later = await amend(baku, 2, change, effectiveFrom="2028-01-01")
    assert later["__typename"] == "AmendmentApplied", later


async def _create(graphql: GraphQL, *changes: Any, **extra: Any) -> dict[str, Any]:
    body = await graphql(CREATE, input=operational_input(*changes, **extra))
    assert "errors" not in body, body
    return body["data"]["createPlan"]  # type: ignore[no-any-return]


async def test_a_link_to_a_node_not_yet_in_force_is_refused_naming_the_field(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await _adopted_then_outcome(amend, baku)

    refused = await _create(graphql, LINKED, effectiveFrom="2027-01-01")
    assert refused["__typename"] == "ValidationFailed", refused
    [problem] = refused["problems"]
    assert problem["path"] == "changes[0].addNode.servesIds[1]"
    assert OUTCOME in problem["message"]
    assert "version 2 (in force)" in problem["message"]

    # From 2028 the outcome is in force: the same link holds.
    created = await _create(graphql, LINKED, effectiveFrom="2028-02-01")
    assert created["__typename"] == "PlanCreated", created


async def test_an_amendment_links_into_the_version_in_force_on_its_own_day(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await _adopted_then_outcome(amend, baku)
    plain = activity("act-toolkit", "A0")
    assert (await _create(graphql, plain, effectiveFrom="2027-01-01"))["__typename"] == (
        "PlanCreated"
    )
    given = {"planId": PLAN_ID, "authority": "BDT", "rationale": "More", "changes": [LINKED]}

    early = await graphql(
        AMEND, input={**given, "expectedVersion": 1, "effectiveFrom": "2027-06-01"}
    )
    result = early["data"]["amendPlan"]
    assert result["__typename"] == "ValidationFailed", result
    assert [p["path"] for p in result["problems"]] == ["changes[0].addNode.servesIds[1]"]

    late = await graphql(
        AMEND, input={**given, "expectedVersion": 1, "effectiveFrom": "2028-01-01"}
    )
    assert late["data"]["amendPlan"]["__typename"] == "AmendmentApplied", late


async def test_while_the_draft_was_never_adopted_links_go_to_its_latest_version(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    change = add("OUTCOME", "Digital skills", id=OUTCOME, parentId=DIGITAL)
    assert (await amend(baku, 1, change))["__typename"] == "AmendmentApplied"

    created = await _create(graphql, LINKED, effectiveFrom="2027-01-01")
    assert created["__typename"] == "PlanCreated", created

    missing = activity("act-nowhere", "A9", servesIds=["outcome-nowhere"])
    refused = await _create(graphql, missing, id="ops-two")
    assert refused["__typename"] == "ValidationFailed", refused
    [problem] = refused["problems"]
    assert problem["path"] == "changes[0].addNode.servesIds[0]"
    assert "version 2 (the latest: none in force)" in problem["message"]
