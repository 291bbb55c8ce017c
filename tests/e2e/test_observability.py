"""What operators read: Prometheus metrics at /metrics, JSON log lines with the request id, and
OpenTelemetry spans per GraphQL operation."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from planapi.api.types.context import request_id
from planapi.config import Settings
from planapi.entrypoints.asgi import create_app
from planapi.entrypoints.logs import JsonFormatter, RequestIdFilter
from planapi.entrypoints.metrics import MAX_OPERATION_NAMES, Metrics
from planapi.entrypoints.tracing import TracingUnavailableError, tracing
from tests.e2e.conftest import GraphQL
from tests.e2e.queries import AMEND, add
from tests.readings_fixtures import PLAN_ID, create_plan_input

Amend = Callable[..., Awaitable[dict[str, Any]]]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

CREATE = """
mutation Create($input: CreatePlanInput!) {
  createPlan(input: $input) { __typename }
}
"""


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_graphql_operations_are_counted_by_name_and_outcome(
    client: httpx.AsyncClient, graphql: GraphQL, baku: str
) -> None:
    before = await scrape(client)
    change = add("OUTCOME", "Observed outcome", parentId="priority-affordable-connectivity")
    body = await graphql(
        AMEND,
        input={
            "planId": baku,
            "expectedVersion": 1,
            "authority": "TDAG",
            "rationale": "r",
            "changes": [change],
        },
    )
    assert body["data"]["amendPlan"]["__typename"] == "AmendmentApplied"
    conflict = await graphql(
        AMEND,
        input={"planId": baku, "expectedVersion": 1, "authority": "TDAG", "rationale": "r",
               "changes": [change]},
    )  # fmt: skip
    assert conflict["data"]["amendPlan"]["__typename"] == "VersionConflict"
    broken = await graphql("query Broken { plan(id: 1) { noSuchField } }")
    assert broken["errors"]

    after = await scrape(client)

    def grew(**labels: str) -> float:
        name = "planapi_graphql_operations_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew(operation="Amend", type="mutation", outcome="success") == 1
    assert grew(operation="Amend", type="mutation", outcome="user_error") == 1
    assert grew(operation="Broken", type="query", outcome="error") == 1
    assert (
        value(after, "planapi_graphql_operation_duration_seconds_count", operation="Amend",
              type="mutation")
        - value(before, "planapi_graphql_operation_duration_seconds_count", operation="Amend",
                type="mutation")
    ) == 2  # fmt: skip
    assert (
        value(after, "planapi_events_appended_total")
        - value(before, "planapi_events_appended_total")
        == 1
    )


async def test_http_requests_are_counted_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    await client.get("/no/such/page")
    await client.get("/no/other/page")
    samples = await scrape(client)
    total = "planapi_http_requests_total"
    assert value(samples, total, route="/healthz", method="GET", status="200") >= 1
    # Unknown paths share one label, however many there are.
    assert value(samples, total, route="other", method="GET", status="404") == 2
    assert not any(dict(labels).get("route", "").startswith("/no/") for (_, labels) in samples)
    latency = "planapi_http_request_duration_seconds_count"
    assert value(samples, latency, route="/healthz", method="GET") >= 1


async def test_readings_cache_and_pool_are_reported(
    client: httpx.AsyncClient, graphql: GraphQL
) -> None:
    assert (await graphql(CREATE, input=create_plan_input()))["data"]["createPlan"][
        "__typename"
    ] == "PlanCreated"
    lines = [
        {
            "kpiId": "kpi-1",
            "period": str(year),
            "status": "FINAL",
            "value": 60 + year % 10,
            "source": {"integration": "survey", "readingId": f"r-{year}"},
        }
        for year in (2026, 2027)
    ]
    body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    for _ in range(2):  # the second batch: the same readings again, stored as duplicates
        response = await client.post(
            "/ingest/readings",
            params={"planId": PLAN_ID},
            content=body,
            headers={"content-type": "application/x-ndjson"},
        )
        assert response.status_code == 200, response.text
    await graphql("query P($id: ID!) { plan(id: $id, version: 1) { version } }", id=PLAN_ID)

    samples = await scrape(client)

    assert value(samples, "planapi_readings_ingested_total", outcome="stored") == 2
    assert value(samples, "planapi_readings_ingested_total", outcome="duplicate") == 2
    assert value(samples, "planapi_reading_batches_total", outcome="new") == 2
    assert value(samples, "planapi_version_cache_hits_total") >= 1
    assert ("planapi_version_cache_misses_total", frozenset()) in samples
    assert value(samples, "planapi_version_cache_capacity") == Settings().version_cache_size
    assert 0 < value(samples, "planapi_version_cache_bytes") <= Settings().version_cache_bytes
    assert value(samples, "planapi_version_cache_max_bytes") == Settings().version_cache_bytes
    assert ("planapi_version_cache_evictions_total", frozenset()) in samples
    assert value(samples, "planapi_version_cache_refused_total") == 0
    assert value(samples, "planapi_db_pool_size") >= 1
    assert value(samples, "planapi_db_pool_in_use") >= 0
    assert value(samples, "planapi_build_info", version="0.1.0") == 1
    assert value(samples, "process_cpu_seconds_total") > 0


async def test_metrics_can_be_turned_off(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"metrics": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://planapi") as http:
            assert (await http.get("/metrics")).status_code == 404


def test_client_chosen_operation_names_cannot_grow_the_label_set_without_bound() -> None:
    metrics = Metrics()
    names = [metrics.operation_label(f"Op{i}") for i in range(MAX_OPERATION_NAMES + 5)]
    assert names[:MAX_OPERATION_NAMES] == [f"Op{i}" for i in range(MAX_OPERATION_NAMES)]
    assert set(names[MAX_OPERATION_NAMES:]) == {"other"}
    assert metrics.operation_label("Op3") == "Op3"  # a known name keeps its label
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("no spaces allowed") == "invalid"


# -- logs -----------------------------------------------------------------------------------


def _record(message: str, **extra: Any) -> logging.LogRecord:
    record = logging.makeLogRecord(
        {"name": "planapi.api", "levelno": logging.ERROR, "levelname": "ERROR", "msg": message}
    )
    record.__dict__.update(extra)
    return record


def test_json_log_lines_carry_the_request_id_and_the_exception() -> None:
    token = request_id.set("req-42")
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            record = _record("unexpected error", exc_info=sys.exc_info(), plan_id="baku-2026")
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)

    line = JsonFormatter().format(record)

    assert "\n" not in line  # one object per line, tracebacks included
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "planapi.api"
    assert entry["message"] == "unexpected error"
    assert entry["request_id"] == "req-42"
    assert entry["plan_id"] == "baku-2026"  # passed with extra=
    assert entry["exc_type"] == "ValueError"
    assert "ValueError: boom" in entry["exc_info"]
    assert entry["time"].endswith("Z")


def test_outside_a_request_the_request_id_is_a_dash() -> None:
    record = _record("started")
    RequestIdFilter().filter(record)
    assert json.loads(JsonFormatter().format(record))["request_id"] == "-"


# -- tracing --------------------------------------------------------------------------------


async def test_console_tracing_gives_a_span_per_operation_and_none_per_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", tracing="console")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://planapi") as http:
            response = await http.post(
                "/graphql", json={"query": "query Plans { plans { id version } }"}
            )
            assert response.json()["data"]["plans"]
    printed = capsys.readouterr().out
    assert '"name": "GraphQL Query: Plans"' in printed
    assert '"name": "GraphQL Parsing"' in printed
    assert '"name": "GraphQL Validation"' in printed
    assert "GraphQL Resolving" not in printed  # operation level: no span per field


def test_tracing_without_opentelemetry_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m == "opentelemetry" or m.startswith("opentelemetry.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)

    with pytest.raises(TracingUnavailableError) as refused:
        tracing("otlp")

    assert re.fullmatch(
        r"PLANAPI_TRACING=otlp needs OpenTelemetry, which is not installed \(no module "
        r"'opentelemetry[\w.]*'\): install the extra with `pip install 'planapi\[tracing\]'`, "
        r"or set PLANAPI_TRACING=off",
        str(refused.value),
    )
    assert tracing("off").extensions == []
