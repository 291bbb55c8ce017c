"""A NUL character (U+0000) anywhere a caller can put one is refused where it enters, naming the
field, alike on SQLite (which would store it) and PostgreSQL (which failed with a masked error
and a traceback per request) — issue 11, item 6. Nothing is stored."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.readings_fixtures import PLAN_ID
from tests.security.conftest import http_client, post_body, post_graphql, retitling
from tests.websocket_handshake import handshake

NDJSON = {"content-type": "application/x-ndjson"}
CSV = {"content-type": "text/csv"}
LINE = '{"kpiId": "kpi-1", "period": "2026", "status": "FINAL", "value": "61"%s}'
RECORD = "mutation($input: RecordReadingsInput!) { recordReadings(input: $input) { __typename } }"
AMEND = "mutation($input: AmendPlanInput!) { amendPlan(input: $input) { __typename } }"
SERIES = (
    f'{{ plan(id: "{PLAN_ID}") {{ version node(id: "kpi-1") {{ ... on Kpi {{ readings '
    "{ period } } } } }"
)


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.INFO)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


async def nothing_stored(http: httpx.AsyncClient) -> None:
    _, body = await post_graphql(http, SERIES)
    assert body["data"]["plan"]["version"] == 1
    assert body["data"]["plan"]["node"]["readings"] == []


def bad_input(body: dict[str, Any], field: str) -> None:
    assert "data" not in body, body  # refused before execution began (GraphQL over HTTP)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == field
    assert "NUL" in error["message"]
    assert field in error["message"]


async def test_an_argument_literal_is_refused_with_its_path(
    app: Starlette, readings_plan: str
) -> None:
    async with http_client(app) as anonymous:
        _, body = await post_graphql(anonymous, '{ plan(id: "readings\\u00002026") { version } }')
    bad_input(body, "plan.id")


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        ("query($id: ID!) { plan(id: $id) { version } }", {"id": "x\x00"}, "$id"),
        (
            AMEND,
            {
                "input": {
                    "planId": PLAN_ID,
                    "expectedVersion": 1,
                    "authority": "TDAG",
                    "rationale": "agreed\x00",
                    "changes": [{"setTitle": {"title": "A title"}}],
                }
            },
            "$input.rationale",
        ),
        (
            RECORD,
            {
                "input": {
                    "planId": PLAN_ID,
                    "idempotencyKey": "k-1",
                    "readings": [
                        {"kpiId": "kpi-1", "period": "2026", "status": "FINAL", "value": "1"},
                        {"kpiId": "kpi-1", "period": "2027", "status": "FINAL", "note": "\x00"},
                    ],
                }
            },
            "$input.readings[1].note",
        ),
        (RECORD, {"input": {"planId": PLAN_ID, "idempotencyKey": "\x00", "readings": []}}, None),
    ],
    ids=["query id", "amendment rationale", "reading note", "idempotency key"],
)
async def test_a_variable_is_refused_with_its_path_and_nothing_is_stored(
    app: Starlette,
    readings_plan: str,
    admin_token: str,
    query: str,
    variables: dict[str, Any],
    field: str | None,
) -> None:
    async with http_client(app, admin_token) as http:
        _, body = await post_graphql(http, query, **variables)
        bad_input(body, field or "$input.idempotencyKey")
        await nothing_stored(http)


DEEP = (
    1_000  # past the 254 levels orjson writes (the NUL scan's fast path), under the 1,024 it reads
)


@pytest.mark.parametrize(("bottom", "refused"), [('"fine"', False), ('"deep\\u0000"', True)])
async def test_variables_nested_a_thousand_levels_deep_are_walked_not_failed(
    app: Starlette, readings_plan: str, admin_token: str, bottom: str, refused: bool
) -> None:
    """A mutation's variables nested past what orjson writes are searched by a walk; it once
    recursed, and the caller got 'maximum recursion depth exceeded' (an ERROR logged): now a
    NUL at the bottom is refused with its path and an unused deep variable changes nothing."""
    amend = retitling("kpi-1", "A deep title", "agreed")
    deep = "[" * DEEP + bottom + "]" * DEEP
    variables = f'{{"input": {json.dumps(amend)}, "junk": {deep}}}'
    raw = f'{{"query": {json.dumps(AMEND)}, "variables": {variables}}}'
    async with http_client(app, admin_token) as http:
        response = await post_body(http, raw.encode())
        body = response.json()
        if refused:
            bad_input(body, "$junk" + "[0]" * DEEP)
            return
        assert body == {"data": {"amendPlan": {"__typename": "AmendmentApplied"}}}, body


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/plans/readings%002026/document", "the path"),
        (f"/plans/{PLAN_ID}/document?format=mark%00down", "query parameter 'format'"),
        (f"/plans/{PLAN_ID}/diff?from=1&to=1%00", "query parameter 'to'"),
        ("/events?after=0%00", "query parameter 'after'"),
        ("/graphql?query=%7B%20plans%20%7B%20id%20%7D%20%7D%00", "query parameter 'query'"),
    ],
)
async def test_a_path_or_query_parameter_is_refused_with_400(
    app: Starlette, readings_plan: str, admin_token: str, url: str, field: str
) -> None:
    async with http_client(app, admin_token) as http:
        response = await http.get(url)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert "NUL" in response.json()["message"]


@pytest.mark.parametrize("denial", [True, False], ids=["denial-response", "close"])
async def test_a_websocket_upgrade_with_a_nul_in_a_header_is_refused_like_a_request(
    app: Starlette, denial: bool
) -> None:
    """The upgrade's headers pass the door a request's do: 400 naming the header (by ASGI's
    denial response where the server offers it, as uvicorn does), never a subscription."""
    sent = await handshake(app, [(b"x-trace", b"a\x00b")], denial=denial)

    if not denial:
        assert sent == [{"type": "websocket.close", "code": 4400}]
        return
    assert [m["type"] for m in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert sent[0]["status"] == 400
    answer = json.loads(sent[1]["body"])
    assert answer["field"] == "header 'x-trace'"
    assert "NUL" in answer["message"]
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_ingest_refuses_a_nul_in_the_plan_or_the_idempotency_key(
    app: Starlette, readings_plan: str, admin_token: str
) -> None:
    body = (LINE % "").encode()
    async with http_client(app, admin_token) as http:
        response = await http.post(
            "/ingest/readings?planId=readings%002026", content=body, headers=NDJSON
        )
        assert response.status_code == 400, response.text
        assert response.json()["field"] == "query parameter 'planId'"
        response = await http.post(
            f"/ingest/readings?planId={PLAN_ID}",
            content=body,
            headers={**NDJSON, "Idempotency-Key": "key\x00"},
        )
        assert response.status_code == 400, response.text
        assert response.json()["field"] == "header 'idempotency-key'"
        await nothing_stored(http)


@pytest.mark.parametrize(
    ("content", "headers", "line", "field"),
    [
        (
            "\n".join([LINE % "", LINE % ', "note": "a\\u0000b"']),
            NDJSON,
            2,
            "note",
        ),
        (
            "\n".join(
                [LINE % "", LINE % ', "source": {"integration": "x", "readingId": "\\u0000"}']
            ),
            NDJSON,
            2,
            "source.readingId",
        ),
        (
            "kpi_id,period,status,value,note\nkpi-1,2026,FINAL,61,\nkpi-1,2027,FINAL,62,a\x00b\n",
            CSV,
            3,
            "note",
        ),
    ],
    ids=["NDJSON note", "NDJSON nested", "CSV cell"],
)
async def test_an_ingested_field_is_a_problem_on_its_line(
    app: Starlette,
    readings_plan: str,
    admin_token: str,
    content: str,
    headers: dict[str, str],
    line: int,
    field: str,
) -> None:
    async with http_client(app, admin_token) as http:
        response = await http.post(
            f"/ingest/readings?planId={PLAN_ID}", content=content.encode(), headers=headers
        )
        assert response.status_code == 422, response.text
        [problem] = response.json()["problems"]
        assert problem["line"] == line
        assert problem["message"].startswith(f"{field} contains a NUL")
        await nothing_stored(http)


@pytest.mark.parametrize(
    ("document", "variables", "field"),
    [
        (
            'subscription { planAmended(planId: "a\\u0000") { version } }',
            None,
            "planAmended.planId",
        ),
        (
            "subscription($id: ID!) { planAmended(planId: $id) { version } }",
            {"id": "a\x00"},
            "$id",
        ),
    ],
    ids=["literal", "variable"],
)
async def test_a_subscription_is_refused_alike(
    document: str, variables: dict[str, Any] | None, field: str
) -> None:
    """Subscriptions arrive over a WebSocket, past the HTTP door: the schema refuses too."""
    from planapi.api.schema import build_schema

    stream = await build_schema().subscribe(document, variable_values=variables)
    async for result in stream:  # type: ignore[union-attr]
        [error] = result.errors or []
        assert error.extensions == {"code": "BAD_USER_INPUT", "field": field}
        break
