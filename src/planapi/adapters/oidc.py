"""OIDC bearer tokens: JWTs verified against the issuer's JWKS (a URL or a file) with PyJWT.

Checked on every token: the signature (with a key of the issuer's JWKS, by `kid`, using only the
configured asymmetric algorithms — never `none` or an HMAC one, so a public key cannot be used
as a shared secret), `iss`, `aud`, `exp` (and `nbf`/`iat` when present), within a small leeway.
The role comes from a configurable claim; an integrator's scope from two more.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt

from planapi.application.access import (
    NOTHING,
    ROLE_PRECEDENCE,
    Principal,
    Role,
    Scope,
    principal_for,
    refused_from,
)
from planapi.application.grants import known_grants
from planapi.application.tokens import InvalidCredentialsError

log = logging.getLogger("planapi.oidc")

FORBIDDEN_ALGORITHMS = {"none", "HS256", "HS384", "HS512"}
MAX_TOKEN_LENGTH = 16_384
FETCH_TIMEOUT = 5.0
MIN_REFRESH_SECONDS = 30.0  # an unknown `kid` re-reads the JWKS at most this often
# Which JWK key type each accepted algorithm (family) verifies with.
KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "EdDSA": "OKP"}


class OidcConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class OidcSettings:
    issuer: str
    audience: str
    jwks_url: str | None
    jwks_file: Path | None
    algorithms: tuple[str, ...]
    roles_claim: str
    role_prefix: str
    name_claim: str
    plans_claim: str
    kpis_claim: str
    leeway: float
    jwks_cache_seconds: float
    grants_claim: str = "planapi_grants"

    def __post_init__(self) -> None:
        if (self.jwks_url is None) == (self.jwks_file is None):
            raise OidcConfigError("give exactly one of the JWKS URL and the JWKS file")
        weak = FORBIDDEN_ALGORITHMS.intersection(self.algorithms)
        if weak or not self.algorithms:
            raise OidcConfigError(f"refused JWT algorithms: {', '.join(sorted(weak)) or 'none'}")
        if self.jwks_url is not None:
            check_jwks_url(self.jwks_url)


def check_jwks_url(url: str) -> None:
    """https, or http to this machine only (a key set fetched in clear text could be forged)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        try:
            if host == "localhost" or ipaddress.ip_address(host).is_loopback:
                return
        except ValueError:
            pass
    raise OidcConfigError(f"the JWKS URL must be https (or http on loopback): {url!r}")


