"""Global ids, as a normalising client (Apollo InMemoryCache, urql Graphcache, Relay) sees them:
every object's `id` names it as of its version, so a cache keyed by `id` never mixes two
versions; `Query.node(id:)` fetches any of them again with the same data; stable keys are
`planId` / `nodeId` / `readingId`, and bad ids are refused naming the argument."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import update
from tests.e2e.test_readings_http import CREATE, numeric, record
from tests.readings_fixtures import PLAN_ID, create_plan_input

KPI_FIELDS = """
fragment KpiFields on Kpi {
  __typename id nodeId kind code title unit position
  parent { __typename id nodeId title }
  history { id version change }
}
"""

PLAN_QUERY = (
    """
query Plan($id: ID!, $version: Int) {
  plan(id: $id, version: $version) {
    __typename id planId version title hash
    amendment { __typename id version rationale }
    nodes { __typename id nodeId title position ... on Kpi { ...KpiFields } }
  }
}
"""
    + KPI_FIELDS
)

REFETCH = (
    """
query Refetch($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Plan {
      planId version title hash
      amendment { __typename id version rationale }
      nodes { __typename id nodeId title position ... on Kpi { ...KpiFields } }
    }
    ... on Kpi { ...KpiFields }
    ... on Amendment { version rationale }
    ... on NodeHistoryEntry { version change }
    ... on Reading { readingId kpiId period value isCurrent supersededAt }
    ... on ReadingsBatch { batchId readings { id readingId kpiId value } }
  }
}
"""
    + KPI_FIELDS
)

READINGS = """
query Readings($plan: ID!, $asOf: DateTime) {
  plan(id: $plan) {
    node(nodeId: "kpi-1") {
      ... on Kpi {
        readings(includeSuperseded: true, asOf: $asOf, disaggregation: []) {
          __typename id readingId kpiId period value isCurrent supersededAt
        }
      }
    }
  }
}
"""


@pytest.fixture
async def plan(graphql: GraphQL) -> str:
    """The readings tests' plan of four KPIs, as version 1."""
    body = await graphql(CREATE, input=create_plan_input())
    assert body["data"]["createPlan"]["__typename"] == "PlanCreated", body
    return PLAN_ID


class Conflict(AssertionError):
    pass


def normalise(value: Any, store: dict[str, dict[str, Any]]) -> Any:
    """What a normalising cache does with a response: every object with an `id` is stored
    under it, its fields merged with what is there, nested objects replaced by references.
    A field that arrives with another value under the same id is what made Apollo show
    version 1's outcomes as the latest plan's: here it is a Conflict."""
    if isinstance(value, list):
        return [normalise(item, store) for item in value]
    if not isinstance(value, dict):
        return value
    fields = {key: normalise(item, store) for key, item in value.items()}
    if "id" not in fields:
        return fields
    stored = store.setdefault(fields["id"], {})
    for key, item in fields.items():
        if key in stored and stored[key] != item:
            raise Conflict(f"{fields['id']}.{key}: {stored[key]!r} then {item!r}")
        stored[key] = item
    return {"ref": fields["id"]}


async def query_plan(graphql: GraphQL, plan_id: str, version: int | None = None) -> Any:
    body = await graphql(PLAN_QUERY, id=plan_id, version=version)
    assert "errors" not in body, body
    return body["data"]["plan"]


async def refetch(graphql: GraphQL, global_id: str) -> Any:
    body = await graphql(REFETCH, id=global_id)
    assert "errors" not in body, body
    return body["data"]["node"]


async def amended_twice(graphql: GraphQL, amend: Any) -> None:
    first = await amend(PLAN_ID, 1, update("kpi-1", title="Individuals online"))
    assert first["__typename"] == "AmendmentApplied", first
    second = await amend(PLAN_ID, 2, update("kpi-2", code="1.1.9"))
    assert second["__typename"] == "AmendmentApplied", second


