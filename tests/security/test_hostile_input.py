"""Broken and hostile requests get a clear 4xx on /graphql and /ingest/readings — never a 500,
never a traceback — and leave nothing behind."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from planapi.config import Settings
from tests.readings_fixtures import PLAN_ID
from tests.security.conftest import http_client, running

JSON = {"content-type": "application/json"}
NDJSON = {"content-type": "application/x-ndjson"}
GOOD_LINE = b'{"kpiId": "kpi-1", "period": "2026", "status": "FINAL", "value": "61"}'


def clear(response: httpx.Response, status: int) -> None:
    """The status expected, a message a person can read, and nothing from inside the server."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.text.strip(), "a refusal says why"
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    assert "x-request-id" in response.headers


GRAPHQL_CASES: dict[str, tuple[dict[str, Any], int]] = {
    "malformed JSON": ({"content": b'{"query": "{ plans { id } ', "headers": JSON}, 400),
    "not UTF-8": ({"content": b'{"query": "{ plans { id } }\xff\xfe"}', "headers": JSON}, 400),
    "UTF-16 garbage": ({"content": "{}".encode("utf-16")[:3], "headers": JSON}, 400),
    "JSON nested 100,000 deep": (
        {
            "content": b'{"query": "{ plans { id } }", "variables": {"a": '
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}}",
            "headers": JSON,
        },
        400,
    ),
    "null body": ({"content": b"null", "headers": JSON}, 400),
    "a number": ({"content": b"42", "headers": JSON}, 400),
    "an empty batch": ({"content": b"[]", "headers": JSON}, 400),
    "a batch of numbers": ({"content": b"[1, 2]", "headers": JSON}, 400),
    "a batch past PLANAPI_MAX_BATCH": (
        {
            "content": b"[" + b",".join([b'{"query": "{ plans { id } }"}'] * 11) + b"]",
            "headers": JSON,
        },
        400,
    ),
    "query not a string": ({"content": b'{"query": 5}', "headers": JSON}, 400),
    "variables not an object": (
        {"content": b'{"query": "{ plans { id } }", "variables": [1]}', "headers": JSON},
        400,
    ),
    "no query": ({"content": b"{}", "headers": JSON}, 400),
    "text/plain": (
        {"content": b'{"query": "{ plans { id } }"}', "headers": {"content-type": "text/plain"}},
        415,
    ),
    "form post": (
        {
            "content": b"query=%7B+plans+%7B+id+%7D+%7D",
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
        415,
    ),
    "multipart": (
        {"content": b"--x--\r\n", "headers": {"content-type": "multipart/form-data; boundary=x"}},
        415,
    ),
    "no content type": ({"content": b'{"query": "{ plans { id } }"}', "headers": {}}, 415),
    "oversized": ({"content": b'{"query": "' + b" " * 9_000_000 + b'"}', "headers": JSON}, 413),
}


@pytest.mark.parametrize("case", GRAPHQL_CASES)
async def test_graphql_refuses_a_broken_request_with_a_clear_4xx(
    app: Starlette, admin_token: str, case: str
) -> None:
    options, status = GRAPHQL_CASES[case]
    async with http_client(app, admin_token) as http:
        response = await http.post("/graphql", **options)
    clear(response, status)


async def test_a_deeply_nested_document_is_refused_before_it_runs(
    app: Starlette, admin_token: str
) -> None:
    nested = "{ plans " + "{ id " * 3_000 + "}" * 3_000 + " }"
    deep_but_parsable = (
        '{ plan(id: "x") { nodes { parent { parent { parent { parent { parent { parent '
        "{ parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } "
        "} } } } } } } } } } } }"
    )
    async with http_client(app, admin_token) as http:
        for document in (nested, deep_but_parsable):
            # GraphQL over HTTP: 400 for clients that speak application/graphql-response+json …
            strict = await http.post(
                "/graphql",
                json={"query": document},
                headers={"accept": "application/graphql-response+json"},
            )
            clear(strict, 400)
            assert strict.json()["errors"]
            # … and the classic 200 with `errors` (and no data) for plain JSON clients.
            legacy = await http.post("/graphql", json={"query": document})
            clear(legacy, 200)
            assert "data" not in legacy.json(), "execution never began: no data entry"
            assert legacy.json()["errors"]


