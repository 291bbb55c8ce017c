"""The GraphQL view's side of the door (`entrypoints.security`): the principal into the
context, credentials in a WebSocket's `connection_init`, and GraphQL-over-HTTP statuses for
requests refused before anything ran or failed whole for want of the database."""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable
from typing import Any

from starlette.types import Scope
from strawberry.exceptions import ConnectionRejectionError

from planapi.api.runtime.failures import failed_for_want_of_the_database
from planapi.api.runtime.http_protocol import GRAPHQL_RESPONSE, media_type, never_began
from planapi.api.types.context import Context
from planapi.application.access import Principal, Role
from planapi.application.authn import Authenticator
from planapi.application.failures import RETRY_AFTER_SECONDS
from planapi.application.tokens import InvalidCredentialsError
from planapi.config import Settings
from planapi.entrypoints.security import header_value

_sub_response: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "planapi_sub_response", default=None
)


class PlanGraphQLAccess:
    """Mixed into the GraphQL view: the principal into the context, credentials in
    `connection_init` for WebSockets, and bodies strawberry would choke on refused as 400."""

    authenticator: Callable[[], Authenticator]

    async def on_ws_connect(self, context: Context) -> Any:
        """`connection_init` may carry `{"Authorization": "Bearer …"}` (what browsers can send):
        it replaces an anonymous upgrade's principal. Bad credentials close the socket (4403)."""
        params = context.connection_params or {}
        given = params.get("Authorization", params.get("authorization"))
        principal = context.principal
        if given is None or (principal is not None and principal.authenticated):
            return await super().on_ws_connect(context)  # type: ignore[misc]
        if not isinstance(given, str):
            raise ConnectionRejectionError({"message": "Authorization must be a string"})
        authenticator = self.authenticator()
        try:
            principal = await authenticator.authenticate(given)
        except InvalidCredentialsError as error:
            raise ConnectionRejectionError({"message": str(error)}) from error
        context.principal = principal
        context.actor = principal.name
        context.still_valid = _still_valid(authenticator, given)
        return await super().on_ws_connect(context)  # type: ignore[misc]

    async def get_sub_response(self, request: Any) -> Any:
        sub = await super().get_sub_response(request)  # type: ignore[misc]
        _sub_response.set(sub)
        return sub

    async def process_result(self, request: Any, result: Any) -> Any:
        """GraphQL over HTTP (`api.runtime.http_protocol`): a request refused before anything ran (a
        document that does not parse, fails validation — depth, tokens, aliases — or is over
        its cost budget) has no `data` entry, and is `400` for clients that accept
        `application/graphql-response+json`; plain `application/json` clients get `200`. An
        operation that failed whole for want of the database is `503` with `Retry-After`."""
        processed = await super().process_result(request, result)  # type: ignore[misc]
        sub = _sub_response.get()
        if sub is not None and failed_for_want_of_the_database(result.data, result.errors):
            sub.status_code = 503  # nothing ran to the end: the database is out of reach
            sub.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
            return processed
        if not never_began(result):
            return processed
        processed.pop("data", None)
        accept = request.headers.get("accept", "") if hasattr(request, "headers") else ""
        if sub is not None and media_type(accept) == GRAPHQL_RESPONSE:
            sub.status_code = 400
        return processed

    def decode_json(self, data: str | bytes) -> object:
        """JSON that is not UTF-8, or nested past what the parser can hold, is bad JSON (400 on
        HTTP, 4400 on a WebSocket), not a server error."""
        try:
            return json.loads(data)
        except json.JSONDecodeError:
            raise
        except (UnicodeDecodeError, RecursionError, ValueError) as error:
            raise json.JSONDecodeError(f"not JSON: {type(error).__name__}", "", 0) from error

    def parse_json(self, data: str | bytes) -> Any:
        from cross_web import HTTPException

        parsed = super().parse_json(data)  # type: ignore[misc]
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, "the body must be a JSON object")
        return parsed


def _still_valid(authenticator: Authenticator, given: str) -> Callable[[], Any]:
    async def check() -> bool:
        try:
            await authenticator.authenticate(given)
        except InvalidCredentialsError:
            return False
        return True

    return check


def context_access(scope: Scope, authenticator: Authenticator) -> dict[str, Any]:
    """What the GraphQL context takes from the door: the principal and its name as `actor`;
    for a WebSocket opened with credentials, how to tell later whether they still hold."""
    state = scope.get("state")
    principal = state.get("principal") if isinstance(state, dict) else None
    if not isinstance(principal, Principal):
        return {}
    found: dict[str, Any] = {"principal": principal, "actor": principal.name}
    if scope["type"] == "websocket" and principal.authenticated:
        found["still_valid"] = _still_valid(authenticator, header_value(scope, b"authorization"))
    return found


def cost_budgets(settings: Settings) -> dict[Role, int]:
    return {role: getattr(settings, f"max_query_cost_{role.value}") for role in Role}


def token_limits(settings: Settings) -> dict[Role, int]:
    """Tokens a GraphQL document may have, per role (unset: PLANAPI_MAX_QUERY_TOKENS)."""
    return {
        role: getattr(settings, f"max_query_tokens_{role.value}") or settings.max_query_tokens
        for role in Role
    }