async def test_one_cache_holds_version_1_and_the_latest_without_mixing_them(
    graphql: GraphQL, plan: str, amend: Any
) -> None:
    await amended_twice(graphql, amend)
    store: dict[str, dict[str, Any]] = {}
    old = await query_plan(graphql, plan, 1)
    latest = await query_plan(graphql, plan)
    # Both go into one cache, as a front-end reading version 1 and then the latest would:
    # no id receives two different values, and each read back is what the network said.
    old_ref, latest_ref = normalise(old, store), normalise(latest, store)
    assert store[old_ref["ref"]]["version"] == 1
    assert store[latest_ref["ref"]]["version"] == 3
    assert (old["planId"], latest["planId"]) == (plan, plan)
    assert (old["id"], latest["id"]) == (f"Plan:{plan}:1", f"Plan:{plan}:3")
    old_kpi = next(n for n in old["nodes"] if n["nodeId"] == "kpi-1")
    new_kpi = next(n for n in latest["nodes"] if n["nodeId"] == "kpi-1")
    assert store[old_kpi["id"]]["title"] == "Individuals using the Internet"
    assert store[new_kpi["id"]]["title"] == "Individuals online"
    assert (old_kpi["id"], new_kpi["id"]) == (f"Kpi:{plan}:1:kpi-1", f"Kpi:{plan}:3:kpi-1")
    # Every node differs between versions (its version, history or position may), and its
    # stable key does not.
    assert {n["id"] for n in old["nodes"]}.isdisjoint(n["id"] for n in latest["nodes"])
    assert [n["nodeId"] for n in old["nodes"]] == [n["nodeId"] for n in latest["nodes"]]
    # The same version read twice gives the same ids: nothing to refetch, nothing to split.
    again = await query_plan(graphql, plan, 1)
    assert again == old
    normalise(again, store)


async def test_the_old_stable_ids_would_have_mixed_versions_in_the_cache(
    graphql: GraphQL, plan: str, amend: Any
) -> None:
    """The reason for all this: keyed by the stable key, the two versions collide."""
    await amended_twice(graphql, amend)
    old, latest = await query_plan(graphql, plan, 1), await query_plan(graphql, plan)

    def keyed_by_stable_key(value: Any) -> Any:
        if isinstance(value, list):
            return [keyed_by_stable_key(item) for item in value]
        if not isinstance(value, dict):
            return value
        fields = {k: keyed_by_stable_key(v) for k, v in value.items()}
        stable = fields.get("nodeId", fields.get("planId"))
        return {**fields, "id": stable} if stable is not None else fields

    store: dict[str, dict[str, Any]] = {}
    normalise(keyed_by_stable_key(old), store)
    with pytest.raises(Conflict):
        normalise(keyed_by_stable_key(latest), store)


async def test_node_refetches_a_plan_a_kpi_and_an_amendment_with_the_same_data(
    graphql: GraphQL, plan: str, amend: Any
) -> None:
    await amended_twice(graphql, amend)
    for version in (1, 3):
        read = await query_plan(graphql, plan, version)
        again = await refetch(graphql, read["id"])
        assert again == read
        kpi = next(n for n in read["nodes"] if n["nodeId"] == "kpi-1")
        assert await refetch(graphql, kpi["id"]) == kpi
        amendment = await refetch(graphql, read["amendment"]["id"])
        assert amendment == read["amendment"]
        for entry in kpi["history"]:
            assert await refetch(graphql, entry["id"]) == {
                "__typename": "NodeHistoryEntry",
                **entry,
            }


async def test_an_old_versions_node_id_stays_resolvable_after_amendments(
    graphql: GraphQL, plan: str, amend: Any
) -> None:
    old = await query_plan(graphql, plan, 1)
    await amended_twice(graphql, amend)
    kpi = next(n for n in old["nodes"] if n["nodeId"] == "kpi-1")
    found = await refetch(graphql, kpi["id"])
    assert found["title"] == "Individuals using the Internet"
    assert found == kpi


