"""8 writers race 200 amendments each against one plan, through the HTTP API, on both backends:
every accepted amendment appears exactly once, versions are contiguous, every refusal is a
VersionConflict, and the chain verifies."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from starlette.applications import Starlette

from planapi.config import Settings
from tests.security.conftest import http_client, post_graphql, running

WRITERS = 8
AMENDMENTS = 200
PLAN = "baku-2026"
AMEND = """
mutation($input: AmendPlanInput!) {
  amendPlan(input: $input) {
    __typename
    ... on AmendmentApplied { amendment { version rationale } }
    ... on VersionConflict { expectedVersion actualVersion }
  }
}
"""
PAGE = """
query($id: ID!, $after: String) {
  plan(id: $id) {
    version
    amendments(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { version rationale actor }
    }
  }
}
"""


async def writer(
    http: httpx.AsyncClient, number: int
) -> tuple[list[tuple[int, str]], Counter[str]]:
    """Sends exactly AMENDMENTS amendments; after a conflict, tries again on the version it was
    told. Returns (version, rationale) of those accepted, and how each attempt ended."""
    accepted: list[tuple[int, str]] = []
    outcomes: Counter[str] = Counter()
    expected = 1
    for attempt in range(AMENDMENTS):
        rationale = f"writer {number}, attempt {attempt}"
        given = {
            "planId": PLAN,
            "expectedVersion": expected,
            "authority": "TDAG",
            "rationale": rationale,
            "changes": [{"updateNode": {"id": "output-toolkits", "title": rationale}}],
        }
        status, body = await post_graphql(http, AMEND, input=given)
        assert status == 200, body
        result: dict[str, Any] = body["data"]["amendPlan"]
        outcomes[result["__typename"]] += 1
        if result["__typename"] == "AmendmentApplied":
            version = result["amendment"]["version"]
            assert result["amendment"]["rationale"] == rationale
            accepted.append((version, rationale))
            expected = version
        else:
            assert result["__typename"] == "VersionConflict", result
            assert result["expectedVersion"] == expected
            assert result["actualVersion"] > expected
            expected = result["actualVersion"]
    return accepted, outcomes


async def the_log(http: httpx.AsyncClient) -> tuple[int, list[dict[str, Any]]]:
    found: list[dict[str, Any]] = []
    after = None
    while True:
        _, body = await post_graphql(http, PAGE, id=PLAN, after=after)
        plan = body["data"]["plan"]
        connection = plan["amendments"]
        found += connection["nodes"]
        if not connection["pageInfo"]["hasNextPage"]:
            return plan["version"], found
        after = connection["pageInfo"]["endCursor"]


async def test_racing_writers_lose_nothing_and_duplicate_nothing(
    settings: Settings, admin_token: str
) -> None:
    wide = settings.model_copy(update={"db_pool_size": WRITERS + 4})
    app: Starlette
    async with running(wide) as app, http_client(app, admin_token) as http:
        from planapi.entrypoints.seeding import CREATE_PLAN, seed_input

        await post_graphql(http, CREATE_PLAN, input=seed_input("baku"))  # PostgreSQL
        results = await asyncio.gather(*(writer(http, n) for n in range(WRITERS)))

        latest, log = await the_log(http)
        _, verified = await post_graphql(
            http, '{ verifyIntegrity(planId: "baku-2026") { ok checked headVersion } }'
        )

    accepted = [item for found, _ in results for item in found]
    outcomes = sum((counted for _, counted in results), Counter())
    assert sum(outcomes.values()) == WRITERS * AMENDMENTS
    assert set(outcomes) <= {"AmendmentApplied", "VersionConflict"}, "every refusal a conflict"
    assert outcomes["AmendmentApplied"] == len(accepted) > 0
    assert outcomes["VersionConflict"] > 0, "the writers did race"

    versions = sorted(version for version, _ in accepted)
    assert versions == list(range(2, len(accepted) + 2)), "contiguous: no gap, no duplicate"
    assert latest == len(accepted) + 1

    stored = {entry["version"]: entry["rationale"] for entry in log if entry["version"] > 1}
    assert len(log) == latest
    assert stored == dict(accepted), "each accepted amendment exactly once, where it was told"
    assert Counter(stored.values()).most_common(1)[0][1] == 1
    for found, _ in results:  # each writer's own amendments in the order it made them
        assert [v for v, _ in found] == sorted(v for v, _ in found)
    assert {entry["actor"] for entry in log if entry["version"] > 1} == {"e2e-tester"}
    assert verified["data"]["verifyIntegrity"] == {
        "ok": True,
        "checked": latest,
        "headVersion": latest,
    }
