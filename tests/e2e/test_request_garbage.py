"""A served GraphQL request leaves nothing for the collector: its context, loaders and executor
are freed when it ends, by reference counting alone.

The server collects rarely (high thresholds, its start-up heap frozen: entrypoints/asgi.py), so
anything a request leaves in a reference cycle lives on for minutes, and what a young collection
promotes waits for a full one: the soak's resident memory grew with it (docs/performance.md,
"The soak"). Each kind of request here runs with the collector off; then a collection that
keeps what it finds (`DEBUG_SAVEALL`) must find none of a request's own objects. The app's
background rounds (the log follower's Merkle reads) run meanwhile and are counted too, on
purpose: a cycle they leave fails here as well, and `tests/contract/test_statement_garbage.py`
names the store statement.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from planapi.api.runtime.execution import FastExecutionContext
from planapi.api.types.context import Context
from planapi.entrypoints.seeding import CREATE_PLAN
from tests.e2e.conftest import GraphQL
from tests.garbage import garbage_kept, statement_parts
from tests.readings_fixtures import PLAN_ID, create_plan_input

REQUESTS = 10


def _requests_own(garbage: list[object]) -> dict[str, int]:
    """The request's own objects among `garbage`, counted by type."""
    owned = (Context, FastExecutionContext)
    counts: dict[str, int] = {}
    for item in garbage:
        if isinstance(item, owned) or type(item).__module__.startswith("strawberry.dataloader"):
            counts[type(item).__name__] = counts.get(type(item).__name__, 0) + 1
    return counts


async def _each(action: Callable[[], Awaitable[Any]]) -> dict[str, int]:
    await action()  # documents parsed, plans compiled: what later requests share
    with garbage_kept() as garbage:
        for _ in range(REQUESTS):
            await action()
    return {**_requests_own(garbage), **statement_parts(garbage)}


async def test_queries_and_mutations_leave_no_cycles_behind(
    graphql: GraphQL, baku: str, amend: Callable[..., Awaitable[dict[str, Any]]]
) -> None:
    version = 1

    async def amendment() -> None:
        nonlocal version
        changed = {"updateNode": {"id": "priority-affordable-connectivity", "title": f"T{version}"}}
        found = await amend(baku, version, changed)
        assert found["__typename"] == "AmendmentApplied", found
        version = found["plan"]["version"]

    async def latest_tree() -> None:  # executed: each amendment moved the latest version
        await amendment()
        body = await graphql(
            "query Tree($id: ID!) { plan(id: $id) { version priorities { title "
            "outcomes { kpis { code title latest { value } progress { onTrack } } } } } }",
            id=baku,
        )
        assert body["data"]["plan"]["version"] == version, body

    assert await _each(amendment) == {}
    assert await _each(latest_tree) == {}


RECORD = """
mutation Record($input: RecordReadingsInput!) {
  recordReadings(input: $input) { __typename ... on ValidationFailed { message } }
}
"""


async def test_readings_batches_leave_no_cycles_behind(graphql: GraphQL) -> None:
    """Each batch with integrations' reading ids looks the stored ones up (duplicates): on
    SQLite a statement of its own, which an `in_` built per batch left in cycles."""
    created = await graphql(CREATE_PLAN, input=create_plan_input())
    assert created["data"]["createPlan"]["__typename"] == "PlanCreated", created
    batches = iter(range(1_000))

    async def batch() -> None:
        n = next(batches)
        readings = [
            {
                "kpiId": "kpi-1",
                "period": str(year),
                "status": "FINAL",
                "value": f"{n}.5",
                "source": {"integration": "nso", "readingId": f"b{n}-{year}"},
            }
            for year in range(2026, 2030)
        ]
        body = await graphql(RECORD, input={"planId": PLAN_ID, "readings": readings})
        assert body["data"]["recordReadings"]["__typename"] == "ReadingsRecorded", body

    assert await _each(batch) == {}
