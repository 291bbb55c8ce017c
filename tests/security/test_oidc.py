"""OIDC bearer JWTs: signed by the issuer's keys (JWKS file or URL), for this audience, not
expired; the role from a claim. Everything else is refused — including the classic tricks."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from planapi.adapters.oidc import JwksKeys, JwtVerifier, OidcConfigError, OidcSettings
from planapi.api.runtime import graphql_request
from planapi.application.access import NOTHING, Role, Scope, anonymous
from planapi.application.tokens import InvalidCredentialsError
from planapi.config import Settings
from tests.readings_fixtures import PLAN_ID
from tests.security.conftest import http_client, post_graphql, retitling, running

ISSUER = "https://id.example.org/realms/itu"
AUDIENCE = "planapi"


@dataclass
class Key:
    kid: str
    private: Any
    alg: str

    def jwk(self) -> dict[str, Any]:
        algorithm = RSAAlgorithm if self.alg.startswith(("RS", "PS")) else ECAlgorithm
        found: dict[str, Any] = json.loads(algorithm.to_jwk(self.private.public_key()))
        return {**found, "kid": self.kid, "use": "sig", "alg": self.alg}


def rsa_key(kid: str) -> Key:
    return Key(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256")


@pytest.fixture(scope="module")
def keys() -> dict[str, Key]:
    return {
        "k1": rsa_key("k1"),
        "k2": rsa_key("k2"),
        "ec": Key("ec", ec.generate_private_key(ec.SECP256R1()), "ES256"),
        "rogue": rsa_key("k1"),  # an attacker's key, under the issuer's key id
    }


def write_jwks(path: Path, *published: Key) -> Path:
    path.write_text(json.dumps({"keys": [key.jwk() for key in published]}), encoding="utf-8")
    return path


@pytest.fixture
def jwks_file(tmp_path: Path, keys: dict[str, Key]) -> Path:
    return write_jwks(tmp_path / "jwks.json", keys["k1"], keys["ec"])


OWN_KID = "the key's own"


def mint(key: Key, *, kid: str | None = OWN_KID, alg: str | None = None, **claims: Any) -> str:
    """A JWT signed with `key`; claims given as None are left out."""
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice@itu.int",
        "iat": now,
        "exp": now + 300,
        "roles": ["editor"],
        **claims,
    }
    payload = {name: value for name, value in payload.items() if value is not None}
    headers = {} if kid is None else {"kid": key.kid if kid == OWN_KID else kid}
    return jwt.encode(payload, key.private, algorithm=alg or key.alg, headers=headers)


def oidc_settings(
    jwks_file: Path | None = None, url: str | None = None, **changes: Any
) -> OidcSettings:
    given: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "jwks_url": url,
        "jwks_file": jwks_file,
        "algorithms": ("RS256", "PS256", "ES256", "EdDSA"),
        "roles_claim": "roles",
        "role_prefix": "",
        "name_claim": "sub",
        "plans_claim": "planapi_plans",
        "kpis_claim": "planapi_kpis",
        "leeway": 0,
        "jwks_cache_seconds": 300,
        **changes,
    }
    return OidcSettings(**given)


@pytest.fixture
def verifier(jwks_file: Path) -> JwtVerifier:
    return JwtVerifier(oidc_settings(jwks_file))


# -- what is accepted ------------------------------------------------------------------------
async def test_a_good_token_names_its_subject_and_role(
    verifier: JwtVerifier, keys: dict[str, Key]
) -> None:
    principal = await verifier.verify(mint(keys["k1"]))

    assert (principal.name, principal.role, principal.credential) == (
        "alice@itu.int",
        "editor",
        "oidc",
    )
    assert principal.expires_at is not None
    assert principal.expires_at > dt.datetime.now(dt.UTC)
    assert (await verifier.verify(mint(keys["ec"]))).role == "editor", "EC keys too"


async def test_the_most_privileged_role_named_wins(
    verifier: JwtVerifier, keys: dict[str, Key]
) -> None:
    token = mint(keys["k1"], roles=["reader", "offline_access", "auditor", "editor"])
    assert (await verifier.verify(token)).role == "editor"
    spaced = mint(keys["k1"], roles="reader auditor")  # a space-separated string, as `scope`
    assert (await verifier.verify(spaced)).role == "auditor"


async def test_roles_and_names_can_come_from_nested_claims_with_a_prefix(
    jwks_file: Path, keys: dict[str, Key]
) -> None:
    keycloak = JwtVerifier(
        oidc_settings(
            jwks_file,
            roles_claim="realm_access.roles",
            role_prefix="planapi-",
            name_claim="preferred_username",
        )
    )
    token = mint(
        keys["k1"],
        roles=None,
        realm_access={"roles": ["planapi-auditor", "admin", "uma_authorization"]},
        preferred_username="alice",
    )

    principal = await keycloak.verify(token)

    assert (principal.name, principal.role) == ("alice", "auditor"), "'admin' lacks the prefix"


async def test_an_integrator_is_scoped_by_its_claims_and_to_nothing_without_them(
    verifier: JwtVerifier, keys: dict[str, Key]
) -> None:
    scoped = mint(keys["k1"], roles=["integrator"], planapi_plans=[PLAN_ID], planapi_kpis="k1 k2")
    assert (await verifier.verify(scoped)).scope == Scope.of([PLAN_ID], ["k1", "k2"])

    bare = mint(keys["k1"], roles=["integrator"])
    assert (await verifier.verify(bare)).scope == NOTHING


# -- what is refused -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("expired", "expired"),
        ("not yet valid", "not valid yet"),
        ("wrong audience", "not meant for this API"),
        ("wrong issuer", "another issuer"),
        ("signed by another key", "signature does not verify"),
        ("unknown key id", "key the issuer does not list"),
        ("alg none", "algorithm 'none' is not accepted"),
        ("HS256 with the public key as secret", "algorithm 'HS256' is not accepted"),
        ("no expiry", "lacks the 'exp' claim"),
        ("garbage", "malformed"),
        ("tampered payload", "signature does not verify"),
        ("no subject", "no usable 'sub' claim"),
    ],
)
async def test_tokens_that_must_not_work_are_refused(
    verifier: JwtVerifier, keys: dict[str, Key], case: str, message: str
) -> None:
    now = int(time.time())
    k1 = keys["k1"]
    token = {
        "expired": lambda: mint(k1, exp=now - 60, iat=now - 400),
        "not yet valid": lambda: mint(k1, nbf=now + 600),
        "wrong audience": lambda: mint(k1, aud="another-api"),
        "wrong issuer": lambda: mint(k1, iss="https://evil.example.org"),
        "signed by another key": lambda: mint(keys["rogue"]),
        "unknown key id": lambda: mint(keys["k2"]),
        "alg none": lambda: jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 60, "roles": ["admin"]},
            None,
            algorithm="none",
        ),
        "HS256 with the public key as secret": lambda: _hmac_with_public_key(k1, now),
        "no expiry": lambda: mint(k1, exp=None),
        "garbage": lambda: "eyJhbGciOi.not-a-jwt.at-all",
        "tampered payload": lambda: _tampered(mint(k1, roles=["reader"])),
        "no subject": lambda: mint(k1, sub=None),
    }[case]()

    with pytest.raises(InvalidCredentialsError, match=message):
        await verifier.verify(token)


def _hmac_with_public_key(key: Key, now: int) -> str:
    """The algorithm-confusion attack: an HMAC keyed with the (public) verification key."""
    pem = key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": key.kid}
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 60, "roles": ["admin"]}
    import base64
    import hashlib
    import hmac

    def part(data: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")

    signing = part(header) + b"." + part(body)
    signature = hmac.new(pem, signing, hashlib.sha256).digest()
    return (signing + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


def _tampered(token: str) -> str:
    import base64

    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["roles"] = ["admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{signature}"


async def test_without_a_key_id_only_an_unambiguous_key_will_do(
    tmp_path: Path, keys: dict[str, Key]
) -> None:
    one_rsa = JwtVerifier(oidc_settings(write_jwks(tmp_path / "a.json", keys["k1"], keys["ec"])))
    assert (await one_rsa.verify(mint(keys["k1"], kid=None))).role == "editor"

    two_rsa = JwtVerifier(oidc_settings(write_jwks(tmp_path / "b.json", keys["k1"], keys["k2"])))
    with pytest.raises(InvalidCredentialsError, match="does not list"):
        await two_rsa.verify(mint(keys["k1"], kid=None))


async def test_a_token_naming_no_planapi_role_is_told_so(
    verifier: JwtVerifier, keys: dict[str, Key]
) -> None:
    with pytest.raises(InvalidCredentialsError, match="names no planapi role") as refused:
        await verifier.verify(mint(keys["k1"], roles=["offline_access"]))
    assert refused.value.reason == "no_role"


def test_weak_algorithms_and_clear_text_key_sets_are_refused_by_configuration() -> None:
    with pytest.raises(OidcConfigError, match="HS256"):
        oidc_settings(Path("x.json"), algorithms=("RS256", "HS256"))
    with pytest.raises(OidcConfigError, match="https"):
        oidc_settings(url="http://id.example.org/jwks")
    with pytest.raises(OidcConfigError, match="exactly one"):
        oidc_settings(Path("x.json"), url="https://id.example.org/jwks")
    oidc_settings(url="http://127.0.0.1:8080/jwks")  # a local issuer may be plain http
    for wrong in (
        {"oidc_issuer": ISSUER},
        {"oidc_issuer": ISSUER, "oidc_audience": AUDIENCE},
        {
            "oidc_issuer": ISSUER,
            "oidc_audience": AUDIENCE,
            "oidc_jwks_file": "x",
            "oidc_algorithms": "none",
        },
        {
            "oidc_issuer": ISSUER,
            "oidc_audience": AUDIENCE,
            "oidc_jwks_url": "http://id.example.org/jwks",
        },
    ):
        with pytest.raises(ValueError, match="OIDC"):
            Settings(**wrong)


async def test_a_jwt_s_principal_is_not_remembered_for_cache_keys_nor_pushes_others_out(
    verifier: JwtVerifier, keys: dict[str, Key]
) -> None:
    """A bearer JWT is verified afresh into a new principal every request: remembered by
    identity for the response cache's key, a thousand such requests would clear the keys of
    the anonymous and token callers, who ask again on every hit."""
    media = "application/json"
    caller = anonymous(Role.READER)
    graphql_request.audience_key({"state": {"principal": caller}}, media)
    token = mint(keys["k1"])
    for _ in range(graphql_request._AUDIENCES_KEPT + 1):
        principal = await verifier.verify(token)
        assert principal.per_request
        assert (
            graphql_request.audience_key({"state": {"principal": principal}}, media)
            == b"editor|" + media.encode()
        )
    assert graphql_request._AUDIENCES[(id(caller), media)][0] is caller


# -- key rotation and JWKS over HTTP ---------------------------------------------------------
async def test_a_rotated_key_is_picked_up_when_a_token_names_it(
    jwks_file: Path, keys: dict[str, Key]
) -> None:
    settings = oidc_settings(jwks_file)
    verifier = JwtVerifier(settings, JwksKeys(settings, min_refresh=0))
    assert (await verifier.verify(mint(keys["k1"]))).name == "alice@itu.int"

    write_jwks(jwks_file, keys["k1"], keys["k2"])  # the issuer publishes its next key

    assert (await verifier.verify(mint(keys["k2"]))).name == "alice@itu.int"


async def test_unknown_key_ids_do_not_make_the_issuer_be_asked_again_and_again(
    jwks_file: Path, keys: dict[str, Key]
) -> None:
    settings = oidc_settings(jwks_file)
    verifier = JwtVerifier(settings)  # re-reads for an unknown kid at most every 30 s
    await verifier.verify(mint(keys["k1"]))
    write_jwks(jwks_file, keys["k1"], keys["k2"])

    with pytest.raises(InvalidCredentialsError, match="does not list"):
        await verifier.verify(mint(keys["k2"]))


@pytest.fixture
def jwks_server(keys: dict[str, Key]) -> Iterator[tuple[str, list[int]]]:
    """The issuer's JWKS endpoint on this machine; counts the requests it answers."""
    served = [0]
    document = json.dumps({"keys": [keys["k1"].jwk()]}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served[0] += 1
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks", served
    finally:
        server.shutdown()
        server.server_close()


async def test_the_key_set_can_be_fetched_from_the_issuer_and_is_cached(
    jwks_server: tuple[str, list[int]], keys: dict[str, Key]
) -> None:
    url, served = jwks_server
    verifier = JwtVerifier(oidc_settings(url=url))

    for _ in range(3):
        assert (await verifier.verify(mint(keys["k1"]))).role == "editor"

    assert served[0] == 1


async def test_an_unreachable_issuer_refuses_tokens_without_hammering_it() -> None:
    verifier = JwtVerifier(oidc_settings(url="http://127.0.0.1:9/jwks"))
    with pytest.raises(InvalidCredentialsError, match="unavailable") as refused:
        await verifier.verify(mint(rsa_key("k1")))
    assert refused.value.reason == "temporarily_unavailable"


# -- through the app -------------------------------------------------------------------------
async def test_a_bearer_jwt_works_end_to_end_and_its_subject_is_the_actor(
    settings: Settings, jwks_file: Path, keys: dict[str, Key]
) -> None:
    from tests.e2e.queries import AMEND, CREATE
    from tests.readings_fixtures import create_plan_input

    configured = settings.model_copy(
        update={
            "oidc_issuer": ISSUER,
            "oidc_audience": AUDIENCE,
            "oidc_jwks_file": str(jwks_file),
        }
    )
    admin = mint(keys["k1"], sub="root@itu.int", roles=["admin"])
    editor = mint(keys["k1"])
    async with running(configured) as app:
        async with http_client(app, admin) as http:
            _, body = await post_graphql(http, CREATE, input=create_plan_input())
            assert body["data"]["createPlan"]["__typename"] == "PlanCreated", body
        async with http_client(app, editor) as http:
            given = retitling("p1", "Retitled", "Through OIDC")
            _, body = await post_graphql(http, AMEND, input=given)
            result = body["data"]["amendPlan"]
            assert result["__typename"] == "AmendmentApplied", result
            assert result["amendment"]["actor"] == "alice@itu.int"
            _, body = await post_graphql(http, CREATE, input=create_plan_input("other"))
            assert body["data"]["createPlan"]["__typename"] == "Forbidden"

        for token, status in (
            (mint(keys["rogue"]), 401),
            (mint(keys["k1"], exp=int(time.time()) - 3600), 401),
            (mint(keys["k1"], roles=["nobody"]), 403),
        ):
            async with http_client(app, token) as http:
                response = await http.post("/graphql", json={"query": "{ plans { id } }"})
                assert response.status_code == status, response.text


async def test_without_oidc_a_jwt_is_refused_not_ignored(
    settings: Settings, keys: dict[str, Key]
) -> None:
    async with running(settings) as app, http_client(app, mint(keys["k1"])) as http:
        response = await http.post("/graphql", json={"query": "{ plans { id } }"})
    assert response.status_code == 401
    assert "OIDC is not set up" in response.json()["message"]