async def test_a_reading_current_then_and_superseded_now_has_two_ids_each_refetchable(
    graphql: GraphQL, plan: str
) -> None:
    first = await record(graphql, numeric("2026", "61.5"))
    await record(graphql, numeric("2026", "62.0", note="corrected"))
    then = await graphql(READINGS, plan=plan, asOf=first["recordedAt"])
    now = await graphql(READINGS, plan=plan)
    [as_then] = then["data"]["plan"]["node"]["readings"]
    corrected, original = sorted(
        now["data"]["plan"]["node"]["readings"], key=lambda r: r["isCurrent"], reverse=True
    )
    assert as_then["readingId"] == original["readingId"]
    assert (as_then["isCurrent"], original["isCurrent"]) == (True, False)
    assert as_then["id"] != original["id"]
    assert as_then["id"].endswith(":current")
    assert original["id"].endswith(f":superseded-by-{corrected['readingId']}")
    store: dict[str, dict[str, Any]] = {}
    normalise([as_then, original, corrected], store)
    for reading in (as_then, original, corrected):
        assert await refetch(graphql, reading["id"]) == reading


async def test_a_batch_of_readings_is_refetched_with_the_readings_its_id_names(
    graphql: GraphQL, plan: str
) -> None:
    recorded = await record(graphql, numeric("2026", "61.5"), numeric("2026", "4.1", kpi="kpi-2"))
    batch_id = recorded["batchId"]
    found = await refetch(graphql, f"ReadingsBatch:{batch_id}:kpi-2")
    assert found["id"] == f"ReadingsBatch:{batch_id}:kpi-2"
    assert [(r["kpiId"], r["value"]) for r in found["readings"]] == [("kpi-2", "4.1")]
    both = await refetch(graphql, f"ReadingsBatch:{batch_id}:kpi-1:kpi-2")
    assert sorted(r["kpiId"] for r in both["readings"]) == ["kpi-1", "kpi-2"]
    # A KPI the batch has no reading of: that id was never given out.
    assert await refetch(graphql, f"ReadingsBatch:{batch_id}:kpi-3") is None


@pytest.mark.parametrize(
    "global_id",
    [
        f"Plan:{PLAN_ID}:99",
        "Plan:no-such-plan:1",
        f"PlanSummary:{PLAN_ID}:99",
        f"Kpi:{PLAN_ID}:1:no-such-node",
        f"Priority:{PLAN_ID}:1:kpi-1",  # a KPI, not a priority
        f"Amendment:{PLAN_ID}:99",
        f"NodeHistoryEntry:{PLAN_ID}:1:kpi-1:5",
        f"Reading:{PLAN_ID}:kpi-1:999:current",
        "ReadingsBatch:999:kpi-1",
    ],
)
async def test_a_well_formed_id_of_nothing_is_null(
    graphql: GraphQL, plan: str, global_id: str
) -> None:
    body = await graphql("query($id: ID!) { node(id: $id) { id } }", id=global_id)
    assert body == {"data": {"node": None}}


