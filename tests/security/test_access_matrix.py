"""Every mutation, every sensitive query and every HTTP route, by every role (and anonymous):
allowed where the policy says, refused with the typed answer everywhere else — and a refusal
writes nothing. Then tokens that must not work: expired, revoked, malformed, unknown."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from planapi.adapters.clock import SystemClock
from planapi.adapters.tables import reading_batches
from planapi.adapters.token_store import SqlTokenStore
from planapi.application.access import Role
from planapi.application.tokens import TokenService
from planapi.bootstrap import engine_for
from planapi.config import Settings
from tests.e2e.conftest import issue_token
from tests.readings_fixtures import PLAN_ID, create_plan_input
from tests.security.conftest import (
    KPI,
    ROLES,
    Tokens,
    http_client,
    post_graphql,
    running,
)

CREATE = """
mutation($input: CreatePlanInput!) {
  createPlan(input: $input) {
    __typename
    ... on Forbidden { message reason allowedRoles problems { path message } }
  }
}
"""
AMEND = """
mutation($input: AmendPlanInput!) {
  amendPlan(input: $input) {
    __typename
    ... on AmendmentApplied { amendment { version actor } }
    ... on Forbidden { message reason allowedRoles }
  }
}
"""
RECORD = """
mutation($input: RecordReadingsInput!) {
  recordReadings(input: $input) {
    __typename
    ... on ReadingsRecorded { batchId stored }
    ... on Forbidden { message reason allowedRoles outOfScope { index kpiId }
                       problems { path message } }
  }
}
"""
QUERIES: dict[str, tuple[str, str]] = {
    # name: (document, the permission it needs)
    "plans": ("{ plans { id } }", "read"),
    "plan": (f'{{ plan(id: "{PLAN_ID}") {{ version }} }}', "read"),
    "planDiff": (
        f'{{ planDiff(id: "{PLAN_ID}", fromVersion: 1, toVersion: 1) {{ toVersion }} }}',
        "read",
    ),
    "nodeHistory": (f'{{ nodeHistory(planId: "{PLAN_ID}", nodeId: "p1") {{ version }} }}', "read"),
    "amendment": (f'{{ amendment(planId: "{PLAN_ID}", version: 1) {{ version }} }}', "read"),
    "node": (f'{{ node(id: "Plan:{PLAN_ID}:1") {{ id }} }}', "read"),
    "nodes": (f'{{ nodes(ids: ["Plan:{PLAN_ID}:1"]) {{ id }} }}', "read"),
    "verifyIntegrity": (f'{{ verifyIntegrity(planId: "{PLAN_ID}") {{ ok }} }}', "audit"),
    "events": ("{ events(first: 5) { items { position } } }", "audit"),
}
ROUTES: dict[str, tuple[str, str, str]] = {
    # name: (method, path, the permission it needs)
    "events": ("GET", "/events?limit=5", "audit"),
    "document": ("GET", f"/plans/{PLAN_ID}/document", "read"),
    "diff": ("GET", f"/plans/{PLAN_ID}/diff?from=1&to=1", "read"),
    "translations": ("GET", f"/plans/{PLAN_ID}/translations?lang=en", "read"),
    "audit page": ("GET", "/audit", "audit"),
    "audit assets": ("GET", "/audit/static/audit.js", "audit"),
    "ingest": ("POST", f"/ingest/readings?planId={PLAN_ID}", "record"),
}
MAY: dict[str, set[str]] = {
    "anonymous": {"read"},
    "reader": {"read"},
    "auditor": {"read", "audit"},
    "editor": {"read", "amend"},
    "integrator": {"read", "record"},
    "admin": {"read", "audit", "amend", "record", "create"},
}
ALLOWED_ROLES = {
    "create": ["ADMIN"],
    "amend": ["EDITOR", "ADMIN"],
    "record": ["INTEGRATOR", "ADMIN"],
    "audit": ["AUDITOR", "ADMIN"],
}
NDJSON = {"content-type": "application/x-ndjson"}
SERIES = '{ plan(id: "%s") { node(nodeId: "%s") { ... on Kpi { readings { period } } } } }'


def reading(period: str, kpi: str = KPI) -> dict[str, Any]:
    return {"kpiId": kpi, "period": period, "status": "FINAL", "value": "61"}


async def version_of(http: httpx.AsyncClient) -> int:
    _, body = await post_graphql(http, f'{{ plan(id: "{PLAN_ID}") {{ version }} }}')
    version: int = body["data"]["plan"]["version"]
    return version


async def readings_stored(http: httpx.AsyncClient) -> int:
    _, body = await post_graphql(
        http,
        SERIES % (PLAN_ID, KPI),
    )
    return len(body["data"]["plan"]["node"]["readings"])


def assert_forbidden(result: dict[str, Any], role: str, what: str) -> None:
    assert result["__typename"] == "Forbidden", result
    expected = "UNAUTHENTICATED" if role == "anonymous" else "MISSING_PERMISSION"
    assert result["reason"] == expected, result
    assert result["allowedRoles"] == ALLOWED_ROLES[what]
    assert result["message"]


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
async def test_each_role_may_do_exactly_what_the_policy_says(
    app: Starlette, readings_plan: str, tokens: Tokens, admin_token: str, role: str
) -> None:
    token = tokens.get(role)
    may = MAY[role]
    async with http_client(app, token) as http, http_client(app, admin_token) as admin:
        # createPlan
        given = create_plan_input(f"made-by-{role}")
        _, body = await post_graphql(http, CREATE, input=given)
        result = body["data"]["createPlan"]
        if "create" in may:
            assert result["__typename"] == "PlanCreated", result
        else:
            assert_forbidden(result, role, "create")
            _, check = await post_graphql(admin, f'{{ plan(id: "made-by-{role}") {{ id }} }}')
            assert check["data"]["plan"] is None, "a refused createPlan wrote nothing"

        # amendPlan
        before = await version_of(admin)
        change = {"updateNode": {"id": "p1", "title": f"Retitled by {role}"}}
        given = {
            "planId": PLAN_ID,
            "expectedVersion": before,
            "authority": "TDAG",
            "rationale": "matrix",
            "changes": [change],
        }
        _, body = await post_graphql(http, AMEND, input=given)
        result = body["data"]["amendPlan"]
        if "amend" in may:
            assert result["__typename"] == "AmendmentApplied", result
            assert result["amendment"]["actor"] == f"the-{role}", "the principal is the actor"
            assert await version_of(admin) == before + 1
        else:
            assert_forbidden(result, role, "amend")
            assert await version_of(admin) == before, "a refused amendment wrote nothing"

        # recordReadings
        stored = await readings_stored(admin)
        given = {"planId": PLAN_ID, "readings": [reading("2026")]}
        _, body = await post_graphql(http, RECORD, input=given)
        result = body["data"]["recordReadings"]
        if "record" in may:
            assert result["__typename"] == "ReadingsRecorded", result
            assert await readings_stored(admin) == stored + 1
        else:
            assert_forbidden(result, role, "record")
            assert await readings_stored(admin) == stored, "a refused batch wrote nothing"

        # queries
        for name, (document, needs) in QUERIES.items():
            status, body = await post_graphql(http, document)
            assert status == 200, (name, body)
            if needs in may:
                assert "errors" not in body, (name, body)
                assert body["data"][name] is not None, name
            else:
                [error] = body["errors"]
                code = "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"
                assert error["extensions"]["code"] == code, (name, error)
                assert error["extensions"]["allowedRoles"] == ALLOWED_ROLES[needs], name
                assert error["path"] == [name]

        # plain HTTP routes
        for name, (method, path, needs) in ROUTES.items():
            content = b'{"kpiId": "kpi-1", "period": "2027", "status": "FINAL", "value": "62"}\n'
            response = await http.request(
                method,
                path,
                content=content if method == "POST" else None,
                headers=NDJSON if method == "POST" else None,
            )
            if needs in may:
                assert response.status_code == 200, (name, response.text)
            elif role == "anonymous":
                assert response.status_code == 401, (name, response.text)
                assert response.json()["error"] == "unauthenticated"
                assert "Bearer" in response.headers.get_list("www-authenticate")
            else:
                assert response.status_code == 403, (name, response.text)
                assert response.json()["error"] == "forbidden"


async def test_the_audit_page_asks_browsers_for_credentials_and_takes_an_auditor_token(
    app: Starlette, tokens: Tokens
) -> None:
    async with http_client(app) as anonymous:
        refused = await anonymous.get("/audit")
        assert refused.status_code == 401
        assert 'Basic realm="planapi", charset="UTF-8"' in refused.headers.get_list(
            "www-authenticate"
        )

        def basic(token: str) -> dict[str, str]:
            pair = base64.b64encode(f"me:{token}".encode()).decode()
            return {"authorization": f"Basic {pair}"}

        page = await anonymous.get("/audit", headers=basic(tokens["auditor"]))
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        # What the page then asks /graphql with the same credentials (as the browser sends).
        _, body = await post_graphql(
            http_client(app, headers=basic(tokens["auditor"])),
            "{ events(first: 1) { endPosition } }",
        )
        assert "errors" not in body, body

        # Basic is for browsers, and cannot carry a token that may write.
        writer = await anonymous.get("/audit", headers=basic(tokens["admin"]))
        assert writer.status_code == 401
        assert "reader and auditor" in writer.json()["message"]


# -- an integrator writes only within its scope ----------------------------------------------
async def test_an_integrator_outside_its_kpis_is_refused_per_reading_with_its_index(
    app: Starlette, readings_plan: str, tokens: Tokens, admin_token: str
) -> None:
    async with (
        http_client(app, tokens["integrator"]) as http,
        http_client(app, admin_token) as admin,
    ):
        given = {
            "planId": PLAN_ID,
            "readings": [
                reading("2026"),
                reading("2026", "kpi-4"),
                reading("2027"),
                reading("2027", "kpi-2"),
            ],
        }
        _, body = await post_graphql(http, RECORD, input=given)

        result = body["data"]["recordReadings"]
        assert result["__typename"] == "Forbidden", result
        assert result["reason"] == "OUT_OF_SCOPE"
        assert result["outOfScope"] == [
            {"index": 1, "kpiId": "kpi-4"},
            {"index": 3, "kpiId": "kpi-2"},
        ]
        assert [p["path"] for p in result["problems"]] == [
            "readings[1].kpiId",
            "readings[3].kpiId",
        ]
        assert await readings_stored(admin) == 0, "all or nothing: not even the ones in scope"


async def test_an_integrator_outside_its_plans_is_refused_before_the_plan_is_looked_at(
    app: Starlette, tokens: Tokens
) -> None:
    async with http_client(app, tokens["integrator"]) as http:
        given = {"planId": "no-such-plan", "readings": [reading("2026")]}
        _, body = await post_graphql(http, RECORD, input=given)

        result = body["data"]["recordReadings"]
        assert result["reason"] == "OUT_OF_SCOPE", "not PlanNotFound: nothing said about it"
        assert [p["path"] for p in result["problems"]] == ["planId"]

        response = await http.post(
            "/ingest/readings?planId=no-such-plan",
            content=b'{"kpiId": "kpi-1", "period": "2026", "status": "FINAL", "value": "1"}\n',
            headers=NDJSON,
        )
        assert response.status_code == 403
        assert response.json()["error"] == "out_of_scope"


async def test_bulk_ingestion_outside_the_scope_names_each_line(
    app: Starlette, readings_plan: str, tokens: Tokens, admin_token: str, settings: Settings
) -> None:
    lines = [
        b'{"kpiId": "kpi-1", "period": "2026", "status": "FINAL", "value": "61"}',
        b'{"kpiId": "kpi-4", "period": "2026", "status": "FINAL", "value": "10"}',
        b'{"kpiId": "kpi-1", "period": "2027", "status": "FINAL", "value": "62"}',
    ]
    async with (
        http_client(app, tokens["integrator"]) as http,
        http_client(app, admin_token) as admin,
    ):
        response = await http.post(
            f"/ingest/readings?planId={PLAN_ID}", content=b"\n".join(lines), headers=NDJSON
        )

        assert response.status_code == 403, response.text
        body = response.json()
        assert body["error"] == "out_of_scope"
        assert body["problems"] == [
            {
                "path": "readings[1].kpiId",
                "message": "KPI 'kpi-4' is outside the scope",
                "line": 2,
                "index": 1,
            }
        ]
        assert await readings_stored(admin) == 0

        fine = await http.post(
            f"/ingest/readings?planId={PLAN_ID}",
            content=b"\n".join([lines[0], lines[2]]),
            headers=NDJSON,
        )
        assert fine.status_code == 200, fine.text
        _, body = await post_graphql(
            admin,
            SERIES % (PLAN_ID, "kpi-1"),
        )
        assert len(body["data"]["plan"]["node"]["readings"]) == 2
    engine = engine_for(settings)
    try:
        async with engine.connect() as conn:
            actors = (await conn.execute(select(reading_batches.c.actor))).scalars().all()
    finally:
        await engine.dispose()
    assert actors == ["the-integrator"], "the batch records who sent it"


async def test_an_integrator_scoped_to_any_kpi_of_one_plan_records_them_all(
    app: Starlette, readings_plan: str, settings: Settings
) -> None:
    token = await issue_token(settings, "wide", "integrator", plans=[PLAN_ID], kpis=["*"])
    async with http_client(app, token) as http:
        given = {"planId": PLAN_ID, "readings": [reading("2026"), reading("2026", "kpi-4")]}
        _, body = await post_graphql(http, RECORD, input=given)
    assert body["data"]["recordReadings"]["__typename"] == "ReadingsRecorded", body


# -- who wrote it ----------------------------------------------------------------------------
async def test_clients_cannot_set_the_actor(app: Starlette, admin_token: str) -> None:
    async with http_client(app, admin_token) as http:
        _, body = await post_graphql(
            http,
            """{ a: __type(name: "AmendPlanInput") { inputFields { name } }
                 c: __type(name: "CreatePlanInput") { inputFields { name } }
                 r: __type(name: "RecordReadingsInput") { inputFields { name } }
                 i: __type(name: "ReadingInput") { inputFields { name } } }""",
        )
    for given in body["data"].values():
        assert "actor" not in {field["name"] for field in given["inputFields"]}


# -- credentials that must not work ----------------------------------------------------------
@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("expired", "expired"),
        ("revoked", "unknown or revoked"),
        ("malformed", "malformed"),
        ("unknown", "unknown or revoked"),
        ("scheme", "unsupported Authorization scheme"),
    ],
)
async def test_unusable_credentials_are_refused_everywhere_never_taken_as_anonymous(
    settings: Settings, case: str, message: str
) -> None:
    token = await issue_token(settings, "soon-gone", "admin")
    header = f"Bearer {token}"
    engine = engine_for(settings)
    try:
        if case == "expired":
            service = TokenService(SqlTokenStore(engine), SystemClock())
            issued = await service.create(
                "brief", Role.ADMIN, expires_in=dt.timedelta(microseconds=1), created_by="tests"
            )
            header = f"Bearer {issued.secret}"
        elif case == "revoked":
            await TokenService(SqlTokenStore(engine), SystemClock()).revoke("soon-gone")
        elif case == "malformed":
            header = "Bearer planapi_"
        elif case == "unknown":
            header = "Bearer planapi_" + "A" * 43
        elif case == "scheme":
            header = f"Token {token}"
    finally:
        await engine.dispose()

    async with (
        running(settings) as app,
        http_client(app, headers={"authorization": header}) as http,
    ):
        status, body = await post_graphql(http, "{ plans { id } }")
        assert status == 401, body
        assert message in body["message"]
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        for path in ("/events", f"/plans/{PLAN_ID}/document", "/audit"):
            response = await http.get(path)
            assert response.status_code == 401, (path, response.text)
            assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


async def test_a_token_revoked_while_the_app_runs_is_refused_within_the_cache_time(
    settings: Settings,
) -> None:
    token = await issue_token(settings, "leaked", "editor")
    uncached = settings.model_copy(update={"token_cache_seconds": 0})
    async with running(uncached) as app, http_client(app, token) as http:
        assert (await http.post("/graphql", json={"query": "{ plans { id } }"})).status_code == 200
        engine = engine_for(settings)
        try:  # as `planapi tokens revoke leaked` does, from another process
            await TokenService(SqlTokenStore(engine), SystemClock()).revoke("leaked")
        finally:
            await engine.dispose()
        refused = await http.post("/graphql", json={"query": "{ plans { id } }"})
        assert refused.status_code == 401


# -- anonymous access off --------------------------------------------------------------------
async def test_with_anonymous_access_off_nothing_is_read_without_credentials(
    settings: Settings, admin_token: str
) -> None:
    closed = settings.model_copy(update={"anonymous_role": "none"})
    async with (
        running(closed) as app,
        http_client(app) as anonymous,
        http_client(app, admin_token) as admin,
    ):
        status, body = await post_graphql(anonymous, "{ plans { id } }")
        assert status == 200
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        page = await anonymous.get("/plans/x/document")
        assert page.status_code == 401
        assert (await anonymous.get("/healthz")).status_code == 200
        ide = await anonymous.get("/graphql", headers={"accept": "text/html"})
        assert ide.status_code == 200, "GraphiQL itself loads: the token goes in its headers"
        library = await anonymous.get("/graphiql/static/vendor/graphiql.min.js")
        assert library.status_code == 200, "and so do its files, or it never leaves 'Loading…'"
        _, body = await post_graphql(admin, "{ plans { id } }")
        assert "errors" not in body


async def test_anonymous_callers_may_be_auditors_of_a_public_deployment(
    settings: Settings, readings_plan: str
) -> None:
    public = settings.model_copy(update={"anonymous_role": "auditor"})
    async with running(public) as app, http_client(app) as anonymous:
        _, body = await post_graphql(
            anonymous, f'{{ verifyIntegrity(planId: "{PLAN_ID}") {{ ok }} }}'
        )
        assert body["data"]["verifyIntegrity"] == {"ok": True}
        _, body = await post_graphql(
            anonymous,
            f'mutation {{ amendPlan(input: {{planId: "{PLAN_ID}", expectedVersion: 1, '
            'authority: TDAG, rationale: "x", changes: []}) { __typename } }',
        )
        assert body["data"]["amendPlan"]["__typename"] == "Forbidden"


def test_anonymous_callers_cannot_be_given_a_role_that_writes() -> None:
    from pydantic import ValidationError

    for role in ("editor", "integrator", "admin"):
        with pytest.raises(ValidationError):
            Settings(anonymous_role=role)  # type: ignore[arg-type]
