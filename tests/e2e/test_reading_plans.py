"""Reading the seeded Baku draft over HTTP, as a front-end would on its first day."""

from __future__ import annotations

import datetime as dt

from tests.e2e.conftest import GraphQL

PRIORITY_IDS = [
    "priority-affordable-connectivity",
    "priority-digital-transformation",
    "priority-enabling-policy-and-regulatory-environment",
    "priority-resource-mobilization-and-international-cooperation",
    "priority-inclusive-and-secure-telecommunications",
]
OUTPUT_IDS = [
    "output-model-policies-and-strategies",
    "output-toolkits",
    "output-convening-platforms",
    "output-learning-frameworks",
    "output-provision-of-data",
    "output-technical-interventions",
]
# An output's servesPriorities, as seeded: every priority, in the order of their ids.
PRIORITY_LINKS = [{"nodeId": p} for p in sorted(PRIORITY_IDS)]
PLACEHOLDER = "Outcomes and Key Performance Indictors (KPIs) to be filled in later."


def parse_instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


async def test_the_plan_list_names_the_baku_plan_with_its_period_and_latest_version(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(
        "{ plans { planId title period { startYear endYear label } version recordedAt } }"
    )

    assert "errors" not in body, body
    [summary] = body["data"]["plans"]
    assert summary["planId"] == baku == "baku-2026"
    assert summary["title"] == "Baku Action Plan"
    assert summary["period"] == {"startYear": 2026, "endYear": 2029, "label": "2026-2029"}
    assert summary["version"] == 1
    recorded = parse_instant(summary["recordedAt"])
    assert recorded.utcoffset() == dt.timedelta(0), "instants are given in UTC"
    assert abs(dt.datetime.now(dt.UTC) - recorded) < dt.timedelta(minutes=5)


async def test_a_plan_read_without_version_or_instant_is_its_latest_version(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(
        """query($id: ID!) {
          plans { version recordedAt }
          plan(id: $id) {
            planId title description version recordedAt hash
            period { startYear endYear label }
            amendment { version authority rationale reference effectiveFrom }
          }
        }""",
        id=baku,
    )

    plan = body["data"]["plan"]
    [summary] = body["data"]["plans"]
    assert plan["planId"] == "baku-2026"
    assert plan["title"] == "Baku Action Plan"
    assert plan["description"].startswith("The Baku Action Plan describes the ITU-D priorities")
    assert plan["period"]["label"] == "2026-2029"
    assert plan["version"] == summary["version"] == 1
    assert plan["recordedAt"] == summary["recordedAt"]
    assert len(plan["hash"]) == 64
    # The draft as such: recorded by BDT, with no date it takes effect (status DRAFT).
    assert plan["amendment"] == {
        "version": 1,
        "authority": "BDT",
        "rationale": plan["amendment"]["rationale"],
        "reference": "Draft Baku Action Plan 2026-2029",
        "effectiveFrom": None,
    }
    assert plan["amendment"]["rationale"].startswith("Draft Baku Action Plan")


async def test_the_baku_draft_has_five_priorities_coded_one_to_five_in_order(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(
        """query($id: ID!) { plan(id: $id) {
          priorities {
            __typename nodeId kind code title position parent { nodeId } outcomes { nodeId }
          }
        } }""",
        id=baku,
    )

    priorities = body["data"]["plan"]["priorities"]
    assert [p["nodeId"] for p in priorities] == PRIORITY_IDS
    assert [p["code"] for p in priorities] == ["1", "2", "3", "4", "5"]
    positions = [p["position"] for p in priorities]
    assert positions == list(range(positions[0], positions[0] + 5)), (
        "side by side among the plan's top-level nodes, in order"
    )
    assert {p["__typename"] for p in priorities} == {"Priority"}
    assert {p["kind"] for p in priorities} == {"PRIORITY"}
    assert priorities[0]["title"] == "Affordable connectivity"
    assert priorities[1]["title"] == "Digital transformation"
    assert all(p["parent"] is None for p in priorities), "priorities hang from the plan itself"
    assert all(p["outcomes"] == [] for p in priorities), "the draft has no outcomes yet"


async def test_every_priority_says_its_outcomes_and_kpis_are_to_be_filled_in_later(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(
        "query($id: ID!) { plan(id: $id) { priorities { nodeId description } } }", id=baku
    )

    for priority in body["data"]["plan"]["priorities"]:
        assert PLACEHOLDER in priority["description"], priority["nodeId"]
        assert "\n\n" in priority["description"], "paragraphs are separated by a blank line"


async def test_the_baku_draft_has_six_outputs_serving_every_priority_and_seven_enablers(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(
        """query($id: ID!) { plan(id: $id) {
          outputs {
            __typename nodeId code title
            servesPriorities { nodeId } servesOutcomes { nodeId } links { relation }
          }
          enablers { __typename nodeId code title supportsPriorities { nodeId } }
        } }""",
        id=baku,
    )

    plan = body["data"]["plan"]
    assert [o["nodeId"] for o in plan["outputs"]] == OUTPUT_IDS
    assert [o["code"] for o in plan["outputs"]] == ["O1", "O2", "O3", "O4", "O5", "O6"]
    assert plan["outputs"][1]["title"] == "Toolkits"
    assert {o["__typename"] for o in plan["outputs"]} == {"Output"}
    # "Outputs are inherently cross-cutting, covering all priorities" (the draft).
    every_priority = sorted(PRIORITY_IDS)
    for output in plan["outputs"]:
        assert sorted(p["nodeId"] for p in output["servesPriorities"]) == every_priority
        assert output["servesOutcomes"] == []
        assert output["links"] == [{"relation": "SERVES"}] * 5
    assert len(plan["enablers"]) == 7
    assert [e["code"] for e in plan["enablers"]] == [f"E{n}" for n in range(1, 8)]
    assert plan["enablers"][0] == {
        "__typename": "Enabler",
        "nodeId": "enabler-efficiency",
        "code": "E1",
        "title": "Efficiency",
        "supportsPriorities": [],
    }


async def test_the_terminology_has_eleven_terms_each_with_its_definition(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(
        "query($id: ID!) { plan(id: $id) { terms { __typename nodeId kind title description } } }",
        id=baku,
    )

    terms = body["data"]["plan"]["terms"]
    assert len(terms) == 11
    assert {t["__typename"] for t in terms} == {"Term"}
    assert {t["kind"] for t in terms} == {"TERM"}
    by_id = {t["nodeId"]: t for t in terms}
    assert by_id["term-outcomes"]["title"] == "Outcomes"
    assert all(t["description"] for t in terms), "every term is defined"


async def test_the_sections_nest_3_1_to_3_4_under_section_3(graphql: GraphQL, baku: str) -> None:
    body = await graphql(
        """query($id: ID!) { plan(id: $id) {
          sections { nodeId code title sections { nodeId code title parent { nodeId } } }
        } }""",
        id=baku,
    )

    sections = body["data"]["plan"]["sections"]
    assert [s["code"] for s in sections] == ["1", "2", "3", "4", "5", "6", "7"]
    assert sections[0]["title"] == "Introduction"
    three = sections[2]
    assert [s["code"] for s in three["sections"]] == ["3.1", "3.2", "3.3", "3.4"]
    assert three["sections"][1] == {
        "nodeId": "section-3-2",
        "code": "3.2",
        "title": "ITU-D priorities",
        "parent": {"nodeId": "section-3"},
    }
    assert all(s["sections"] == [] for s in sections if s["nodeId"] != "section-3")
    section_4 = await graphql(
        'query($id: ID!) { plan(id: $id) { node(nodeId: "section-4") { description } } }', id=baku
    )
    assert section_4["data"]["plan"]["node"]["description"] == "To be added later."


async def test_lists_the_draft_leaves_for_later_are_empty(graphql: GraphQL, baku: str) -> None:
    body = await graphql(
        "query($id: ID!) { plan(id: $id) { regionalInitiatives { nodeId } resolutions { nodeId } "
        "studyGroups { nodeId } } }",
        id=baku,
    )

    assert body["data"]["plan"] == {"regionalInitiatives": [], "resolutions": [], "studyGroups": []}


async def test_a_node_is_found_by_id_with_its_parent_and_children(
    graphql: GraphQL, baku: str
) -> None:
    body = await graphql(
        """query($id: ID!) { plan(id: $id) {
          sub: node(nodeId: "section-3-2") {
            __typename nodeId kind code title position
            parent { __typename nodeId code children { nodeId } }
            children { nodeId }
          }
          output: node(nodeId: "output-toolkits") {
            __typename nodeId code ... on Output { servesPriorities { nodeId } }
          }
          missing: node(nodeId: "no-such-node") { nodeId }
        } }""",
        id=baku,
    )

    plan = body["data"]["plan"]
    assert plan["sub"] == {
        "__typename": "Section",
        "nodeId": "section-3-2",
        "kind": "SECTION",
        "code": "3.2",
        "title": "ITU-D priorities",
        "position": 1,
        "parent": {
            "__typename": "Section",
            "nodeId": "section-3",
            "code": "3",
            "children": [
                {"nodeId": "section-3-1"},
                {"nodeId": "section-3-2"},
                {"nodeId": "section-3-3"},
                {"nodeId": "section-3-4"},
            ],
        },
        "children": [],
    }
    assert plan["output"] == {
        "__typename": "Output",
        "nodeId": "output-toolkits",
        "code": "O2",
        "servesPriorities": PRIORITY_LINKS,
    }
    assert plan["missing"] is None


async def test_nodes_of_one_kind_come_in_document_order(graphql: GraphQL, baku: str) -> None:
    body = await graphql(
        """query($id: ID!) { plan(id: $id) {
          priorities: nodes(kind: PRIORITY) { __typename nodeId kind }
          kpis: nodes(kind: KPI) { nodeId }
          all: nodes { nodeId kind }
        } }""",
        id=baku,
    )

    plan = body["data"]["plan"]
    assert [n["nodeId"] for n in plan["priorities"]] == PRIORITY_IDS
    assert {(n["__typename"], n["kind"]) for n in plan["priorities"]} == {("Priority", "PRIORITY")}
    assert plan["kpis"] == []
    kinds = [n["kind"] for n in plan["all"]]
    assert kinds.count("SECTION") == 11
    assert kinds.count("TERM") == 11
    assert kinds.count("PRIORITY") == 5
    assert kinds.count("OUTPUT") == 6
    assert kinds.count("ENABLER") == 7
    assert len(kinds) == 40
    ids = [n["nodeId"] for n in plan["all"]]
    assert ids.index("section-3") < ids.index("section-3-1") < ids.index("section-4"), (
        "a section's sub-sections follow it, before the next section"
    )


async def test_an_unknown_plan_reads_as_null_not_as_an_error(graphql: GraphQL, baku: str) -> None:
    body = await graphql(
        '{ plan(id: "no-such-plan") { planId } '
        'old: plan(id: "no-such-plan", version: 1) { planId } }'
    )

    assert "errors" not in body, body
    assert body["data"] == {"plan": None, "old": None}
