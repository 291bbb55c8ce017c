"""Who may call which root field: each root field's declared permission, applied to the built
schema, default deny.

Every field of Query, Mutation and Subscription declares its permission where it is declared
(`api.types.root_fields.declare`); building a schema with a root field that declares none
fails, so a new field cannot ship unguarded. The check
sits on root fields only because everything below a root is what that root's permission reads:
a reader may see every field reachable from `plan`, an auditor everything under `events`.

Refusals: a mutation answers its result union's `Forbidden` member (clients switch on it as on
`VersionConflict`); a query or a subscription fails with a GraphQL error whose
`extensions.code` is UNAUTHENTICATED (no usable credentials: send some) or FORBIDDEN.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterator
from typing import Any

import strawberry
from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
)

from planapi.api.runtime.failures import Classify, classified, declared_only, note
from planapi.api.types.context import Context, request_id
from planapi.api.types.errors import access_error, as_union_member
from planapi.api.types.root_fields import declared
from planapi.application.access import (
    AccessDeniedError,
    Denial,
    Permission,
    Principal,
    refusal,
)
from planapi.domain.errors import PlanApiError

log = logging.getLogger("planapi.api")


Info = GraphQLResolveInfo[Any]


class UnguardedFieldError(RuntimeError):
    pass


def principal_of(info: Info) -> Principal | None:
    context = info.context
    return context.principal if isinstance(context, Context) else None


def _denied(principal: Principal | None, permission: Permission) -> AccessDeniedError | None:
    return refusal(principal, permission)


def _query(resolve: Callable[..., Any], permission: Permission) -> Callable[..., Any]:
    def guarded(root: Any, info: Info, **arguments: Any) -> Any:
        denied = _denied(principal_of(info), permission)
        if denied is not None:
            raise access_error(denied)
        return resolve(root, info, **arguments)

    guarded.permission = permission  # type: ignore[attr-defined]
    guarded.strawberry = _STRAWBERRY in getattr(resolve, "__qualname__", "")  # type: ignore[attr-defined]
    return guarded


# strawberry's own resolver of a field (`GraphQLCoreConverter.from_resolver`'s closures).
_STRAWBERRY = "GraphQLCoreConverter.from_resolver"


def guarded_permission(resolve: Callable[..., Any] | None) -> Permission | None:
    """The permission a query field's guard checks, when the guard sits right on strawberry's
    resolver (what `api.runtime.root_plan` may call in its stead, checking the same)."""
    if getattr(resolve, "strawberry", False) is not True:
        return None
    found = getattr(resolve, "permission", None)
    return found if isinstance(found, Permission) else None


def permitted(context: Any, permission: Permission) -> bool:
    """Whether the query guard lets the request of `context` through."""
    principal = context.principal if isinstance(context, Context) else None
    return _denied(principal, permission) is None


def _mutation(resolve: Callable[..., Any], permission: Permission) -> Callable[..., Any]:
    def guarded(root: Any, info: Info, **arguments: Any) -> Any:
        denied = _denied(principal_of(info), permission)
        if denied is not None:
            return as_union_member(denied)
        return resolve(root, info, **arguments)

    return guarded


def _subscription(subscribe: Callable[..., Any], permission: Permission) -> Callable[..., Any]:
    async def guarded(root: Any, info: Info, **arguments: Any) -> Any:
        denied = _denied(principal_of(info), permission)
        if denied is not None:
            raise access_error(denied)
        source = subscribe(root, info, **arguments)
        if inspect.isawaitable(source):
            source = await source
        return _while_allowed(source, info, permission)

    return guarded


async def _while_allowed(
    source: AsyncIterable[Any], info: Info, permission: Permission
) -> AsyncGenerator[Any, None]:
    """A subscription outlives the request that opened it: before each event, the credentials
    must still hold (not expired; for API tokens, not revoked — looked up again at most every
    PLANAPI_TOKEN_CACHE_SECONDS). Otherwise the stream ends with an UNAUTHENTICATED error."""
    context = info.context
    try:
        async for item in source:
            denied = _denied(principal_of(info), permission)
            check = context.still_valid if isinstance(context, Context) else None
            if denied is None and check is not None and not await check():
                denied = AccessDeniedError(
                    Denial.UNAUTHENTICATED,
                    "the credentials were revoked or have expired",
                    permission=permission,
                )
            if denied is not None:
                raise access_error(denied)
            yield item
    finally:
        closing = getattr(source, "aclose", None)
        if closing is not None:
            await closing()


def _roots(core: GraphQLSchema) -> Iterator[tuple[str, GraphQLObjectType]]:
    for kind, root in (
        ("Query", core.query_type),
        ("Mutation", core.mutation_type),
        ("Subscription", core.subscription_type),
    ):
        if root is not None:
            yield kind, root


def policy(core: GraphQLSchema) -> dict[tuple[str, str], Permission]:
    """(root type, field) → the permission it declares, for every root field declaring one."""
    found = {}
    for kind, root in _roots(core):
        for name, field in root.fields.items():
            declaration = declared(field)
            if declaration is not None:
                found[(kind, name)] = declaration.permission
    return found


def guard(schema: strawberry.Schema) -> None:
    """Put every root field behind its permission (after any other resolver replacement)."""
    for kind, root in _roots(schema._schema):
        for name, field in root.fields.items():
            declaration = declared(field)
            if declaration is None:
                raise UnguardedFieldError(
                    f"{kind}.{name} declares no permission: give it "
                    "metadata=declare(...) (api.types.root_fields) to say who may use it"
                )
            _wrap(kind, field, declaration.permission)


def _wrap(kind: str, field: GraphQLField, permission: Permission) -> None:
    if kind == "Subscription":
        assert field.subscribe is not None
        field.subscribe = _subscription(field.subscribe, permission)
        return
    assert field.resolve is not None
    wrap = _mutation if kind == "Mutation" else _query
    field.resolve = wrap(field.resolve, permission)


class PlanSchema(strawberry.Schema):
    """Errors a client caused — refusals, bad input, documents that do not parse or validate,
    budgets exceeded — are logged at INFO on one line: they are answered, not bugs, and a
    caller probing the API must not fill the error log with tracebacks. Anything else is logged
    as strawberry does (and masked in the answer, with its request id)."""

    classify: Classify = staticmethod(declared_only)

    async def stream(  # type: ignore[override]
        self, query: str | None, variable_values: Any = None, context_value: Any = None, **rest: Any
    ) -> Any:
        """Every operation a WebSocket connection streams (queries and subscriptions alike, on
        both protocols: `subscribe` streams too) gets its own context (`Context.for_operation`);
        HTTP makes one per request already."""
        if isinstance(context_value, Context):
            context_value = context_value.for_operation()
        return await super().stream(query, variable_values, context_value, **rest)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: Any | None = None
    ) -> None:
        unexpected = []
        for error in errors:
            cause = error.original_error
            unavailable = classified(error, self.classify)
            if unavailable is not None:
                note(unavailable, request_id.get())
            elif cause is None or isinstance(cause, PlanApiError | GraphQLError):
                code = (error.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")
                log.info("answered with an error: %s (%s)", error.message, code)
            else:
                unexpected.append(error)
        if unexpected:
            super().process_errors(unexpected, execution_context)