class JwksKeys:
    """The issuer's key set, re-read every `cache_seconds`, and sooner (but not more often than
    MIN_REFRESH_SECONDS) when a token names a key it does not hold — how key rotation reaches
    us without a restart, and without letting made-up `kid`s hammer the issuer."""

    def __init__(self, settings: OidcSettings, *, min_refresh: float = MIN_REFRESH_SECONDS) -> None:
        self.settings = settings
        self.min_refresh = min_refresh
        self._loaded_at = -min_refresh
        self._keys: list[tuple[dict[str, Any], jwt.PyJWK]] = []
        self._loaded = False
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None, alg: str) -> jwt.PyJWK:
        age = time.monotonic() - self._loaded_at
        if not self._loaded:
            if age < self.min_refresh:  # the issuer failed a moment ago: do not hammer it
                raise _unavailable()
            await self._refresh(force=True)
        elif age >= self.settings.jwks_cache_seconds:
            await self._refresh(force=False)
        found = self._find(kid, alg)
        if found is None and time.monotonic() - self._loaded_at >= self.min_refresh:
            await self._refresh(force=True)
            found = self._find(kid, alg)
        if found is None:
            raise InvalidCredentialsError("the token is signed with a key the issuer does not list")
        return found

    def _find(self, kid: str | None, alg: str) -> jwt.PyJWK | None:
        kty = KEY_TYPES.get(alg[:2], KEY_TYPES.get(alg))
        candidates = [
            key
            for raw, key in self._keys
            if (kid is None or raw.get("kid") == kid)
            and raw.get("use") in (None, "sig")
            and raw.get("alg") in (None, alg)
            and raw.get("kty") == kty
        ]
        if kid is None and len(candidates) != 1:
            return None  # without a kid, only an unambiguous key set will do
        return candidates[0] if candidates else None

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            # Whoever waited for the lock may find the set re-read meanwhile.
            fresh_for = self.min_refresh if force else self.settings.jwks_cache_seconds
            if self._loaded and time.monotonic() - self._loaded_at < fresh_for:
                return
            try:
                self._keys = _usable(await asyncio.to_thread(self._read))
                self._loaded = True
            except (OSError, ValueError) as error:
                # Keep the keys we had: the issuer being briefly unreachable must not lock
                # everyone out. Without any, no token can verify.
                log.warning("could not read the OIDC key set: %s", error)
                if not self._loaded:
                    raise _unavailable() from error
            finally:
                self._loaded_at = time.monotonic()

    def _read(self) -> dict[str, Any]:
        if self.settings.jwks_file is not None:
            loaded = json.loads(self.settings.jwks_file.read_text(encoding="utf-8"))
        else:
            assert self.settings.jwks_url is not None
            request = urllib.request.Request(
                self.settings.jwks_url, headers={"Accept": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
                loaded = json.loads(response.read(1_000_000))
        if not isinstance(loaded, dict):
            raise ValueError("a JWKS is a JSON object with `keys`")
        return loaded


def _unavailable() -> InvalidCredentialsError:
    return InvalidCredentialsError(
        "the issuer's keys are unavailable; try again later", reason="temporarily_unavailable"
    )


def _usable(document: dict[str, Any]) -> list[tuple[dict[str, Any], jwt.PyJWK]]:
    """The signing keys of a JWKS that PyJWT can use; others (unknown types) are skipped."""
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise ValueError("a JWKS is a JSON object with a list of `keys`")
    usable = []
    for raw in keys:
        if not isinstance(raw, dict) or raw.get("kty") not in KEY_TYPES.values():
            continue
        try:
            usable.append((raw, jwt.PyJWK(raw)))
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as error:
            log.warning("skipping a key of the OIDC key set (kid %r): %s", raw.get("kid"), error)
    return usable


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by dotted path (`realm_access.roles`); None when absent."""
    found: Any = claims
    for step in path.split("."):
        if not isinstance(found, Mapping) or step not in found:
            return None
        found = found[step]
    return found


def _strings(value: Any) -> list[str] | None:
    """A list claim, or a space-separated string (as OAuth `scope`); None when absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.split()
    if isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        return list(value)
    raise InvalidCredentialsError("a role or scope claim is neither a string nor a list of them")


class JwtVerifier:
    def __init__(self, settings: OidcSettings, keys: JwksKeys | None = None) -> None:
        self.settings = settings
        self.keys = keys or JwksKeys(settings)

    async def verify(self, token: str) -> Principal:
        settings = self.settings
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidCredentialsError("malformed bearer token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidCredentialsError("malformed bearer token") from error
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or alg not in settings.algorithms:
            raise InvalidCredentialsError(f"the token's algorithm {alg!r} is not accepted")
        if kid is not None and not isinstance(kid, str):
            raise InvalidCredentialsError("malformed bearer token")
        key = await self.keys.key_for(kid, alg)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway,
                # Expiry is judged by `refused_from`, as everywhere else (one rule, one place).
                options={
                    "require": ["exp", "iss", "aud"],
                    "verify_signature": True,
                    "verify_exp": False,
                },
            )
        except jwt.InvalidAudienceError as error:
            raise InvalidCredentialsError("the token is not meant for this API (aud)") from error
        except jwt.InvalidIssuerError as error:
            raise InvalidCredentialsError("the token comes from another issuer (iss)") from error
        except jwt.InvalidSignatureError as error:
            raise InvalidCredentialsError("the token's signature does not verify") from error
        except jwt.ImmatureSignatureError as error:
            raise InvalidCredentialsError("the token is not valid yet (nbf/iat)") from error
        except jwt.MissingRequiredClaimError as error:
            raise InvalidCredentialsError(f"the token lacks the {error.claim!r} claim") from error
        except jwt.PyJWTError as error:
            raise InvalidCredentialsError("malformed bearer token") from error
        principal = self.principal(claims)
        if principal.expired():
            raise InvalidCredentialsError("the token has expired")
        return principal

    def principal(self, claims: Mapping[str, Any]) -> Principal:
        settings = self.settings
        name = claim(claims, settings.name_claim)
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise InvalidCredentialsError(f"the token has no usable {settings.name_claim!r} claim")
        given = _strings(claim(claims, settings.roles_claim)) or []
        prefix = settings.role_prefix
        named = {item.removeprefix(prefix) for item in given if item.startswith(prefix)}
        role = next((r for r in ROLE_PRECEDENCE if r.value in named), None)
        if role is None:
            raise InvalidCredentialsError(
                f"the token's {settings.roles_claim!r} claim names no planapi role "
                f"({', '.join(prefix + r.value for r in ROLE_PRECEDENCE)})",
                reason="no_role",
            )
        scope = NOTHING
        if role is Role.INTEGRATOR:
            plans = _strings(claim(claims, settings.plans_claim))
            kpis = _strings(claim(claims, settings.kpis_claim))
            if plans is not None or kpis is not None:
                scope = Scope.of(plans, kpis)
        return principal_for(
            name,
            role,
            "oidc",
            scope=scope,
            expires_at=refused_from(_seconds(claims.get("exp")), settings.leeway),
            rate_key=f"oidc:{name}",
            grants=known_grants(_strings(claim(claims, settings.grants_claim)) or ()),
            per_request=True,
        )


def _seconds(value: object) -> float:
    """A NumericDate claim (RFC 7519): a finite number, not a boolean, not a string."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidCredentialsError("the token's 'exp' claim is not a number of seconds")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidCredentialsError("the token's 'exp' claim is not a finite number")
    return value
