"""Roles, scopes, refusals, tokens, the rate limiter and the authenticator, without I/O."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest

from planapi.application.access import (
    ANY,
    NOTHING,
    ROLE_PERMISSIONS,
    AccessDeniedError,
    Denial,
    Permission,
    Role,
    Scope,
    anonymous,
    check_reading_scope,
    principal_for,
    refusal,
    roles_with,
    system,
)
from planapi.application.authn import Authenticator
from planapi.application.tokens import (
    PREFIX,
    ApiToken,
    InvalidCredentialsError,
    TokenNameTakenError,
    TokenService,
    digest,
)
from planapi.domain.errors import ValidationError
from planapi.entrypoints.ratelimit import TokenBuckets

NOW = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)


# -- roles -----------------------------------------------------------------------------------
def test_what_each_role_may_do() -> None:
    may = {role: ROLE_PERMISSIONS[role] for role in Role}
    assert may[Role.READER] == {Permission.READ}
    assert may[Role.AUDITOR] == {Permission.READ, Permission.AUDIT}
    assert may[Role.EDITOR] == {Permission.READ, Permission.AMEND}
    assert may[Role.INTEGRATOR] == {Permission.READ, Permission.RECORD_READINGS}
    assert may[Role.ADMIN] == set(Permission)
    assert may[Role.ANONYMOUS] == set()
    assert roles_with(Permission.AUDIT) == [Role.AUDITOR, Role.ADMIN]
    assert roles_with(Permission.CREATE_PLAN) == [Role.ADMIN]


def test_anonymous_callers_can_be_given_only_a_read_only_role_or_nothing() -> None:
    assert anonymous(Role.READER).permissions == {Permission.READ}
    assert anonymous(Role.AUDITOR).permissions == {Permission.READ, Permission.AUDIT}
    assert anonymous(None).permissions == set()
    for role in (Role.EDITOR, Role.INTEGRATOR, Role.ADMIN):
        with pytest.raises(ValueError, match="read-only"):
            anonymous(role)
    caller = anonymous(Role.READER, "10.0.0.7")
    assert (caller.role, caller.name, caller.authenticated) == ("anonymous", "anonymous", False)
    assert caller.rate_key == "anonymous:10.0.0.7"


def test_a_refusal_says_whether_to_authenticate_or_that_the_role_may_not() -> None:
    assert refusal(system("planapi"), Permission.CREATE_PLAN) is None

    nobody = refusal(anonymous(Role.READER), Permission.AMEND)
    assert nobody is not None
    assert nobody.denial is Denial.UNAUTHENTICATED
    assert "editor, admin" in str(nobody)

    reader = principal_for("ann", Role.READER, "token")
    wrong_role = refusal(reader, Permission.AMEND)
    assert wrong_role is not None
    assert wrong_role.denial is Denial.MISSING_PERMISSION
    assert "the role reader may not amend" in str(wrong_role)

    missing = refusal(None, Permission.READ)
    assert missing is not None
    assert missing.denial is Denial.UNAUTHENTICATED


def test_only_integrators_keep_a_scope() -> None:
    scope = Scope.of(["p"], None)
    assert principal_for("i", Role.INTEGRATOR, "token", scope=scope).scope == scope
    assert principal_for("e", Role.EDITOR, "token", scope=scope).scope == ANY


def test_the_principal_role_is_a_plain_string_for_caches() -> None:
    principal = principal_for("ann", Role.AUDITOR, "oidc")
    assert principal.role == "auditor"
    assert f"{principal.role}" == "auditor"


# -- scopes ----------------------------------------------------------------------------------
def test_a_scope_of_plans_and_kpis_needs_both_to_allow_a_reading() -> None:
    scope = Scope.of(["baku-2026"], ["kpi-1", "kpi-2"])
    assert scope.allows_plan("baku-2026")
    assert not scope.allows_plan("other")
    assert scope.allows_kpi("kpi-1")
    assert not scope.allows_kpi("kpi-3")
    assert Scope.of(["*"], None) == ANY
    assert Scope.of(["baku-2026"], ["*"]) == Scope(frozenset({"baku-2026"}), None)
    assert not NOTHING.allows_plan("baku-2026")
    assert not NOTHING.allows_kpi("k")
    assert NOTHING.describe() == "plans=(none) kpis=(none)"


def test_readings_outside_the_scope_are_named_by_their_index() -> None:
    scope = Scope.of(None, ["kpi-1"])
    check_reading_scope(scope, "dhis2", "baku-2026", ["kpi-1", "kpi-1"])

    with pytest.raises(AccessDeniedError) as refused:
        check_reading_scope(scope, "dhis2", "baku-2026", ["kpi-1", "kpi-9", "kpi-1", "kpi-8"])

    error = refused.value
    assert error.denial is Denial.OUT_OF_SCOPE
    assert [(o.index, o.kpi_id) for o in error.out_of_scope] == [(1, "kpi-9"), (3, "kpi-8")]
    assert [p.path for p in error.problems] == [
        ("readings", 1, "kpi_id"),
        ("readings", 3, "kpi_id"),
    ]
    assert "2 of 4 readings" in str(error)


def test_a_plan_outside_the_scope_refuses_every_reading() -> None:
    with pytest.raises(AccessDeniedError) as refused:
        check_reading_scope(Scope.of(["baku-2026"], None), "dhis2", "other", ["a", "b"])

    assert [p.path for p in refused.value.problems] == [("plan_id",)]
    assert [o.index for o in refused.value.out_of_scope] == [0, 1]


# -- API tokens ------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.instant = NOW

    def now(self) -> dt.datetime:
        return self.instant


class MemoryTokens:
    def __init__(self) -> None:
        self.tokens: dict[bytes, ApiToken] = {}
        self.reads = 0

    async def insert(self, token: ApiToken, token_hash: bytes) -> None:
        if any(t.name == token.name and t.revoked_at is None for t in self.tokens.values()):
            raise TokenNameTakenError(token.name)
        self.tokens[token_hash] = token

    async def by_hash(self, token_hash: bytes) -> ApiToken | None:
        self.reads += 1
        return self.tokens.get(token_hash)

    async def all(self) -> list[ApiToken]:
        return list(self.tokens.values())

    async def revoke(self, token_id_or_name: str, at: dt.datetime) -> list[ApiToken]:
        import dataclasses

        done = []
        for key, token in self.tokens.items():
            if token_id_or_name in (token.id, token.name) and token.revoked_at is None:
                self.tokens[key] = dataclasses.replace(token, revoked_at=at)
                done.append(self.tokens[key])
        return done

    async def touch(self, token_id: str, at: dt.datetime) -> None:
        import dataclasses

        for key, token in self.tokens.items():
            if token.id == token_id:
                self.tokens[key] = dataclasses.replace(token, last_used_at=at)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> MemoryTokens:
    return MemoryTokens()


@pytest.fixture
def tokens(store: MemoryTokens, clock: FakeClock) -> TokenService:
    return TokenService(store, clock, cache_seconds=0)


async def test_a_token_is_random_prefixed_and_stored_only_as_its_sha256(
    tokens: TokenService, store: MemoryTokens
) -> None:
    one = await tokens.create("ci", Role.READER, created_by="test")
    two = await tokens.create("ci-2", Role.READER, created_by="test")

    assert one.secret.startswith(PREFIX)
    assert len(one.secret) >= len(PREFIX) + 43
    assert one.secret != two.secret
    assert set(store.tokens) == {digest(one.secret), digest(two.secret)}
    assert digest(one.secret) == hashlib.sha256(one.secret.encode()).digest()
    assert all(one.secret not in repr(token) for token in store.tokens.values())


async def test_a_token_authenticates_as_its_name_role_and_scope(tokens: TokenService) -> None:
    issued = await tokens.create(
        "dhis2", Role.INTEGRATOR, plans=["baku-2026"], kpis=["kpi-1"], created_by="test"
    )

    principal = await tokens.authenticate(issued.secret)

    assert (principal.name, principal.role, principal.credential) == (
        "dhis2",
        "integrator",
        "token",
    )
    assert principal.scope == Scope.of(["baku-2026"], ["kpi-1"])
    assert principal.rate_key == f"token:{issued.token.id}"


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("not-even-prefixed", "malformed"),
        (PREFIX + "x" * 300, "malformed"),
        (PREFIX + "never-issued", "malformed"),
        (PREFIX + "A" * 43, "unknown or revoked"),
    ],
)
async def test_unusable_secrets_are_refused(
    tokens: TokenService, secret: str, message: str
) -> None:
    with pytest.raises(InvalidCredentialsError, match=message):
        await tokens.authenticate(secret)


async def test_an_expired_token_is_refused(tokens: TokenService, clock: FakeClock) -> None:
    issued = await tokens.create(
        "short", Role.READER, expires_in=dt.timedelta(hours=1), created_by="test"
    )
    assert (await tokens.authenticate(issued.secret)).expires_at == NOW + dt.timedelta(hours=1)

    clock.instant = NOW + dt.timedelta(hours=1)

    with pytest.raises(InvalidCredentialsError, match="expired"):
        await tokens.authenticate(issued.secret)


async def test_a_revoked_token_is_refused_and_its_name_can_be_reused(
    tokens: TokenService,
) -> None:
    issued = await tokens.create("ci", Role.EDITOR, created_by="test")
    with pytest.raises(TokenNameTakenError):
        await tokens.create("ci", Role.EDITOR, created_by="test")

    [revoked] = await tokens.revoke("ci")

    assert revoked.revoked_at == NOW
    with pytest.raises(InvalidCredentialsError, match="revoked"):
        await tokens.authenticate(issued.secret)
    assert await tokens.revoke("ci") == []
    await tokens.create("ci", Role.EDITOR, created_by="test")  # the name is free again


async def test_a_cached_token_is_looked_up_again_after_the_cache_time(
    store: MemoryTokens, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = [1000.0]
    monkeypatch.setattr("planapi.application.tokens.time.monotonic", lambda: moment[0])
    service = TokenService(store, clock, cache_seconds=5)
    issued = await service.create("ci", Role.READER, created_by="test")
    await service.authenticate(issued.secret)
    reads = store.reads

    await service.authenticate(issued.secret)
    assert store.reads == reads, "served from the cache"

    # Revoked by another process (the CLI): this one learns of it once the cache time is up.
    other = TokenService(store, clock, cache_seconds=0)
    await other.revoke(issued.token.id)
    await service.authenticate(issued.secret)
    moment[0] += 5
    with pytest.raises(InvalidCredentialsError):
        await service.authenticate(issued.secret)


async def test_last_use_is_noted_at_most_once_a_minute(
    tokens: TokenService, store: MemoryTokens, clock: FakeClock
) -> None:
    issued = await tokens.create("ci", Role.READER, created_by="test")
    await tokens.authenticate(issued.secret)
    [token] = await store.all()
    assert token.last_used_at == NOW

    clock.instant = NOW + dt.timedelta(seconds=30)
    await tokens.authenticate(issued.secret)
    assert (await store.all())[0].last_used_at == NOW

    clock.instant = NOW + dt.timedelta(minutes=2)
    await tokens.authenticate(issued.secret)
    assert (await store.all())[0].last_used_at == NOW + dt.timedelta(minutes=2)


@pytest.mark.parametrize(
    ("name", "role", "options", "path"),
    [
        ("has space", Role.READER, {}, ("name",)),
        ("", Role.READER, {}, ("name",)),
        ("x" * 65, Role.READER, {}, ("name",)),
        ("ok", Role.ANONYMOUS, {}, ("role",)),
        ("ok", Role.INTEGRATOR, {}, ("scope",)),
        ("ok", Role.EDITOR, {"plans": ["baku-2026"]}, ("scope",)),
        ("ok", Role.INTEGRATOR, {"plans": []}, ("plans",)),
        ("ok", Role.INTEGRATOR, {"kpis": [" kpi-1"]}, ("kpis",)),
        ("ok", Role.READER, {"expires_in": dt.timedelta(0)}, ("expires_in",)),
    ],
)
async def test_a_token_that_makes_no_sense_is_not_created(
    tokens: TokenService, name: str, role: Role, options: dict[str, object], path: tuple[str]
) -> None:
    with pytest.raises(ValidationError) as refused:
        await tokens.create(name, role, created_by="test", **options)  # type: ignore[arg-type]
    assert [p.path for p in refused.value.problems] == [path]


# -- the authenticator -----------------------------------------------------------------------
class FakeJwt:
    async def verify(self, token: str) -> object:
        if token == "a.b.c":
            return principal_for("alice", Role.EDITOR, "oidc")
        raise InvalidCredentialsError("the token's signature does not verify")


@pytest.fixture
def authenticator(tokens: TokenService) -> Authenticator:
    return Authenticator(tokens, FakeJwt(), anonymous_grants=Role.READER)  # type: ignore[arg-type]


async def test_no_header_is_anonymous_and_a_bad_one_is_never_downgraded_to_it(
    authenticator: Authenticator,
) -> None:
    assert (await authenticator.authenticate(None, "1.2.3.4")).rate_key == "anonymous:1.2.3.4"
    assert not (await authenticator.authenticate("  ")).authenticated
    for header in (
        "Bearer",
        "Bearer two words",
        "Bearer gibberish",
        "Token planapi_x",
        "Digest x",
        "Bearer " + "x" * 20_000,
        "Bearer x.y.z",  # a JWT that does not verify
    ):
        with pytest.raises(InvalidCredentialsError):
            await authenticator.authenticate(header)


async def test_bearer_api_tokens_and_jwts_are_told_apart(
    authenticator: Authenticator, tokens: TokenService
) -> None:
    issued = await tokens.create("ci", Role.AUDITOR, created_by="test")
    assert (await authenticator.authenticate(f"Bearer {issued.secret}")).name == "ci"
    assert (await authenticator.authenticate(f"bearer {issued.secret}")).name == "ci"
    assert (await authenticator.authenticate("Bearer a.b.c")).name == "alice"


async def test_jwts_are_refused_when_oidc_is_not_set_up(tokens: TokenService) -> None:
    without = Authenticator(tokens, None, anonymous_grants=None)
    with pytest.raises(InvalidCredentialsError, match="OIDC is not set up"):
        await without.authenticate("Bearer a.b.c")
    assert (await without.authenticate(None)).permissions == set()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def test_basic_credentials_carry_only_read_only_tokens_and_only_where_allowed(
    authenticator: Authenticator, tokens: TokenService
) -> None:
    auditor = await tokens.create("browser", Role.AUDITOR, created_by="test")
    editor = await tokens.create("writer", Role.EDITOR, created_by="test")

    found = await authenticator.authenticate(basic("me", auditor.secret), allow_basic=True)
    assert found.name == "browser"
    with pytest.raises(InvalidCredentialsError, match="only for reader and auditor"):
        await authenticator.authenticate(basic("me", editor.secret), allow_basic=True)
    with pytest.raises(InvalidCredentialsError, match="audit page"):
        await authenticator.authenticate(basic("me", auditor.secret))
    with pytest.raises(InvalidCredentialsError, match="malformed Basic"):
        await authenticator.authenticate("Basic %%%", allow_basic=True)


# -- the rate limiter ------------------------------------------------------------------------
def test_a_bucket_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=2, burst=3, clock=lambda: now[0])

    assert [buckets.take("a").allowed for _ in range(4)] == [True, True, True, False]
    refused = buckets.take("a")
    assert refused.retry_after == pytest.approx(0.5)
    assert refused.retry_after_header == "1"
    assert buckets.take("b").allowed, "another caller has its own bucket"

    now[0] = 0.5
    assert buckets.take("a").allowed
    assert not buckets.take("a").allowed
    now[0] = 100
    assert [buckets.take("a").allowed for _ in range(4)] == [True, True, True, False]


def test_the_buckets_forget_the_callers_seen_longest_ago() -> None:
    buckets = TokenBuckets(rate=1, burst=1, max_callers=3, clock=lambda: 0.0)
    for key in "abcd":
        buckets.take(key)
    assert len(buckets) == 3
    assert buckets.take("a").allowed, "a was forgotten: a full bucket again"
    assert not buckets.take("d").allowed


def test_a_bucket_needs_a_rate_and_room() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBuckets(rate=0, burst=1)
    with pytest.raises(ValueError, match="burst"):
        TokenBuckets(rate=1, burst=0)


def test_retry_after_is_whole_seconds_never_zero() -> None:
    buckets = TokenBuckets(rate=0.1, burst=1, clock=lambda: 0.0)
    buckets.take("a")
    assert buckets.take("a").retry_after_header == "10"
