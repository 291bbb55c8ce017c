"""API tokens: random secrets shown once, stored only as their SHA-256, with a role, an
integrator's scope, an optional expiry, and revocable.

Why SHA-256 and not a password hash (bcrypt, scrypt, argon2): a token is 256 random bits from
`secrets`, not something a person chose, so there is no dictionary to try and 2^256 guesses to
make — a slow hash adds nothing but cost on every request. A fast, unsalted digest also lets a
request find its token by an index lookup. What the digest protects against is a leaked
database (or backup) being usable to call the API: it cannot be turned back into a token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from planapi.application.access import (
    WILDCARD,
    Principal,
    Role,
    Scope,
    has_expired,
    principal_for,
)
from planapi.application.grants import parse_grants
from planapi.application.ports import Clock, TokenStore
from planapi.domain.errors import PlanApiError, Problem, ValidationError

PREFIX = "planapi_"  # lets secret scanners (and people) recognise a leaked token
SECRET_BYTES = 32
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
ID_BYTES = 6
SHAPE = re.compile(rf"^{PREFIX}[A-Za-z0-9_-]{{43}}$")  # 32 bytes, URL-safe base64, unpadded
MAX_SCOPE_ITEMS = 1_000
LAST_USED_EVERY = dt.timedelta(minutes=1)  # how often a token's last use is written, at most


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def looks_like_api_token(credential: str) -> bool:
    return credential.startswith(PREFIX)


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token as stored: everything but the secret."""

    id: str
    name: str
    role: Role
    plans: tuple[str, ...] | None
    kpis: tuple[str, ...] | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    created_by: str
    # Authority grants for proposals ("review:TDAG"): application/grants.py.
    grants: tuple[str, ...] = ()

    @property
    def scope(self) -> Scope:
        return Scope.of(self.plans, self.kpis)

    def state(self, now: dt.datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if has_expired(self.expires_at, now):  # made with our own clock: no leeway
            return "expired"
        return "active"


class TokenNameTakenError(PlanApiError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"an active token is already named {name!r}: revoke it or pick another")


class InvalidCredentialsError(PlanApiError):
    """Credentials were sent but cannot be used: unknown, revoked, expired, malformed, or badly
    signed. Never says which of these a guessed token was (only what a holder can act on)."""

    def __init__(self, message: str, *, reason: str = "invalid_token") -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


class TokenService:
    def __init__(self, store: TokenStore, clock: Clock, *, cache_seconds: float = 5.0) -> None:
        self.store = store
        self.clock = clock
        self.cache_seconds = cache_seconds
        # digest -> (token, when it was read): a revocation reaches this process within
        # `cache_seconds`, without a database read on every request.
        self._cache: dict[bytes, tuple[ApiToken | None, float]] = {}
        self._principals: dict[str, tuple[ApiToken, Principal]] = {}  # by token id

    async def create(
        self,
        name: str,
        role: Role,
        *,
        plans: Sequence[str] | None = None,
        kpis: Sequence[str] | None = None,
        expires_in: dt.timedelta | None = None,
        created_by: str,
        grants: Sequence[str] = (),
    ) -> IssuedToken:
        problems = _check(name, role, plans, kpis, expires_in)
        if problems:
            raise ValidationError(problems)
        granted = tuple(sorted(parse_grants(grants)))
        now = self.clock.now()
        token = ApiToken(
            id=secrets.token_hex(ID_BYTES),
            name=name,
            role=role,
            plans=tuple(dict.fromkeys(plans)) if plans is not None else None,
            kpis=tuple(dict.fromkeys(kpis)) if kpis is not None else None,
            created_at=now,
            expires_at=now + expires_in if expires_in is not None else None,
            revoked_at=None,
            last_used_at=None,
            created_by=created_by,
            grants=granted,
        )
        secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
        await self.store.insert(token, digest(secret))
        return IssuedToken(token, secret)

    async def all(self) -> list[ApiToken]:
        return await self.store.all()

    async def revoke(self, token_id_or_name: str) -> list[ApiToken]:
        revoked = await self.store.revoke(token_id_or_name, self.clock.now())
        self._cache.clear()
        return revoked

    async def authenticate(self, secret: str) -> Principal:
        if not SHAPE.fullmatch(secret):
            raise InvalidCredentialsError("malformed API token")
        key = digest(secret)
        token = await self._lookup(key)
        now = self.clock.now()
        if token is None:
            raise InvalidCredentialsError("unknown or revoked API token")
        match token.state(now):
            case "revoked":
                raise InvalidCredentialsError("unknown or revoked API token")
            case "expired":
                raise InvalidCredentialsError("the API token has expired")
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
            await self.store.touch(token.id, now)
            if key in self._cache:
                self._cache[key] = (replace(token, last_used_at=now), self._cache[key][1])
        return self._principal(token)

    def _principal(self, token: ApiToken) -> Principal:
        """The token's Principal, made once per token as read (immutable, and making it cost
        more than the rest of authenticating a cached token)."""
        held = self._principals.get(token.id)
        if held is not None and held[0] is token:
            return held[1]
        principal = principal_for(
            token.name,
            token.role,
            "token",
            scope=token.scope,
            token_id=token.id,
            expires_at=token.expires_at,
            rate_key=f"token:{token.id}",
            grants=token.grants,
        )
        if len(self._principals) >= 10_000:  # bounded like the tokens' cache
            self._principals.clear()
        self._principals[token.id] = (token, principal)
        return principal

    async def _lookup(self, key: bytes) -> ApiToken | None:
        cached = self._cache.get(key)
        moment = time.monotonic()
        if cached is not None and moment - cached[1] < self.cache_seconds:
            return cached[0]
        token = await self.store.by_hash(key)
        if self.cache_seconds > 0:
            if len(self._cache) >= 10_000:  # bounded: guessed tokens must not grow it
                self._cache.clear()
            # Unknown digests are not cached: a guess costs one indexed read either way.
            if token is not None:
                self._cache[key] = (token, moment)
        return token


def _check(
    name: str,
    role: Role,
    plans: Sequence[str] | None,
    kpis: Sequence[str] | None,
    expires_in: dt.timedelta | None,
) -> list[Problem]:
    problems: list[Problem] = []
    if not NAME.fullmatch(name):
        problems.append(
            Problem(("name",), "1-64 letters, digits or _.@- (starting with a letter or digit)")
        )
    if role is Role.ANONYMOUS:
        problems.append(Problem(("role",), "anonymous is not a role a token can have"))
    scoped = plans is not None or kpis is not None
    if role is Role.INTEGRATOR and not scoped:
        problems.append(
            Problem(
                ("scope",),
                f"an integrator token needs a scope: plans and/or KPIs ({WILDCARD!r} for any)",
            )
        )
    if role is not Role.INTEGRATOR and scoped:
        problems.append(Problem(("scope",), "only integrator tokens have a scope"))
    for label, items in (("plans", plans), ("kpis", kpis)):
        if items is None:
            continue
        if not items or len(items) > MAX_SCOPE_ITEMS:
            problems.append(Problem((label,), f"give 1 to {MAX_SCOPE_ITEMS} ids"))
        elif any(not item or len(item) > 200 or item != item.strip() for item in items):
            problems.append(Problem((label,), "ids are 1-200 characters, without spaces around"))
    if expires_in is not None and expires_in <= dt.timedelta(0):
        problems.append(Problem(("expires_in",), "must be in the future"))
    return problems
