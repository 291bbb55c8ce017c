"""Amending a plan over HTTP: each operation a new user tries in GraphiQL, and what it records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import CREATE, add, link, move, remove, unlink, update

Amend = Callable[..., Awaitable[dict[str, Any]]]

CONNECTIVITY = "priority-affordable-connectivity"
DIGITAL = "priority-digital-transformation"
# As seeded: the draft's outputs are cross-cutting, each linked to all five priorities.
PRIORITIES = [
    CONNECTIVITY,
    DIGITAL,
    "priority-enabling-policy-and-regulatory-environment",
    "priority-resource-mobilization-and-international-cooperation",
    "priority-inclusive-and-secure-telecommunications",
]
OUTPUTS = [
    "output-model-policies-and-strategies",
    "output-toolkits",
    "output-convening-platforms",
    "output-learning-frameworks",
    "output-provision-of-data",
    "output-technical-interventions",
]

KPI_FIELDS = """
  nodeId kind code title description position
  parent { nodeId kind }
  references { vocabulary code uri }
  ... on Kpi {
    unit measure direction
    baseline { period value }
    targets { period value }
    dimensions { name values }
  }
"""


def outcome(node_id: str = "outcome-broadband", **fields: Any) -> dict[str, Any]:
    return add(
        "OUTCOME",
        "Universal, meaningful and affordable broadband",
        id=node_id,
        parentId=CONNECTIVITY,
        code="1.1",
        **fields,
    )


def kpi(
    node_id: str = "kpi-broadband-users", parent_id: str = "outcome-broadband"
) -> dict[str, Any]:
    return add(
        "KPI",
        "Share of individuals using the Internet",
        id=node_id,
        parentId=parent_id,
        code="1.1.a",
        description="Percentage of the population that used the Internet in the last 3 months.",
        unit="% of population",
        measure="PERCENTAGE",
        direction="INCREASE",
        baseline={"period": "2025", "value": "67.4"},
        targets=[{"period": "2027", "value": "75"}, {"period": "2029", "value": "82.50"}],
        dimensions=[
            {"name": "sex", "values": ["female", "male"]},
            {"name": "area", "values": ["urban", "rural"]},
        ],
        references=[
            {"vocabulary": "SDG_INDICATOR", "code": "17.8.1", "uri": "https://unstats.un.org/sdgs"},
            {"vocabulary": "WSIS_ACTION_LINE", "code": "C2"},
        ],
    )


async def test_an_outcome_added_under_a_priority_becomes_the_next_version(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    result = await amend(
        baku,
        1,
        outcome(references=[{"vocabulary": "SDG_TARGET", "code": "9.c"}]),
        rationale="TDAG agreed the first outcome",
        reference="TDAG-26/12",
        effectiveFrom="2026-07-01",
    )

    assert result["__typename"] == "AmendmentApplied", result
    assert result["plan"]["planId"] == baku
    assert result["plan"]["version"] == 2
    amendment = result["amendment"]
    assert amendment["version"] == 2
    assert amendment["actor"] == "e2e-tester"
    assert amendment["authority"] == "TDAG"
    assert amendment["rationale"] == "TDAG agreed the first outcome"
    assert amendment["reference"] == "TDAG-26/12"
    assert amendment["effectiveFrom"] == "2026-07-01"
    assert amendment["recordedAt"] == result["plan"]["recordedAt"]
    assert amendment["hash"] == result["plan"]["hash"]
    assert amendment["changes"] == [
        {
            "__typename": "NodeAdded",
            "nodeId": "outcome-broadband",
            "kind": "OUTCOME",
            "parentId": CONNECTIVITY,
            "position": 0,
            "code": "1.1",
            "title": "Universal, meaningful and affordable broadband",
        }
    ]

    body = await graphql(
        """query($id: ID!) { plan(id: $id) {
          version
          priorities { nodeId outcomes { __typename nodeId kind code title parent { nodeId }
                                     references { vocabulary code uri } kpis { nodeId } } }
        } }""",
        id=baku,
    )
    plan = body["data"]["plan"]
    assert plan["version"] == 2
    connectivity, *others = plan["priorities"]
    assert connectivity["outcomes"] == [
        {
            "__typename": "Outcome",
            "nodeId": "outcome-broadband",
            "kind": "OUTCOME",
            "code": "1.1",
            "title": "Universal, meaningful and affordable broadband",
            "parent": {"nodeId": CONNECTIVITY},
            "references": [{"vocabulary": "SDG_TARGET", "code": "9.c", "uri": None}],
            "kpis": [],
        }
    ]
    assert all(p["outcomes"] == [] for p in others)


async def test_a_kpi_under_an_outcome_carries_its_whole_definition(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, outcome())
    result = await amend(baku, 2, kpi())

    assert result["__typename"] == "AmendmentApplied", result
    assert result["amendment"]["changes"][0]["__typename"] == "NodeAdded"
    assert result["amendment"]["changes"][0]["kind"] == "KPI"
    assert result["amendment"]["changes"][0]["parentId"] == "outcome-broadband"

    body = await graphql(
        'query($id: ID!) { plan(id: $id) { node(nodeId: "kpi-broadband-users") {'
        + KPI_FIELDS
        + '} outcome: node(nodeId: "outcome-broadband") { ... on Outcome { kpis { nodeId } } } } }',
        id=baku,
    )
    plan = body["data"]["plan"]
    assert plan["outcome"]["kpis"] == [{"nodeId": "kpi-broadband-users"}]
    assert plan["node"] == {
        "nodeId": "kpi-broadband-users",
        "kind": "KPI",
        "code": "1.1.a",
        "title": "Share of individuals using the Internet",
        "description": "Percentage of the population that used the Internet in the last 3 months.",
        "position": 0,
        "parent": {"nodeId": "outcome-broadband", "kind": "OUTCOME"},
        "references": [
            {"vocabulary": "SDG_INDICATOR", "code": "17.8.1", "uri": "https://unstats.un.org/sdgs"},
            {"vocabulary": "WSIS_ACTION_LINE", "code": "C2", "uri": None},
        ],
        "unit": "% of population",
        "measure": "PERCENTAGE",
        "direction": "INCREASE",
        "baseline": {"period": "2025", "value": "67.4"},
        "targets": [{"period": "2027", "value": "75"}, {"period": "2029", "value": "82.50"}],
        "dimensions": [
            {"name": "sex", "values": ["female", "male"]},
            {"name": "area", "values": ["urban", "rural"]},
        ],
    }


async def test_an_outcome_and_its_kpi_can_be_added_in_one_amendment(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    result = await amend(baku, 1, outcome(), kpi())

    assert result["__typename"] == "AmendmentApplied", result
    assert [c["nodeId"] for c in result["amendment"]["changes"]] == [
        "outcome-broadband",
        "kpi-broadband-users",
    ]
    body = await graphql(
        "query($id: ID!) { plan(id: $id) { version "
        "nodes(kind: KPI) { nodeId parent { nodeId } } } }",
        id=baku,
    )
    assert body["data"]["plan"] == {
        "version": 2,
        "nodes": [{"nodeId": "kpi-broadband-users", "parent": {"nodeId": "outcome-broadband"}}],
    }


async def test_an_added_node_without_an_id_is_given_one(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    result = await amend(baku, 1, add("OUTCOME", "Resilient networks", parentId=CONNECTIVITY))

    assert result["__typename"] == "AmendmentApplied", result
    [added] = result["amendment"]["changes"]
    assert added["nodeId"], "the server generated an id"
    body = await graphql(
        "query($id: ID!, $node: ID!) { plan(id: $id) { node(nodeId: $node) { title } } }",
        id=baku,
        node=added["nodeId"],
    )
    assert body["data"]["plan"]["node"] == {"title": "Resilient networks"}


async def test_updating_a_title_records_only_the_fields_that_were_set(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    result = await amend(baku, 1, update("output-toolkits", title="Toolkits and guidelines"))

    assert result["__typename"] == "AmendmentApplied", result
    assert result["amendment"]["changes"] == [
        {
            "__typename": "NodeUpdated",
            "nodeId": "output-toolkits",
            "fields": [{"field": "title", "value": "Toolkits and guidelines"}],
        }
    ]
    body = await graphql(
        'query($id: ID!) { plan(id: $id) { node(nodeId: "output-toolkits") { title code } } }',
        id=baku,
    )
    assert body["data"]["plan"]["node"] == {"title": "Toolkits and guidelines", "code": "O2"}


async def test_updating_kpi_fields_reports_each_new_value_in_api_names(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, outcome(), kpi())

    result = await amend(
        baku,
        2,
        update(
            "kpi-broadband-users",
            baseline={"period": "2024", "value": "65"},
            direction="MAINTAIN",
            description=None,
        ),
    )

    assert result["__typename"] == "AmendmentApplied", result
    [updated] = result["amendment"]["changes"]
    assert updated["__typename"] == "NodeUpdated"
    assert updated["nodeId"] == "kpi-broadband-users"
    values = {f["field"]: f["value"] for f in updated["fields"]}
    assert values == {
        "baseline": {"period": "2024", "value": "65"},
        "direction": "MAINTAIN",
        "description": None,
    }
    body = await graphql(
        'query($id: ID!) { plan(id: $id) { node(nodeId: "kpi-broadband-users") {'
        + KPI_FIELDS
        + "} } }",
        id=baku,
    )
    node = body["data"]["plan"]["node"]
    assert node["baseline"] == {"period": "2024", "value": "65"}
    assert node["direction"] == "MAINTAIN"
    assert node["description"] is None, "null clears an optional field"
    assert node["unit"] == "% of population", "fields not given are left as they were"


async def test_a_removed_node_is_gone_from_the_plan(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    result = await amend(baku, 1, remove("term-partnerships"))

    assert result["__typename"] == "AmendmentApplied", result
    assert result["amendment"]["changes"] == [
        {"__typename": "NodeRemoved", "nodeId": "term-partnerships"}
    ]
    body = await graphql(
        "query($id: ID!) { plan(id: $id) { terms { nodeId } "
        'node(nodeId: "term-partnerships") { nodeId } } }',
        id=baku,
    )
    plan = body["data"]["plan"]
    assert plan["node"] is None
    assert len(plan["terms"]) == 10
    assert "term-partnerships" not in {t["nodeId"] for t in plan["terms"]}


async def test_an_output_linked_to_the_priorities_it_serves_reads_from_both_ends(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    # The seed links every output to all five priorities; keep some links, unlink the rest.
    keep = {"output-toolkits": {CONNECTIVITY, DIGITAL}, "output-provision-of-data": {DIGITAL}}
    changes = [unlink(o, p) for o, kept in keep.items() for p in PRIORITIES if p not in kept]
    result = await amend(baku, 1, *changes)

    assert result["__typename"] == "AmendmentApplied", result
    assert [c["__typename"] for c in result["amendment"]["changes"]] == ["NodesUnlinked"] * 7
    body = await graphql(
        """query($id: ID!) { plan(id: $id) {
          outputs { nodeId servesPriorities { nodeId code } }
          priorities { nodeId outputs { nodeId } }
          toolkits: node(nodeId: "output-toolkits") {
            links { relation from { nodeId } to { nodeId } }
          }
        } }""",
        id=baku,
    )
    plan = body["data"]["plan"]
    serves = {o["nodeId"]: [p["nodeId"] for p in o["servesPriorities"]] for o in plan["outputs"]}
    assert serves["output-toolkits"] == [CONNECTIVITY, DIGITAL]
    assert serves["output-provision-of-data"] == [DIGITAL]
    assert serves["output-convening-platforms"] == sorted(PRIORITIES)
    served_by = {p["nodeId"]: {o["nodeId"] for o in p["outputs"]} for p in plan["priorities"]}
    assert served_by[CONNECTIVITY] == set(OUTPUTS) - {"output-provision-of-data"}
    assert served_by[DIGITAL] == set(OUTPUTS)
    assert served_by["priority-resource-mobilization-and-international-cooperation"] == (
        set(OUTPUTS) - set(keep)
    )
    assert plan["toolkits"]["links"] == [
        {
            "relation": "SERVES",
            "from": {"nodeId": "output-toolkits"},
            "to": {"nodeId": CONNECTIVITY},
        },
        {"relation": "SERVES", "from": {"nodeId": "output-toolkits"}, "to": {"nodeId": DIGITAL}},
    ]


async def test_an_output_can_serve_an_outcome_and_an_enabler_support_a_priority(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    result = await amend(
        baku,
        1,
        outcome(),
        link("output-learning-frameworks", "outcome-broadband", "SERVES"),
        link("enabler-efficiency", CONNECTIVITY, "SUPPORTS"),
    )

    assert result["__typename"] == "AmendmentApplied", result
    body = await graphql(
        """query($id: ID!) { plan(id: $id) {
          learning: node(nodeId: "output-learning-frameworks") {
            ... on Output { servesOutcomes { nodeId } servesPriorities { nodeId } }
          }
          broadband: node(nodeId: "outcome-broadband") { ... on Outcome { outputs { nodeId } } }
          efficiency: node(nodeId: "enabler-efficiency") {
            ... on Enabler { supportsPriorities { nodeId } }
          }
          connectivity: node(nodeId: "priority-affordable-connectivity") {
            ... on Priority { enablers { nodeId } outputs { nodeId } }
          }
        } }""",
        id=baku,
    )
    plan = body["data"]["plan"]
    assert plan["learning"] == {
        "servesOutcomes": [{"nodeId": "outcome-broadband"}],
        "servesPriorities": [{"nodeId": p} for p in sorted(PRIORITIES)],  # as seeded
    }
    assert plan["broadband"] == {"outputs": [{"nodeId": "output-learning-frameworks"}]}
    assert plan["efficiency"] == {"supportsPriorities": [{"nodeId": CONNECTIVITY}]}
    assert plan["connectivity"] == {
        "enablers": [{"nodeId": "enabler-efficiency"}],
        "outputs": [{"nodeId": o} for o in sorted(OUTPUTS)],  # as seeded
    }


async def test_unlinking_an_output_stops_it_serving_the_priority(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    others = [unlink("output-toolkits", p) for p in PRIORITIES if p != CONNECTIVITY]
    await amend(baku, 1, *others)  # the seed linked it to all five: one is left

    result = await amend(baku, 2, unlink("output-toolkits", CONNECTIVITY))

    assert result["__typename"] == "AmendmentApplied", result
    assert result["amendment"]["changes"] == [
        {
            "__typename": "NodesUnlinked",
            "fromId": "output-toolkits",
            "toId": CONNECTIVITY,
            "relation": "SERVES",
        }
    ]
    body = await graphql(
        """query($id: ID!) { plan(id: $id) {
          node(nodeId: "output-toolkits") { ... on Output { servesPriorities { nodeId } } }
        } }""",
        id=baku,
    )
    assert body["data"]["plan"]["node"] == {"servesPriorities": []}


async def test_a_moved_outcome_changes_priority_and_says_where_it_went(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, outcome(), kpi())

    result = await amend(baku, 2, move("outcome-broadband", DIGITAL))

    assert result["__typename"] == "AmendmentApplied", result
    assert result["amendment"]["changes"] == [
        {
            "__typename": "NodeMoved",
            "nodeId": "outcome-broadband",
            "parentId": DIGITAL,
            "position": 0,
        }
    ]
    body = await graphql(
        """query($id: ID!) { plan(id: $id) {
          priorities { nodeId outcomes { nodeId kpis { nodeId } } }
          node(nodeId: "outcome-broadband") { parent { nodeId } }
        } }""",
        id=baku,
    )
    plan = body["data"]["plan"]
    outcomes = {p["nodeId"]: p["outcomes"] for p in plan["priorities"]}
    assert outcomes[CONNECTIVITY] == []
    assert outcomes[DIGITAL] == [
        {"nodeId": "outcome-broadband", "kpis": [{"nodeId": "kpi-broadband-users"}]}
    ], "the outcome takes its KPIs with it"
    assert plan["node"]["parent"] == {"nodeId": DIGITAL}


async def test_the_actor_is_the_configured_default_and_clients_cannot_set_it(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    from tests.e2e.queries import AMEND

    refused = await graphql(
        AMEND,
        input={
            "planId": baku,
            "expectedVersion": 1,
            "authority": "BDT",
            "rationale": "I am someone else",
            "actor": "mallory",
            "changes": [update("output-toolkits", title="Mine")],
        },
    )
    assert refused.get("data") is None
    assert any("actor" in error["message"] for error in refused["errors"]), refused

    result = await amend(baku, 1, update("output-toolkits", title="Toolkits"), authority="BDT")
    assert result["amendment"]["actor"] == "e2e-tester"
    assert result["amendment"]["authority"] == "BDT"
    assert result["amendment"]["reference"] is None
    assert result["amendment"]["effectiveFrom"] is None


async def test_recorded_at_is_the_servers_clock_and_increases(amend: Amend, baku: str) -> None:
    before = dt.datetime.now(dt.UTC)
    first = await amend(baku, 1, update("output-toolkits", title="Toolkits 1"))
    second = await amend(baku, 2, update("output-toolkits", title="Toolkits 2"))
    after = dt.datetime.now(dt.UTC)

    one = dt.datetime.fromisoformat(first["amendment"]["recordedAt"])
    two = dt.datetime.fromisoformat(second["amendment"]["recordedAt"])
    assert before - dt.timedelta(seconds=1) <= one <= two <= after + dt.timedelta(seconds=1)
    assert first["amendment"]["hash"] != second["amendment"]["hash"]


async def test_a_new_plan_is_created_as_version_1_and_listed(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    body = await graphql(
        CREATE,
        input={
            "id": "kigali-2022",
            "title": "Kigali Action Plan",
            "periodStart": 2022,
            "periodEnd": 2025,
            "authority": "WTDC",
            "rationale": "Adopted at WTDC-22",
            "reference": "WTDC-22 Final Report",
            "effectiveFrom": "2022-01-01",
            "changes": [add("PRIORITY", "Affordable connectivity", id="kigali-p1", code="1")],
        },
    )

    created = body["data"]["createPlan"]
    assert created["__typename"] == "PlanCreated", created
    assert created["plan"] == {
        "planId": "kigali-2022",
        "title": "Kigali Action Plan",
        "version": 1,
        "period": {"startYear": 2022, "endYear": 2025, "label": "2022-2025"},
    }
    assert created["amendment"]["version"] == 1
    assert created["amendment"]["actor"] == "e2e-tester"
    assert created["amendment"]["changes"][0]["nodeId"] == "kigali-p1"
    listed = await graphql("{ plans { planId version } }")
    assert sorted(listed["data"]["plans"], key=lambda p: p["planId"]) == [
        {"planId": "baku-2026", "version": 1},
        {"planId": "kigali-2022", "version": 1},
    ]
    result = await amend("kigali-2022", 1, update("kigali-p1", code="P1"))
    assert result["__typename"] == "AmendmentApplied"
    listed = await graphql("{ plans { planId version } }")
    versions = {p["planId"]: p["version"] for p in listed["data"]["plans"]}
    assert versions == {"baku-2026": 1, "kigali-2022": 2}, "each plan has its own versions"


async def test_every_other_kind_of_node_reads_back_as_its_own_type(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    result = await amend(
        baku,
        1,
        add(
            "REGIONAL_INITIATIVE",
            "Digital infrastructure for Africa",
            id="ri-afr1",
            code="AFR1",
            region="AFRICA",
            objective="Affordable broadband across the region",
            expectedResults=["National broadband plans", "Cross-border fibre"],
        ),
        add(
            "PROJECT",
            "Fibre backbone study",
            id="project-backbone",
            parentId="ri-afr1",
            objective="Map the gaps",
            expectedResults=["A gap map"],
        ),
        add(
            "RESOLUTION",
            "Telecommunication/ICT development",
            id="res-1",
            number="1",
            revision="Rev. Baku, 2025",
        ),
        add("STUDY_GROUP", "Study Group 1", id="sg-1", code="SG1"),
        add("QUESTION", "Broadband access", id="q-1-1", parentId="sg-1", code="1/1"),
        link("ri-afr1", CONNECTIVITY, "CONTRIBUTES_TO"),
        link("project-backbone", CONNECTIVITY, "CONTRIBUTES_TO"),
        link("res-1", CONNECTIVITY, "RELATES_TO"),
        link("q-1-1", "ri-afr1", "RELATES_TO"),
    )
    assert result["__typename"] == "AmendmentApplied", result

    body = await graphql(
        """query($id: ID!) { plan(id: $id) {
          regionalInitiatives {
            __typename nodeId kind code region objective expectedResults
            contributesTo { nodeId }
            projects {
              __typename nodeId kind parent { nodeId } objective expectedResults
              contributesTo { nodeId }
            }
          }
          resolutions { __typename nodeId kind number revision links { relation to { nodeId } } }
          studyGroups {
            __typename nodeId kind code questions { __typename nodeId kind code parent { nodeId } }
          }
          connectivity: node(nodeId: "priority-affordable-connectivity") {
            ... on Priority { contributors { __typename nodeId } }
          }
          initiative: node(nodeId: "ri-afr1") { links { relation from { nodeId } to { nodeId } } }
        } }""",
        id=baku,
    )
    plan = body["data"]["plan"]
    assert plan["regionalInitiatives"] == [
        {
            "__typename": "RegionalInitiative",
            "nodeId": "ri-afr1",
            "kind": "REGIONAL_INITIATIVE",
            "code": "AFR1",
            "region": "AFRICA",
            "objective": "Affordable broadband across the region",
            "expectedResults": ["National broadband plans", "Cross-border fibre"],
            "contributesTo": [{"nodeId": CONNECTIVITY}],
            "projects": [
                {
                    "__typename": "Project",
                    "nodeId": "project-backbone",
                    "kind": "PROJECT",
                    "parent": {"nodeId": "ri-afr1"},
                    "objective": "Map the gaps",
                    "expectedResults": ["A gap map"],
                    "contributesTo": [{"nodeId": CONNECTIVITY}],
                }
            ],
        }
    ]
    assert plan["resolutions"] == [
        {
            "__typename": "Resolution",
            "nodeId": "res-1",
            "kind": "RESOLUTION",
            "number": "1",
            "revision": "Rev. Baku, 2025",
            "links": [{"relation": "RELATES_TO", "to": {"nodeId": CONNECTIVITY}}],
        }
    ]
    assert plan["studyGroups"] == [
        {
            "__typename": "StudyGroup",
            "nodeId": "sg-1",
            "kind": "STUDY_GROUP",
            "code": "SG1",
            "questions": [
                {
                    "__typename": "Question",
                    "nodeId": "q-1-1",
                    "kind": "QUESTION",
                    "code": "1/1",
                    "parent": {"nodeId": "sg-1"},
                }
            ],
        }
    ]
    contributors = {(c["__typename"], c["nodeId"]) for c in plan["connectivity"]["contributors"]}
    assert contributors == {("RegionalInitiative", "ri-afr1"), ("Project", "project-backbone")}
    assert {"relation": "RELATES_TO", "from": {"nodeId": "q-1-1"}, "to": {"nodeId": "ri-afr1"}} in (
        plan["initiative"]["links"]
    )


async def test_references_and_position_are_set_when_adding_and_updating(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(
        baku,
        1,
        add("OUTCOME", "Second", id="outcome-second", parentId=CONNECTIVITY),
        add("OUTCOME", "First", id="outcome-first", parentId=CONNECTIVITY, position=0),
    )
    result = await amend(
        baku,
        2,
        update(
            "priority-digital-transformation",
            references=[
                {"vocabulary": "ITU_STRATEGIC_GOAL", "code": "2", "uri": "https://www.itu.int/sp"},
                {"vocabulary": "SDG_TARGET", "code": "9.c"},
            ],
        ),
    )

    assert result["amendment"]["changes"][0]["fields"] == [
        {
            "field": "references",
            "value": [
                {"vocabulary": "ITU_STRATEGIC_GOAL", "code": "2", "uri": "https://www.itu.int/sp"},
                {"vocabulary": "SDG_TARGET", "code": "9.c", "uri": None},
            ],
        }
    ]
    body = await graphql(
        """query($id: ID!) { plan(id: $id) {
          priorities { nodeId references { vocabulary code uri } outcomes { nodeId position } }
        } }""",
        id=baku,
    )
    connectivity, digital, *_ = body["data"]["plan"]["priorities"]
    assert connectivity["outcomes"] == [
        {"nodeId": "outcome-first", "position": 0},
        {"nodeId": "outcome-second", "position": 1},
    ]
    assert digital["references"] == [
        {"vocabulary": "ITU_STRATEGIC_GOAL", "code": "2", "uri": "https://www.itu.int/sp"},
        {"vocabulary": "SDG_TARGET", "code": "9.c", "uri": None},
    ]
