"""Schemathesis' GraphQL fuzzing against a running `planapi serve`: every query and mutation of
the schema (read from the server by introspection) with generated arguments and selections, as
an admin (so writes get through to the domain's checks). No answer may be a 5xx, carry a
traceback or a masked unexpected error; afterwards every hash chain still verifies and every
version of every plan is readable.

Bounded: a fixed number of examples per operation (derandomized, so a failure reproduces), well
under a minute in all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from schemathesis import GenerationMode

from tests.processes import Process, environment, issue_token, run, serving

EXAMPLES = 50  # per operation and generation mode
MASKED = "Unexpected error; quote the request id to support."


def _register_scalars() -> None:
    """Our custom scalars: well-formed values most of the time, and strings that are not."""
    noise = st.text(max_size=24)
    decimals = st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str)
    schemathesis.graphql.scalar("Decimal", st.one_of(decimals, noise).map(nodes.String))
    dates = st.dates().map(dt.date.isoformat)
    schemathesis.graphql.scalar("Date", st.one_of(dates, noise).map(nodes.String))
    instants = st.datetimes(timezones=st.just(dt.UTC)).map(dt.datetime.isoformat)
    naive = st.datetimes().map(dt.datetime.isoformat)
    schemathesis.graphql.scalar("DateTime", st.one_of(instants, naive, noise).map(nodes.String))
    schemathesis.graphql.scalar("JSON", st.one_of(noise, st.integers()).map(str).map(nodes.String))


_register_scalars()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("fuzz")
    env = environment(
        PLANAPI_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'planapi.db'}",
        PLANAPI_RATE_LIMIT_PER_SECOND="0",
    )
    assert run(["migrate"], env).returncode == 0
    return env


@pytest.fixture(scope="module")
def server(
    deployment: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    with serving(deployment, tmp_path_factory.mktemp("logs") / "api.log") as running:
        yield running


def check(response: Any) -> None:
    text = response.text
    assert response.status_code < 500, (response.status_code, text[:500])
    assert "Traceback" not in text, text[:500]
    assert 'File "' not in text, text[:500]
    try:
        body = json.loads(text)
    except ValueError:
        return  # strawberry's plain-text refusals (400) of requests it cannot read
    errors = body.get("errors") or [] if isinstance(body, dict) else []
    messages = [error.get("message") for error in errors]
    assert MASKED not in messages, (response.request.body, text[:1000])


def test_fuzzing_every_operation_finds_no_server_error_and_breaks_no_chain(
    deployment: dict[str, str], server: Process
) -> None:
    admin = {"authorization": f"Bearer {issue_token(deployment, 'fuzzer', 'admin')}"}
    schema = schemathesis.graphql.from_url(f"{server.url}/graphql", headers=admin)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {"Query.plan", "Query.events", "Mutation.amendPlan", "Mutation.recordReadings"} <= labels

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case: Any) -> None:
                check(case.call(base_url=server.url, headers=admin, timeout=30))

            fuzz()

    verified = run(["verify"], deployment)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    every_version_is_readable(server, admin)
    assert "Traceback" not in server.output()


def every_version_is_readable(server: Process, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        plans = http.post("/graphql", json={"query": "{ plans { planId version } }"}).json()
        for plan in plans["data"]["plans"]:
            for version in range(1, plan["version"] + 1):
                answer = http.post(
                    "/graphql",
                    json={
                        "query": "query($id: ID!, $v: Int) { plan(id: $id, version: $v) "
                        "{ version hash nodes { id } } }",
                        "variables": {"id": plan["planId"], "v": version},
                    },
                ).json()
                assert answer["data"]["plan"]["version"] == version, answer


def test_the_schema_fuzzed_is_the_one_the_repository_publishes(server: Process) -> None:
    published = Path("schema/planapi.graphql").read_text(encoding="utf-8")
    assert "type Forbidden implements UserError" in published
