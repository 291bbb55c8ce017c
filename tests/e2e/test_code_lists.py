"""Code lists over GraphQL, references checked against them, and the reverse lookup: what an
integrator sees when it points plan nodes at SDG, WSIS and ITU codes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import update

Amend = Callable[..., Awaitable[dict[str, Any]]]
DIGITAL = "priority-digital-transformation"
CONNECTIVITY = "priority-affordable-connectivity"

BY_REFERENCE = """
query($plan: ID!, $vocabulary: ReferenceVocabulary!, $code: String!, $version: Int) {
  nodesByReference(planId: $plan, vocabulary: $vocabulary, code: $code, version: $version) {
    nodeId references { vocabulary code known }
  }
}"""


async def test_code_lists_name_their_source_and_carry_the_codes(graphql: GraphQL) -> None:
    body = await graphql("{ codeLists { id version source asOf kind } }")

    lists = {found["id"]: found for found in body["data"]["codeLists"]}
    assert {
        "ISO_3166_1_ALPHA3",
        "SDG_TARGETS",
        "SDG_INDICATORS",
        "WSIS_ACTION_LINES",
        "ITU_STRATEGIC_GOALS",
        "ITU_D_REGIONS",
        "UN_M49_REGIONS",
        "UN_COUNTRY_GROUPS",
    } <= set(lists)
    assert all(found["source"] and found["asOf"] for found in lists.values())
    assert lists["UN_COUNTRY_GROUPS"]["kind"] == "GROUPING"

    body = await graphql('{ codeList(id: "WSIS_ACTION_LINES") { codes { id } } }')
    assert [c["id"] for c in body["data"]["codeList"]["codes"]] == [f"C{i}" for i in range(1, 12)]
    body = await graphql('{ codeList(id: "SDG_TARGETS") { codes { id parent } } }')
    targets = {c["id"]: c["parent"] for c in body["data"]["codeList"]["codes"]}
    assert len(targets) == 169
    assert targets["9.c"] == "9"
    assert "17.19" in targets
    body = await graphql('{ codeList(id: "NO_SUCH_LIST") { id } }')
    assert body["data"]["codeList"] is None


async def test_group_membership_changes_on_the_dates_it_changed(graphql: GraphQL) -> None:
    query = """query($on: Date) { codeList(id: "UN_COUNTRY_GROUPS") {
      codes(on: $on) { id members(on: $on) } } }"""
    before = await graphql(query, on="2023-01-01")
    after = await graphql(query, on="2025-01-01")

    def ldc(body: dict[str, Any]) -> list[str]:
        codes = body["data"]["codeList"]["codes"]
        members: list[str] = next(c["members"] for c in codes if c["id"] == "LDC")
        return members

    # Bhutan graduated from the LDC category on 13 December 2023, São Tomé and Príncipe in 2024.
    assert "BTN" in ldc(before)
    assert "STP" in ldc(before)
    assert "BTN" not in ldc(after)
    assert "STP" not in ldc(after)
    assert len(ldc(after)) == 44


async def test_itu_d_regions_cover_each_member_state_once(graphql: GraphQL) -> None:
    body = await graphql('{ codeList(id: "ITU_D_REGIONS") { codes { id members } } }')
    codes = body["data"]["codeList"]["codes"]
    assert {c["id"] for c in codes} == {
        "AFRICA",
        "AMERICAS",
        "ARAB_STATES",
        "ASIA_PACIFIC",
        "CIS",
        "EUROPE",
    }
    members = [m for c in codes for m in c["members"]]
    assert len(members) == len(set(members)) == 193
    iso = await graphql('{ codeList(id: "ISO_3166_1_ALPHA3") { codes { id } } }')
    assert set(members) <= {c["id"] for c in iso["data"]["codeList"]["codes"]}


async def test_unknown_reference_codes_are_refused_naming_the_field(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    result = await amend(
        baku,
        1,
        update(
            DIGITAL,
            references=[
                {"vocabulary": "SDG_TARGET", "code": "9.c"},
                {"vocabulary": "SDG_TARGET", "code": "99.z"},
                {"vocabulary": "WSIS_ACTION_LINE", "code": "C99"},
                {"vocabulary": "OTHER", "code": "anything the drafters like"},
            ],
        ),
    )

    assert result["__typename"] == "ValidationFailed"
    paths = [problem["path"] for problem in result["problems"]]
    assert paths == [
        "changes[0].updateNode.references[1].code",
        "changes[0].updateNode.references[2].code",
    ]
    assert "SDG_TARGETS" in result["problems"][0]["message"]
    body = await graphql("query($id: ID!) { plan(id: $id) { version } }", id=baku)
    assert body["data"]["plan"]["version"] == 1


async def test_any_indicator_of_the_global_framework_is_accepted(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    body = await graphql('{ codeList(id: "SDG_INDICATORS") { codes { id parent } } }')
    indicators = {c["id"]: c["parent"] for c in body["data"]["codeList"]["codes"]}
    # Every code of the framework after the 2025 review, repeated indicators under each target.
    assert len(indicators) == 251
    assert indicators["3.8.1"] == "3.8"
    assert indicators["17.19.2"] == "17.19"

    # 3.8.1 (universal health coverage) was outside the ICT subset shipped before.
    refused = await amend(
        baku,
        1,
        update(
            DIGITAL,
            references=[
                {"vocabulary": "SDG_INDICATOR", "code": "3.8.1"},
                {"vocabulary": "SDG_INDICATOR", "code": "3.8.9"},
            ],
        ),
    )
    assert refused["__typename"] == "ValidationFailed"
    assert [p["path"] for p in refused["problems"]] == ["changes[0].updateNode.references[1].code"]
    applied = await amend(
        baku, 1, update(DIGITAL, references=[{"vocabulary": "SDG_INDICATOR", "code": "3.8.1"}])
    )
    assert applied["__typename"] == "AmendmentApplied"
    found = await graphql(BY_REFERENCE, plan=baku, vocabulary="SDG_INDICATOR", code="3.8.1")
    assert found["data"]["nodesByReference"] == [
        {
            "nodeId": DIGITAL,
            "references": [{"vocabulary": "SDG_INDICATOR", "code": "3.8.1", "known": True}],
        }
    ]


async def test_nodes_are_found_by_the_code_they_serve(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    nine_c = {"vocabulary": "SDG_TARGET", "code": "9.c"}
    await amend(baku, 1, update(DIGITAL, references=[nine_c]))
    await amend(
        baku, 2, update(CONNECTIVITY, references=[nine_c, {"vocabulary": "OTHER", "code": "x"}])
    )

    latest = await graphql(BY_REFERENCE, plan=baku, vocabulary="SDG_TARGET", code="9.c")
    assert {n["nodeId"] for n in latest["data"]["nodesByReference"]} == {DIGITAL, CONNECTIVITY}
    as_of_2 = await graphql(BY_REFERENCE, plan=baku, vocabulary="SDG_TARGET", code="9.c", version=2)
    assert [n["nodeId"] for n in as_of_2["data"]["nodesByReference"]] == [DIGITAL]
    other = await graphql(BY_REFERENCE, plan=baku, vocabulary="WSIS_ACTION_LINE", code="9.c")
    assert other["data"]["nodesByReference"] == []
    none = await graphql(BY_REFERENCE, plan="no-such-plan", vocabulary="SDG_TARGET", code="9.c")
    assert none["data"]["nodesByReference"] == []


async def test_codes_stored_before_the_lists_were_checked_still_read_flagged(
    graphql: GraphQL, amend: Amend, baku: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plan amended by a release that did not check references yet.
    monkeypatch.setattr("planapi.domain.field_checks.reference_problems", lambda ref, path: [])
    applied = await amend(
        baku, 1, update(DIGITAL, references=[{"vocabulary": "SDG_TARGET", "code": "99.z"}])
    )
    assert applied["__typename"] == "AmendmentApplied"
    monkeypatch.undo()

    found = await graphql(BY_REFERENCE, plan=baku, vocabulary="SDG_TARGET", code="99.z")
    assert found["data"]["nodesByReference"] == [
        {
            "nodeId": DIGITAL,
            "references": [{"vocabulary": "SDG_TARGET", "code": "99.z", "known": False}],
        }
    ]
    # The stored code does not block unrelated amendments of the same node.
    moved_on = await amend(baku, 2, update(DIGITAL, title="Digital transformation"))
    assert moved_on["__typename"] == "AmendmentApplied"