async def test_a_query_that_runs_and_fails_a_field_stays_200_for_both_kinds_of_client(
    app: Starlette, admin_token: str
) -> None:
    async with http_client(app, admin_token) as http:
        response = await http.post(
            "/graphql",
            json={"query": '{ plan(id: "x", version: 0) { id } }'},
            headers={"accept": "application/graphql-response+json"},
        )
    clear(response, 200)
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


INGEST_CASES: dict[str, tuple[bytes, dict[str, str], int, str]] = {
    "malformed JSON": (b'{"kpiId": "kpi-1", ', NDJSON, 422, "validation_failed"),
    "not UTF-8": (b'{"kpiId": "kpi-1\xff\xfe"}\n' + GOOD_LINE, NDJSON, 422, "validation_failed"),
    "JSON nested 100,000 deep": (
        b'{"kpiId": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        NDJSON,
        422,
        "validation_failed",
    ),
    "a JSON array line": (b"[1, 2, 3]\n" + GOOD_LINE, NDJSON, 422, "validation_failed"),
    "application/json": (GOOD_LINE, JSON, 415, "unsupported_media_type"),
    "no content type": (GOOD_LINE, {}, 415, "unsupported_media_type"),
    "CSV without a header": (
        b"kpi-1,2026,FINAL,61\n",
        {"content-type": "text/csv"},
        422,
        "validation_failed",
    ),
    "CSV not UTF-8": (
        b"kpi_id,period,status,value\nkpi-1,2026,FINAL,\xff61\n",
        {"content-type": "text/csv"},
        422,
        "validation_failed",
    ),
}


@pytest.mark.parametrize("case", INGEST_CASES)
async def test_ingest_refuses_a_broken_body_with_a_clear_4xx_and_stores_nothing(
    app: Starlette, readings_plan: str, admin_token: str, case: str
) -> None:
    body, headers, status, error = INGEST_CASES[case]
    async with http_client(app, admin_token) as http:
        response = await http.post(
            f"/ingest/readings?planId={PLAN_ID}", content=body, headers=headers
        )
        clear(response, status)
        assert response.json()["error"] == error
        series = await http.post(
            "/graphql",
            json={
                "query": f'{{ plan(id: "{PLAN_ID}") {{ node(nodeId: "kpi-1") '
                "{ ... on Kpi { readings "
                "{ period } } } } }"
            },
        )
    assert series.json()["data"]["plan"]["node"]["readings"] == [], "all or nothing"


async def test_an_oversized_ingest_body_is_refused(settings: Settings, admin_token: str) -> None:
    small = settings.model_copy(update={"max_ingest_bytes": 1024})
    async with running(small) as app, http_client(app, admin_token) as http:
        response = await http.post(
            f"/ingest/readings?planId={PLAN_ID}", content=GOOD_LINE * 100, headers=NDJSON
        )
    clear(response, 413)
    assert response.json()["error"] == "too_large"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("authorization", "Bearer " + "x" * 20_000),
        ("authorization", "Basic !!!"),
        ("x-request-id", "\x00\x01" * 10),
        ("content-length", "not-a-number"),
    ],
)
async def test_hostile_headers_are_refused_or_ignored_never_a_500(
    app: Starlette, header: str, value: str
) -> None:
    async with http_client(app, headers={header: value}) as http:
        response = await http.post("/graphql", json={"query": "{ plans { id } }"})
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text


async def test_empty_strings_where_a_reading_needs_a_value_are_a_validation_failure(
    app: Starlette, readings_plan: str, admin_token: str
) -> None:
    """Found by the fuzzer: recordReadings answered a masked unexpected error."""
    given = {
        "planId": PLAN_ID,
        "readings": [
            {"kpiId": "kpi-1", "period": "2026", "status": "FINAL", "value": "1"},
            {"kpiId": "", "period": "", "status": "FINAL"},
        ],
    }
    async with http_client(app, admin_token) as http:
        response = await http.post(
            "/graphql",
            json={
                "query": "mutation($input: RecordReadingsInput!) { recordReadings(input: $input) "
                "{ __typename ... on ValidationFailed { problems { path message } } } }",
                "variables": {"input": given},
            },
        )
    result = response.json()["data"]["recordReadings"]
    assert result["__typename"] == "ValidationFailed", result
    assert [p["path"] for p in result["problems"]] == ["readings[1]"]
