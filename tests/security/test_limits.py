"""Limits every request meets: cost budgets per role, page sizes, body size, the per-token rate
limit; unexpected errors masked with the request id on every route."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette

from planapi.config import Settings
from tests.e2e.conftest import issue_token
from tests.readings_fixtures import PLAN_ID
from tests.security.conftest import Tokens, http_client, post_body, post_graphql, running

WIDE = f'{{ plan(id: "{PLAN_ID}") {{ nodes {{ children {{ children {{ id title }} }} }} }} }}'


# -- the cost budget -------------------------------------------------------------------------
async def test_a_query_over_its_roles_budget_is_refused_before_it_runs(
    settings: Settings, readings_plan: str, tokens: Tokens
) -> None:
    tight = settings.model_copy(
        update={"max_query_cost_anonymous": 1_000, "max_query_cost_reader": 100_000}
    )
    async with running(tight) as app:
        async with http_client(app) as anonymous:
            _, body = await post_graphql(anonymous, WIDE)
        [error] = body["errors"]
        assert "data" not in body, "refused before it ran: no data entry"
        assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
        assert error["extensions"]["budget"] == 1_000
        assert error["extensions"]["cost"] > 1_000
        assert "anonymous" in error["message"]

        async with http_client(app, tokens["reader"]) as reader:
            _, body = await post_graphql(reader, WIDE)
        assert "errors" not in body, "the same query fits the reader's budget"


async def test_mutations_and_subscriptions_are_charged_too(
    settings: Settings, tokens: Tokens
) -> None:
    tight = settings.model_copy(update={"max_query_cost_editor": 10})
    async with running(tight) as app, http_client(app, tokens["editor"]) as editor:
        _, body = await post_graphql(
            editor,
            'mutation { amendPlan(input: {planId: "x", expectedVersion: 1, authority: TDAG, '
            'rationale: "r", changes: []}) { ... on AmendmentApplied { plan { nodes { id } } } } }',
        )
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


# -- page sizes ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "path"),
    [
        ('{ plan(id: "%s") { amendments(first: 101) { totalCount } } }', "first"),
        ("{ events(first: 1001) { endPosition } }", "first"),
        ('{ nodeHistory(planId: "%s", nodeId: "p1", first: 1001) { version } }', "first"),
        (
            '{ plan(id: "%s") { node(nodeId: "p1") { history(first: -1) { version } } } }',
            "first",
        ),
        (
            '{ plan(id: "%s") { node(nodeId: "kpi-1") { ... on Kpi { readings(limit: 10001) '
            "{ period } } } } }",
            "limit",
        ),
    ],
)
async def test_every_list_refuses_a_page_over_its_cap(
    app: Starlette, readings_plan: str, admin_token: str, query: str, path: str
) -> None:
    async with http_client(app, admin_token) as http:
        _, body = await post_graphql(http, query.replace("%s", PLAN_ID))
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["problems"][0]["path"] == path


async def test_more_readings_than_the_limit_is_an_error_never_a_silent_cut(
    app: Starlette, readings_plan: str, admin_token: str
) -> None:
    readings = [
        {"kpiId": "kpi-4", "period": f"2026-{i + 1:02d}", "status": "FINAL", "value": "1"}
        for i in range(5)
    ]
    query = (
        '{ plan(id: "%s") { node(nodeId: "kpi-4") '
        "{ ... on Kpi { readings(limit: %d) { period } } } } }"
    )
    async with http_client(app, admin_token) as http:
        _, body = await post_graphql(
            http,
            "mutation($input: RecordReadingsInput!) { recordReadings(input: $input) "
            "{ __typename } }",
            input={"planId": PLAN_ID, "readings": readings},
        )
        assert body["data"]["recordReadings"]["__typename"] == "ReadingsRecorded"
        _, fits = await post_graphql(http, query % (PLAN_ID, 5))
        _, over = await post_graphql(http, query % (PLAN_ID, 4))
    assert len(fits["data"]["plan"]["node"]["readings"]) == 5
    assert "5 readings match, more than limit 4" in over["errors"][0]["message"]


async def test_node_history_pages_newest_first(
    app: Starlette, readings_plan: str, admin_token: str
) -> None:
    async with http_client(app, admin_token) as http:
        for version in (1, 2, 3):
            _, body = await post_graphql(
                http,
                "mutation($input: AmendPlanInput!) { amendPlan(input: $input) { __typename } }",
                input={
                    "planId": PLAN_ID,
                    "expectedVersion": version,
                    "authority": "TDAG",
                    "rationale": "again",
                    "changes": [{"updateNode": {"id": "p1", "title": f"Title {version}"}}],
                },
            )
            assert body["data"]["amendPlan"]["__typename"] == "AmendmentApplied"
        query = '{ nodeHistory(planId: "%s", nodeId: "p1", first: 2%s) { version } }'
        _, first = await post_graphql(http, query % (PLAN_ID, ""))
        _, older = await post_graphql(http, query % (PLAN_ID, ", beforeVersion: 3"))
    assert [e["version"] for e in first["data"]["nodeHistory"]] == [4, 3]
    assert [e["version"] for e in older["data"]["nodeHistory"]] == [2, 1]


# -- body size -------------------------------------------------------------------------------
async def test_a_graphql_body_over_the_limit_is_refused_declared_or_streamed(
    settings: Settings,
) -> None:
    small = settings.model_copy(update={"max_graphql_bytes": 2048})
    body = b'{"query": "{ plans { id } }", "variables": {"pad": "' + b"x" * 4096 + b'"}}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 512):
            yield body[start : start + 512]

    async with running(small) as app, http_client(app) as http:
        declared = await post_body(http, body)
        streamed = await post_body(http, chunks())
        fits = await http.post("/graphql", json={"query": "{ plans { id } }"})
    for refused in (declared, streamed):
        assert refused.status_code == 413, refused.text
        assert refused.json()["error"] == "too_large"
        assert refused.json()["errors"][0]["extensions"]["code"] == "TOO_LARGE"
    assert fits.status_code == 200


# -- the rate limit --------------------------------------------------------------------------
async def test_each_token_has_its_bucket_and_an_empty_one_answers_429_with_retry_after(
    settings: Settings,
) -> None:
    limited = settings.model_copy(update={"rate_limit_per_second": 0.5, "rate_limit_burst": 3})
    one = await issue_token(limited, "one", "reader")
    two = await issue_token(limited, "two", "reader")
    query = {"query": "{ plans { id } }"}
    async with running(limited) as app:
        async with http_client(app, one) as first, http_client(app, two) as second:
            answers = [(await first.post("/graphql", json=query)).status_code for _ in range(4)]
            assert answers == [200, 200, 200, 429]
            refused = await first.post("/graphql", json=query)
            assert refused.status_code == 429
            assert refused.headers["retry-after"] == "2"
            assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
            assert (await first.get("/events")).status_code == 429, "every route draws on it"
            assert (await second.post("/graphql", json=query)).status_code == 200
            assert (await first.get("/healthz")).status_code == 200, "health is never limited"
        async with http_client(app) as anonymous:  # anonymous callers: per address
            answers = [(await anonymous.post("/graphql", json=query)).status_code for _ in range(4)]
            assert answers == [200, 200, 200, 429]


# -- unexpected errors -----------------------------------------------------------------------
async def test_an_unexpected_error_on_a_plain_http_route_is_masked_and_logged_with_its_id(
    app: Starlette,
    readings_plan: str,
    tokens: Tokens,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from planapi.application.plans import PlanService

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(PlanService, "plan", broken)
    caplog.set_level(logging.ERROR)
    async with http_client(app, tokens["auditor"]) as http:
        response = await http.get(
            f"/plans/{PLAN_ID}/document", headers={"x-request-id": "trace-77"}
        )

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "trace-77"
    body = response.json()
    assert body == {
        "error": "internal_error",
        "message": "Unexpected error; quote the request id to support.",
        "requestId": "trace-77",
    }
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    logged = [r for r in caplog.records if "trace-77" in r.getMessage()]
    assert logged, "the log has it under the request id"
    assert logged[0].exc_info is not None
    assert "hunter2" in str(logged[0].exc_info[1])


async def test_an_unexpected_error_in_graphql_is_masked_and_carries_the_request_id(
    app: Starlette, readings_plan: str, admin_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from planapi.application.plans import PlanService

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(PlanService, "verify", broken)
    async with http_client(app, admin_token) as http:
        response = await http.post(
            "/graphql",
            json={"query": f'{{ verifyIntegrity(planId: "{PLAN_ID}") {{ ok }} }}'},
            headers={"x-request-id": "trace-78"},
        )
    assert response.headers["x-request-id"] == "trace-78"
    [error] = response.json()["errors"]
    assert error["message"] == "Unexpected error; quote the request id to support."
    assert "secret" not in response.text


async def test_a_subscription_over_its_budget_is_refused_before_it_starts() -> None:
    from planapi.api.schema import build_schema
    from planapi.api.types.context import Context
    from planapi.application.access import Role, principal_for

    schema = build_schema(cost_budgets=dict.fromkeys(Role, 2))
    context = Context(
        plans=None,  # type: ignore[arg-type]  # never reached: refused before it runs
        readings=None,  # type: ignore[arg-type]
        principal=principal_for("watcher", Role.READER, "token"),
    )
    stream = await schema.subscribe(
        'subscription { planAmended(planId: "p") { version amendment { actor } } }',
        context_value=context,
    )
    result = await anext(stream)  # type: ignore[arg-type]
    [error] = result.errors or []
    assert error.extensions is not None
    assert error.extensions["code"] == "QUERY_TOO_COSTLY"