@pytest.mark.parametrize(
    "global_id",
    [
        PLAN_ID,  # a stable key, not a global id
        "kpi-1",
        "",
        f"Plan:{PLAN_ID}",
        f"Plan:{PLAN_ID}:0",
        f"Plan:{PLAN_ID}:01",
        f"Plan:{PLAN_ID}:one",
        f"Plan:{PLAN_ID}:2147483648",
        f"Plan:{PLAN_ID}:1:extra",
        f"Kpi:{PLAN_ID}:1",
        f"Kpi:{PLAN_ID}::kpi-1",
        "Plan:readings%2026:1",
        # (a NUL is refused before any resolver runs: tests/security/test_nul.py)
        "Secret:x:1",
        f"Reading:{PLAN_ID}:kpi-1:1:stale",
        f"Reading:{PLAN_ID}:kpi-1:1:superseded-by-x",
        "ReadingsBatch:1",
        "Plan:" + "p" * 5_000 + ":1",
    ],
)
async def test_a_malformed_id_is_refused_naming_id(
    graphql: GraphQL, plan: str, global_id: str
) -> None:
    body = await graphql("query($id: ID!) { node(id: $id) { id } }", id=global_id)
    assert body["data"] == {"node": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    [problem] = error["extensions"]["problems"]
    assert problem["path"] == "id"
    assert "not a global id" in problem["message"]


async def test_nodes_answers_in_order_and_names_each_bad_id(graphql: GraphQL, plan: str) -> None:
    good, nothing = f"Plan:{PLAN_ID}:1", f"Plan:{PLAN_ID}:9"
    found = await graphql(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Plan { planId } } }",
        ids=[nothing, good],
    )
    assert found == {"data": {"nodes": [None, {"id": good, "planId": PLAN_ID}]}}
    refused = await graphql(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", ids=[good, "kpi-1", good, "Plan:x"]
    )
    paths = [p["path"] for p in refused["errors"][0]["extensions"]["problems"]]
    assert paths == ["ids[1]", "ids[3]"]
    too_many = await graphql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", ids=[good] * 101)
    assert too_many["errors"][0]["extensions"]["problems"][0]["path"] == "ids"


async def test_a_part_holding_a_colon_or_a_percent_is_encoded_and_read_back(
    graphql: GraphQL, plan: str
) -> None:
    """No plan or node id can hold `:` or `%` today; ids that did would still parse the same
    way, and so does an encoded part naming nothing."""
    body = await graphql("query($id: ID!) { node(id: $id) { id } }", id="Kpi:a%3Ab%25c:1:kpi%3A1")
    assert body == {"data": {"node": None}}


async def test_plan_node_takes_node_id_and_the_deprecated_id_alias(
    graphql: GraphQL, plan: str
) -> None:
    body = await graphql(
        f'{{ plan(id: "{PLAN_ID}") {{ a: node(nodeId: "kpi-1") {{ nodeId }} '
        'b: node(id: "kpi-1") { nodeId } } }'
    )
    assert body["data"]["plan"] == {"a": {"nodeId": "kpi-1"}, "b": {"nodeId": "kpi-1"}}
    for arguments in ('(nodeId: "kpi-1", id: "kpi-1")', ""):
        refused = await graphql(f'{{ plan(id: "{PLAN_ID}") {{ node{arguments} {{ id }} }} }}')
        [error] = refused["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["problems"][0]["path"] == "nodeId"


async def test_two_changes_of_one_node_in_one_amendment_are_two_history_entries(
    graphql: GraphQL, plan: str, amend: Any
) -> None:
    result = await amend(PLAN_ID, 1, update("kpi-1", title="Online"), update("kpi-1", code="9"))
    assert result["__typename"] == "AmendmentApplied", result
    kpi = next(n for n in (await query_plan(graphql, plan))["nodes"] if n["nodeId"] == "kpi-1")
    entries = [e for e in kpi["history"] if e["version"] == 2]
    assert sorted(e["id"] for e in entries) == [
        f"NodeHistoryEntry:{PLAN_ID}:2:kpi-1:0",
        f"NodeHistoryEntry:{PLAN_ID}:2:kpi-1:1",
    ]
    for entry in entries:
        assert await refetch(graphql, entry["id"]) == {"__typename": "NodeHistoryEntry", **entry}
    fields = await graphql(
        "query($id: ID!) { node(id: $id) { ... on NodeHistoryEntry { fields { field } } } }",
        id=f"NodeHistoryEntry:{PLAN_ID}:2:kpi-1:0",
    )
    assert fields["data"]["node"]["fields"] == [{"field": "title"}], "in the amendment's order"
