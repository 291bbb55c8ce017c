"""Provenance over GraphQL: `PlanNode.history` (who changed this node, when, on what authority,
why, and from what to what) and `PlanNode.blame` (which amendment set each field); and, through
the service, the history of a node that no longer exists and the index behind both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.migrations import downgrade, upgrade
from planapi.adapters.tables import event_nodes
from planapi.application.plans import AmendPlan, CreatePlan, PlanService
from planapi.domain.changes import AddNode, LinkNodes, MoveNode, RemoveNode, UpdateNode
from planapi.domain.events import Authority
from planapi.domain.history import NodeChangeKind
from planapi.domain.links import LinkRelation
from planapi.domain.nodes import NodeKind
from tests.e2e.conftest import GraphQL
from tests.e2e.queries import add, link, move, unlink, update

Amend = Callable[..., Awaitable[dict[str, Any]]]

CONNECTIVITY = "priority-affordable-connectivity"
DIGITAL = "priority-digital-transformation"
SEED_RATIONALE = (
    "Draft Baku Action Plan as prepared for WTDC-25; outcomes, KPIs, regional initiatives, "
    "resolutions and study groups to be filled in later."
)

AMENDMENT = (
    "amendment { version actor authority rationale reference effectiveFrom recordedAt hash }"
)
PROVENANCE = f"""
query Provenance($id: ID!, $node: ID!, $version: Int) {{
  plan(id: $id, version: $version) {{
    version
    node(nodeId: $node) {{
      id title
      history {{
        version change
        fields {{ field before after }}
        link {{ fromId toId relation }}
        {AMENDMENT}
      }}
      blame {{ field value {AMENDMENT} }}
    }}
  }}
}}
"""
ONE_AMENDMENT = """
query One($id: ID!, $version: Int!) {
  amendment(planId: $id, version: $version) {
    version actor authority rationale reference effectiveFrom recordedAt hash
  }
}
"""


async def provenance(
    graphql: GraphQL, node_id: str, version: int | None = None
) -> dict[str, Any] | None:
    body = await graphql(PROVENANCE, id="baku-2026", node=node_id, version=version)
    assert "errors" not in body, body
    node: dict[str, Any] | None = body["data"]["plan"]["node"]
    return node


async def history_of(
    graphql: GraphQL, node_id: str, version: int | None = None
) -> list[dict[str, Any]]:
    node = await provenance(graphql, node_id, version)
    assert node is not None
    found: list[dict[str, Any]] = node["history"]
    return found


async def blame_of(
    graphql: GraphQL, node_id: str, version: int | None = None
) -> dict[str, dict[str, Any]]:
    node = await provenance(graphql, node_id, version)
    assert node is not None
    return {entry["field"]: entry for entry in node["blame"]}


async def amendment(graphql: GraphQL, version: int) -> dict[str, Any]:
    body = await graphql(ONE_AMENDMENT, id="baku-2026", version=version)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["amendment"]
    return found


def summary(history: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(entry["version"], entry["change"]) for entry in history]


# The seed links each output to all five priorities: version 1 adds an output, then links it.
SEEDED_OUTPUT = [*[(1, "LINKED")] * 5, (1, "ADDED")]
SEEDED_PRIORITY = [*[(1, "LINKED")] * 6, (1, "ADDED")]


@pytest.fixture
async def retitled(amend: Amend, baku: str) -> None:
    """output-toolkits retitled at version 2 and again at 4; version 3 touches another node."""
    steps = [
        (update("output-toolkits", title="Toolkits and guidelines"), "TDAG", "First pass", None),
        (update("output-learning-frameworks", code="O4a"), "TDAG", "Unrelated", None),
        (
            update("output-toolkits", title="Toolkits, guidelines and handbooks"),
            "COUNCIL",
            "Council decision",
            "C-27/88",
        ),
    ]
    for version, (change, authority, rationale, reference) in enumerate(steps, start=1):
        result = await amend(
            baku, version, change, authority=authority, rationale=rationale, reference=reference
        )
        assert result["__typename"] == "AmendmentApplied", result


async def test_a_title_changed_twice_shows_both_changes_newest_first(
    graphql: GraphQL, retitled: None
) -> None:
    history = await history_of(graphql, "output-toolkits")

    assert summary(history) == [(4, "UPDATED"), (2, "UPDATED"), *SEEDED_OUTPUT]
    assert history[0]["fields"] == [
        {
            "field": "title",
            "before": "Toolkits and guidelines",
            "after": "Toolkits, guidelines and handbooks",
        }
    ]
    assert history[1]["fields"] == [
        {"field": "title", "before": "Toolkits", "after": "Toolkits and guidelines"}
    ]
    assert {f["field"]: (f["before"], f["after"]) for f in history[-1]["fields"]} == {
        "code": (None, "O2"),
        "title": (None, "Toolkits"),
    }
    assert all(entry["link"] is None for entry in history[:2])


async def test_each_history_entry_says_who_when_on_what_authority_and_why(
    graphql: GraphQL, retitled: None
) -> None:
    history = await history_of(graphql, "output-toolkits")

    for entry in history:
        assert entry["amendment"] == await amendment(graphql, entry["version"])
    newest, first_pass, creation = (entry["amendment"] for entry in (*history[:2], history[-1]))
    assert (newest["actor"], newest["authority"], newest["rationale"], newest["reference"]) == (
        "e2e-tester",
        "COUNCIL",
        "Council decision",
        "C-27/88",
    )
    assert (first_pass["authority"], first_pass["rationale"], first_pass["reference"]) == (
        "TDAG",
        "First pass",
        None,
    )
    assert (creation["authority"], creation["rationale"]) == ("BDT", SEED_RATIONALE)
    assert creation["reference"] == "Draft Baku Action Plan 2026-2029"
    times = [dt.datetime.fromisoformat(a["recordedAt"]) for a in (newest, first_pass, creation)]
    assert times == sorted(times, reverse=True)
    assert all(t.utcoffset() == dt.timedelta(0) for t in times)


async def test_blame_names_the_amendment_that_last_set_each_field(
    graphql: GraphQL, retitled: None
) -> None:
    blamed = await blame_of(graphql, "output-toolkits")

    assert set(blamed) == {"code", "title"}, "no parent, no description: nothing to blame"
    assert blamed["title"]["value"] == "Toolkits, guidelines and handbooks"
    assert blamed["title"]["amendment"]["version"] == 4
    assert blamed["title"]["amendment"]["rationale"] == "Council decision"
    assert blamed["code"]["value"] == "O2"
    assert blamed["code"]["amendment"] == await amendment(graphql, 1)
    term = await blame_of(graphql, "term-outputs")
    assert term["description"]["value"].startswith("Outputs are changes in skills")
    assert term["description"]["amendment"]["version"] == 1, "an untouched description"
    assert term["description"]["amendment"]["authority"] == "BDT"


async def test_reading_an_older_version_leaves_out_later_amendments(
    graphql: GraphQL, retitled: None
) -> None:
    at_three = await provenance(graphql, "output-toolkits", version=3)
    at_one = await provenance(graphql, "output-toolkits", version=1)

    assert at_three is not None
    assert at_one is not None
    assert at_three["title"] == "Toolkits and guidelines"
    assert summary(at_three["history"]) == [(2, "UPDATED"), *SEEDED_OUTPUT]
    blamed = {entry["field"]: entry for entry in at_three["blame"]}
    assert (blamed["title"]["value"], blamed["title"]["amendment"]["version"]) == (
        "Toolkits and guidelines",
        2,
    )
    assert summary(at_one["history"]) == SEEDED_OUTPUT
    assert {entry["amendment"]["version"] for entry in at_one["blame"]} == {1}


async def test_links_appear_on_both_ends_as_linked_then_unlinked(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    # The seed linked them at version 1: unlink, then link again.
    assert (await amend(baku, 1, unlink("output-toolkits", CONNECTIVITY)))["__typename"] == (
        "AmendmentApplied"
    )
    assert (await amend(baku, 2, link("output-toolkits", CONNECTIVITY)))["__typename"] == (
        "AmendmentApplied"
    )
    expected_link = {"fromId": "output-toolkits", "toId": CONNECTIVITY, "relation": "SERVES"}

    for end, seeded in (("output-toolkits", SEEDED_OUTPUT), (CONNECTIVITY, SEEDED_PRIORITY)):
        history = await history_of(graphql, end)
        assert summary(history) == [(3, "LINKED"), (2, "UNLINKED"), *seeded], end
        assert history[0]["link"] == history[1]["link"] == expected_link
        assert history[0]["fields"] == history[1]["fields"] == []
    assert summary(await history_of(graphql, DIGITAL)) == SEEDED_PRIORITY
    at_two = await history_of(graphql, CONNECTIVITY, version=2)
    assert summary(at_two) == [(2, "UNLINKED"), *SEEDED_PRIORITY]


async def test_a_moved_node_blames_its_parent_on_the_move(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    steps = [
        add("OUTCOME", "Broadband for all", id="o-1", parentId=CONNECTIVITY, description="Why."),
        update("o-1", code="1.1"),
        move("o-1", DIGITAL),
    ]
    for version, change in enumerate(steps, start=1):
        result = await amend(baku, version, change, rationale=f"step {version + 1}")
        assert result["__typename"] == "AmendmentApplied", result

    history = await history_of(graphql, "o-1")
    blamed = await blame_of(graphql, "o-1")

    assert summary(history) == [(4, "MOVED"), (3, "UPDATED"), (2, "ADDED")]
    assert history[0]["fields"] == [{"field": "parentId", "before": CONNECTIVITY, "after": DIGITAL}]
    assert {field: (b["value"], b["amendment"]["version"]) for field, b in blamed.items()} == {
        "parentId": (DIGITAL, 4),
        "code": ("1.1", 3),
        "title": ("Broadband for all", 2),
        "description": ("Why.", 2),
    }
    assert blamed["parentId"]["amendment"]["rationale"] == "step 4"


async def test_a_node_removed_later_keeps_its_history_up_to_the_version_read(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    result = await amend(baku, 1, update("term-partnerships", title="Partnerships and alliances"))
    assert result["__typename"] == "AmendmentApplied"
    assert (await amend(baku, 2, {"removeNode": {"id": "term-partnerships"}}))["__typename"] == (
        "AmendmentApplied"
    )

    assert await provenance(graphql, "term-partnerships") is None, "gone from the latest version"
    assert summary(await history_of(graphql, "term-partnerships", version=2)) == [
        (2, "UPDATED"),
        (1, "ADDED"),
    ]


# -- through the service, on either backend ------------------------------------------------------
def _create() -> CreatePlan:
    return CreatePlan(
        plan_id="audit-2026",
        title="Audit plan",
        period_start=2026,
        period_end=2029,
        authority=Authority.WTDC,
        rationale="Adopted",
        changes=(
            AddNode(NodeKind.PRIORITY, "Connectivity", id="p1", values={"code": "1"}),
            AddNode(NodeKind.PRIORITY, "Transformation", id="p2", values={"code": "2"}),
            AddNode(NodeKind.OUTCOME, "Broadband", id="o1", parent_id="p1"),
            AddNode(NodeKind.KPI, "Users online", id="k1", parent_id="o1"),
            AddNode(NodeKind.OUTPUT, "Toolkits", id="out-1"),
        ),
    )


def _amend(version: int, *changes: Any, rationale: str) -> AmendPlan:
    return AmendPlan(
        plan_id="audit-2026",
        expected_version=version,
        authority=Authority.TDAG,
        rationale=rationale,
        changes=changes,
        reference=f"TDAG/{version + 1}",
    )


@pytest.fixture
async def audited(service: PlanService) -> PlanService:
    """Versions 1-5 of audit-2026; version 5 removes the whole of priority p1."""
    await service.create_plan(_create(), actor="alice")
    steps = [
        (UpdateNode("o1", {"title": "Broadband for all"}),),
        (LinkNodes("out-1", "o1", LinkRelation.SERVES),),
        (MoveNode("o1", "p2"), UpdateNode("k1", {"code": "1.1.1"})),
        (MoveNode("o1", "p1"), RemoveNode("p1", cascade=True)),
    ]
    for version, changes in enumerate(steps, start=1):
        await service.amend_plan(_amend(version, *changes, rationale=f"step {version + 1}"), "bob")
    return service


async def test_a_removed_nodes_history_ends_with_its_removal(audited: PlanService) -> None:
    history = await audited.history("audit-2026", "o1", 5)

    assert [(e.change.version, e.change.kind) for e in history] == [
        (5, NodeChangeKind.REMOVED),
        (5, NodeChangeKind.UNLINKED),
        (5, NodeChangeKind.MOVED),
        (4, NodeChangeKind.MOVED),
        (3, NodeChangeKind.LINKED),
        (2, NodeChangeKind.UPDATED),
        (1, NodeChangeKind.ADDED),
    ], "newest first; within one amendment, the last change first"
    removal = history[0].amendment
    assert (removal.version, removal.info.actor, removal.info.rationale) == (5, "bob", "step 5")
    assert removal.info.reference == "TDAG/5"
    assert history[-1].amendment.info.actor == "alice"
    kpi = await audited.history("audit-2026", "k1", 5)
    assert [(e.change.version, e.change.kind) for e in kpi] == [
        (5, NodeChangeKind.REMOVED),
        (4, NodeChangeKind.UPDATED),
        (1, NodeChangeKind.ADDED),
    ], "a cascade names each node it removes; moving the parent does not touch the KPI"
    other_end = await audited.history("audit-2026", "out-1", 5)
    assert [(e.change.version, e.change.kind) for e in other_end] == [
        (5, NodeChangeKind.UNLINKED),
        (3, NodeChangeKind.LINKED),
        (1, NodeChangeKind.ADDED),
    ]


async def test_history_at_an_earlier_version_stops_there(audited: PlanService) -> None:
    history = await audited.history("audit-2026", "o1", 3)

    assert [e.change.version for e in history] == [3, 2, 1]
    found = await audited.plan("audit-2026", 4)
    assert found is not None
    blamed = {
        s.origin.field: s.amendment.version
        for s in await audited.blame("audit-2026", found.state.nodes["o1"], 4)
    }
    assert blamed == {"parent_id": 4, "title": 2}


async def test_history_survives_rebuilding_its_index_from_the_log(
    audited: PlanService, engine: AsyncEngine
) -> None:
    """The index (event_nodes) is derived from the log: migration 0003 rebuilds it from events
    stored before it existed, and the history it gives is the same."""
    nodes = ["p1", "p2", "o1", "k1", "out-1"]
    before = {n: await audited.history("audit-2026", n, 5) for n in nodes}

    await downgrade(engine, "0002")  # drops the index
    await upgrade(engine)

    after = {n: await audited.history("audit-2026", n, 5) for n in nodes}
    assert after == before


async def test_the_history_index_is_append_only_like_the_log(
    audited: PlanService, engine: AsyncEngine
) -> None:
    """Deleting index rows would hide history entries while the chains still verify."""
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(delete(event_nodes))

    assert await audited.history("audit-2026", "o1", 5) != []


NODE_HISTORY = """
query NodeHistory($plan: ID!, $node: ID!) {
  nodeHistory(planId: $plan, nodeId: $node) {
    version change fields { field before after }
    amendment { actor authority rationale reference }
  }
}
"""


async def test_who_removed_a_node_is_answered_although_no_version_shows_it_any_more(
    graphql: GraphQL, baku: str, amend: Any
) -> None:
    from tests.e2e.queries import remove, update

    await amend(baku, 1, update("output-toolkits", title="Toolkits and guides"))
    await amend(
        baku,
        2,
        remove("output-toolkits"),
        rationale="Merged into model policies",
        reference="TDAG-27/4",
    )

    body = await graphql(NODE_HISTORY, plan=baku, node="output-toolkits")

    entries = body["data"]["nodeHistory"]
    # Its five seeded links go with it, then it goes.
    assert [(e["version"], e["change"]) for e in entries] == [
        (3, "REMOVED"),
        *[(3, "UNLINKED")] * 5,
        (2, "UPDATED"),
        *SEEDED_OUTPUT,
    ]
    assert entries[0]["amendment"]["rationale"] == "Merged into model policies"
    assert entries[0]["amendment"]["reference"] == "TDAG-27/4"
    assert entries[6]["fields"] == [
        {"field": "title", "before": "Toolkits", "after": "Toolkits and guides"}
    ]


async def test_the_history_of_a_node_in_an_unknown_plan_is_an_error(graphql: GraphQL) -> None:
    body = await graphql(NODE_HISTORY, plan="no-such-plan", node="x")

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "PLAN_NOT_FOUND"
