"""Large bodies cannot stall the worker (issue 11, item 5): each role has its own byte limit
(anonymous callers far the smallest), the issue's bodies — megabytes of comments, one huge
string literal, a variable of 100,000 readings — are answered with a clear refusal, and a large
document is parsed while other requests keep being answered."""

from __future__ import annotations

import asyncio
import json

import pytest
from starlette.applications import Starlette

from planapi.config import Settings
from tests.security.conftest import Tokens, http_client, post_body, running

ONE_FIELD = "{ plans { id } }"
RECORD = "mutation($input: RecordReadingsInput!) { recordReadings(input: $input) { __typename "
RECORD += "... on ValidationFailed { problems { path message } } } }"
READING = {"kpiId": "kpi-1", "period": "2026", "status": "FINAL", "value": "1"}


def comments(size: int) -> bytes:
    return json.dumps({"query": ("#" + "x" * 78 + "\n") * (size // 81) + ONE_FIELD}).encode()


def literal(size: int) -> bytes:
    return json.dumps({"query": '{ plan(id: "' + "x" * size + '") { version } }'}).encode()


def readings(count: int) -> bytes:
    given = {"planId": "p", "idempotencyKey": "k", "readings": [READING] * count}
    return json.dumps({"query": RECORD, "variables": {"input": given}}).encode()


@pytest.mark.parametrize(
    "body",
    [comments(70_000), literal(70_000), readings(1_200)],
    ids=["comments", "literal", "readings"],
)
async def test_anonymous_bodies_over_64_kib_are_refused_with_413(
    app: Starlette, body: bytes
) -> None:
    async with http_client(app) as anonymous:
        response = await post_body(anonymous, body)
    assert response.status_code == 413, response.text
    assert response.json()["maxBytes"] == 64 * 1024


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("reader", 1024 * 1024), ("auditor", 1024 * 1024), ("editor", 2 * 1024 * 1024)],
)
async def test_each_role_has_its_own_limit(
    app: Starlette, tokens: Tokens, role: str, allowed: int
) -> None:
    async with http_client(app, tokens[role]) as http:
        fits = await post_body(http, comments(allowed - 1_000))
        over = await post_body(http, comments(allowed + 1_000))
    assert fits.status_code == 200, fits.text
    assert over.status_code == 413
    assert over.json()["maxBytes"] == allowed


async def test_a_roles_limit_is_a_setting_never_above_the_global_one(
    settings: Settings, tokens: Tokens
) -> None:
    changed = settings.model_copy(
        update={"max_graphql_bytes_anonymous": 4096, "max_graphql_bytes_admin": 10**9}
    )
    async with running(changed) as app:
        async with http_client(app) as anonymous:
            response = await post_body(anonymous, comments(5_000))
        assert response.json()["maxBytes"] == 4096
        async with http_client(app, tokens["admin"]) as admin:
            response = await post_body(admin, comments(9_000_000))
        assert response.json()["maxBytes"] == 8 * 1024 * 1024


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (comments(7_000_000), "more than 5000 tokens"),
        (literal(7_500_000), '"plan":null'),
        (readings(100_000), "send 1 to 10,000 readings per batch, not 100,000"),
    ],
    ids=["7 MB of comments", "7.5 MB string literal", "100,000 readings"],
)
async def test_the_issues_bodies_are_answered_not_a_crash(
    app: Starlette, admin_token: str, body: bytes, expected: str
) -> None:
    async with http_client(app, admin_token) as admin:
        response = await post_body(admin, body)
    assert response.status_code == 200, response.text[:300]
    assert expected in response.text


async def test_other_requests_are_answered_while_a_large_document_is_parsed(
    app: Starlette, admin_token: str
) -> None:
    """Counted, not timed: before, the parse held the event loop and nothing else was
    answered until it ended. (The document fails validation afterwards, so the database
    plays no part once it is parsed.)"""
    document = '{ __typename(pad: "' + "x" * 3_000_000 + '") }'
    async with http_client(app, admin_token) as admin, http_client(app) as other:
        large = asyncio.create_task(admin.post("/graphql", json={"query": document}))
        answered = 0
        while not large.done():
            response = await other.post("/graphql", json={"query": ONE_FIELD})
            assert response.status_code == 200
            answered += 1 if not large.done() else 0
        assert "pad" in (await large).text
    assert answered >= 10, f"only {answered} small requests were answered during the parse"


async def test_a_small_variable_of_readings_is_not_refused_for_its_size(
    app: Starlette, tokens: Tokens
) -> None:
    body = readings(1_000)
    async with http_client(app, tokens["integrator"]) as integrator:
        response = await post_body(integrator, body)
    assert response.status_code == 200, response.text[:300]
    assert isinstance(response.json()["data"]["recordReadings"], dict)


@pytest.mark.parametrize(
    "document",
    [
        'subscription { planAmended(planId: "x" ' + " " * 20_000 + " { version } }",
        'subscription { planAmended(planId: "x") { version } }' + "#" * 20_000 + "\n}",
    ],
    ids=["syntax error", "trailing brace"],
)
async def test_a_large_document_that_does_not_parse_is_answered_as_a_syntax_error(
    document: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Parsed in a thread, its error still reaches the client as any syntax error does — on a
    subscription's stream too (a WebSocket), where an escaping error was a traceback and no
    answer."""
    from planapi.api.schema import build_schema

    stream = await build_schema().subscribe(document)
    assert not isinstance(stream, dict)
    async for result in stream:  # type: ignore[union-attr]
        assert result.errors, result
        assert result.errors[0].message.startswith("Syntax Error"), result.errors
        break
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_anonymous_documents_have_fewer_tokens_than_others(
    app: Starlette, tokens: Tokens
) -> None:
    document = "{ __typename }\n" + "# a comment is a token\n" * 2_500  # 2,503 tokens
    async with http_client(app) as anonymous:
        refused = (await anonymous.post("/graphql", json={"query": document})).json()
    async with http_client(app, tokens["reader"]) as reader:
        answered = (await reader.post("/graphql", json={"query": document})).json()
    assert "more than 2000 tokens" in refused["errors"][0]["message"]
    assert answered["data"] == {"__typename": "Query"}, answered
