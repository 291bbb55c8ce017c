"""Who calls: API tokens and bearer JWTs."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the use cases' own value types; they import this module at run time
    from planapi.application.access import Principal
    from planapi.application.tokens import ApiToken


class TokenStore(Protocol):
    async def insert(self, token: ApiToken, token_hash: bytes) -> None:
        """Store a new token; raise TokenNameTakenError if an active one has its name."""

    async def by_hash(self, token_hash: bytes) -> ApiToken | None: ...

    async def all(self) -> list[ApiToken]: ...

    async def revoke(self, token_id_or_name: str, at: dt.datetime) -> list[ApiToken]:
        """Revoke the active token with this id (or every active one with this name); return
        what was revoked."""

    async def touch(self, token_id: str, at: dt.datetime) -> None: ...


class BearerVerifier(Protocol):
    """Checks a bearer JWT (signature, issuer, audience, expiry) and says who it names."""

    async def verify(self, token: str) -> Principal: ...
