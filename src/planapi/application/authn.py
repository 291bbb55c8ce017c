"""From the credentials a request carries to the `Principal` it acts as."""

from __future__ import annotations

import base64
import binascii

from planapi.application.access import READ_ONLY_ROLES, Principal, Role, anonymous
from planapi.application.ports import BearerVerifier
from planapi.application.tokens import InvalidCredentialsError, TokenService, looks_like_api_token

MAX_HEADER = 16_384


class Authenticator:
    def __init__(
        self,
        tokens: TokenService,
        jwt: BearerVerifier | None,
        *,
        anonymous_grants: Role | None,
    ) -> None:
        self.tokens = tokens
        self.jwt = jwt
        self.anonymous_grants = anonymous_grants

    def anonymous(self, client: str) -> Principal:
        return anonymous(self.anonymous_grants, client)

    async def authenticate(
        self, authorization: str | None, client: str = "-", *, allow_basic: bool = False
    ) -> Principal:
        """The principal for an `Authorization` header value (None: anonymous). Raises
        InvalidCredentialsError for credentials that were sent but cannot be used — a request
        with a bad token is refused, never downgraded to anonymous."""
        if authorization is None or not authorization.strip():
            return self.anonymous(client)
        if len(authorization) > MAX_HEADER:
            raise InvalidCredentialsError("malformed Authorization header")
        scheme, _, credentials = authorization.strip().partition(" ")
        credentials = credentials.strip()
        match scheme.lower():
            case "bearer":
                return await self.bearer(credentials)
            case "basic" if allow_basic:
                return await self._basic(credentials)
            case "basic":
                raise InvalidCredentialsError(
                    "Basic credentials are only for the audit page in a browser: "
                    "send `Authorization: Bearer <token>`"
                )
        raise InvalidCredentialsError("unsupported Authorization scheme: use Bearer")

    async def bearer(self, credentials: str) -> Principal:
        if not credentials or " " in credentials:
            raise InvalidCredentialsError("malformed bearer token")
        if looks_like_api_token(credentials):
            return await self.tokens.authenticate(credentials)
        if credentials.count(".") == 2:
            if self.jwt is None:
                raise InvalidCredentialsError("bearer JWTs are not accepted: OIDC is not set up")
            return await self.jwt.verify(credentials)
        raise InvalidCredentialsError("malformed bearer token")

    async def _basic(self, credentials: str) -> Principal:
        """A browser's Basic credentials (the audit page): the API token is the password. Only
        read-only roles: a browser sends cached credentials by itself, so they must not be able
        to change anything (no cross-site request can write through them)."""
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise InvalidCredentialsError("malformed Basic credentials") from error
        user, _, password = decoded.partition(":")
        principal = await self.tokens.authenticate(password or user)
        if principal.role not in READ_ONLY_ROLES:
            raise InvalidCredentialsError(
                "Basic credentials are accepted only for reader and auditor tokens"
            )
        return principal
