"""When a bearer JWT expires is one rule, applied in one place: `exp` plus the configured leeway
(PLANAPI_OIDC_LEEWAY, 30 s), the same for GraphQL, `POST /ingest/readings` and `GET /events`.
A correctly signed token with a far-future `exp` is valid (its issuer vouches for it) and never
crashes anything; an `exp` that is not a finite number is refused with a reason."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from planapi.adapters.oidc import JwtVerifier
from planapi.application.tokens import InvalidCredentialsError
from planapi.config import Settings
from tests.readings_fixtures import PLAN_ID
from tests.security.conftest import http_client, running
from tests.security.test_oidc import AUDIENCE, ISSUER, Key, keys, mint, oidc_settings, write_jwks

__all__ = ["keys"]

ROUTES = ("graphql", "ingest", "events")


@pytest.fixture
async def oidc_app(
    settings: Settings, tmp_path: Path, keys: dict[str, Key], admin_token: str
) -> Any:
    from tests.e2e.queries import CREATE
    from tests.readings_fixtures import create_plan_input

    configured = settings.model_copy(
        update={
            "oidc_issuer": ISSUER,
            "oidc_audience": AUDIENCE,
            "oidc_jwks_file": str(write_jwks(tmp_path / "jwks.json", keys["k1"])),
        }
    )
    assert configured.oidc_leeway == 30
    async with running(configured) as app:
        async with http_client(app, admin_token) as http:
            created = await http.post(
                "/graphql", json={"query": CREATE, "variables": {"input": create_plan_input()}}
            )
            assert created.json()["data"]["createPlan"]["__typename"] == "PlanCreated"
        yield app


async def _status(app: Starlette, token: str, route: str) -> int:
    """The HTTP status `route` answers an admin JWT; a GraphQL refusal is a 401 too."""
    async with http_client(app, token) as http:
        if route == "graphql":
            response = await http.post("/graphql", json={"query": "{ plans { id } }"})
            errors = response.json().get("errors") or [{}]
            if errors[0].get("extensions", {}).get("code") == "UNAUTHENTICATED":
                return 401
        elif route == "events":
            response = await http.get("/events", params={"after": "0"})
        else:
            line = {"kpiId": "kpi-4", "period": "2026", "value": 1, "status": "FINAL"}
            response = await http.post(
                "/ingest/readings",
                params={"planId": PLAN_ID},
                content=json.dumps(line).encode() + b"\n",
                headers={
                    "Content-Type": "application/x-ndjson",
                    "Idempotency-Key": f"expiry-{time.time_ns()}",
                },
            )
    assert response.status_code != 422, response.text
    return response.status_code


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("far future (1e13)", 200),
        ("beyond any float (1e400 as an integer)", 200),
        ("expired 10 s ago, within the leeway", 200),
        ("expired 60 s ago, beyond the leeway", 401),
    ],
)
async def test_every_route_judges_expiry_alike(
    oidc_app: Starlette, keys: dict[str, Key], route: str, case: str, expected: int
) -> None:
    now = int(time.time())
    exp: Any = {
        "far future (1e13)": 10**13,
        "beyond any float (1e400 as an integer)": 10**400,
        "expired 10 s ago, within the leeway": now - 10,
        "expired 60 s ago, beyond the leeway": now - 60,
    }[case]
    token = mint(keys["k1"], sub="root@itu.int", roles=["admin"], exp=exp, iat=now - 400)
    assert await _status(oidc_app, token, route) == expected


@pytest.mark.parametrize(
    ("exp", "message"),
    [
        (True, "'exp' claim is not a number"),
        ("99999999999", "'exp' claim is not a number"),
        (float("inf"), "'exp' claim is not a finite number"),
        (-(10**13), "has expired"),
        (-(10**400), "has expired"),
    ],
)
async def test_an_exp_that_is_no_instant_is_refused_with_a_reason(
    tmp_path: Path, keys: dict[str, Key], exp: Any, message: str
) -> None:
    verifier = JwtVerifier(oidc_settings(write_jwks(tmp_path / "jwks.json", keys["k1"])))
    with pytest.raises(InvalidCredentialsError, match=message):
        await verifier.verify(mint(keys["k1"], exp=exp))


async def test_a_far_future_token_stays_valid_for_a_subscription_check(
    tmp_path: Path, keys: dict[str, Key]
) -> None:
    verifier = JwtVerifier(oidc_settings(write_jwks(tmp_path / "jwks.json", keys["k1"])))
    principal = await verifier.verify(mint(keys["k1"], exp=10**13))
    assert principal.expires_at is not None
    assert principal.expires_at.year == 9999
    assert not principal.expired()
