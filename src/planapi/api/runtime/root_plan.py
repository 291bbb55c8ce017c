"""A direct query's root fields, compiled once per request body: `api.runtime.direct` runs this
plan instead of graphql-core's `execute` when it has one.

graphql-core's execution of a small query costs far more than the query's own work: per
request it builds an executor (its fragments, its helpers), coerces the variables, collects the
root fields, builds an info object, coerces each root field's arguments, and strawberry then
converts them again into Python values (camel-cased names, scalars, input types) before its
resolver runs; then every field below goes through its completion machinery. A body that
direct queries answer (`api.runtime.preparing`: the same text, variables and operation name)
gives the same document, variables and arguments every time, so all of that is done once, by
graphql-core and strawberry themselves, when the plan is compiled; per request only the
request's own work is left:

- each root field's permission, checked as its guard checks it (`api.runtime.guard`);
- its strawberry resolver, called with the arguments converted once and an info object built
  for this request (its context);
- its value completed by the compiled executor's closures (`api.runtime.execution`, shared by
  every request of the same document).

It only compiles what it can run exactly: a query whose root fields are all guarded strawberry
resolvers without field extensions or exception handlers, whose converted arguments are
immutable values (shared by requests), and whose selections the compiled executor completes
whole (no directives, no abstract type it cannot resolve). Anything else, and anything that
goes wrong while running — a refusal, an error, a null where none may be, a resolver asking for
graphql-core's async helpers — answers None: the request is executed by graphql-core (and, on
any error, by strawberry's whole path), so error answers stay exactly strawberry's.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    OperationType,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.types.arguments import convert_arguments

from planapi.api.runtime import execution
from planapi.api.runtime.guard import guarded_permission, permitted
from planapi.application.access import Permission

Completer = Callable[[Any], Any]
_DEFINITION = "strawberry-definition"
# Values a request may share with the next ones: nothing a resolver could change in place.
_IMMUTABLE = (str, int, float, bool, type(None), dt.date, dt.time, decimal.Decimal, enum.Enum)


class _Unsupported(Exception):
    """A resolver asked for graphql-core's async helpers: graphql-core runs the request."""


def _unsupported(*_: Any) -> Any:
    raise _Unsupported


_NO_HELPERS = GraphQLResolveInfoHelpers(_unsupported, _unsupported)


@dataclass(frozen=True, slots=True)
class _Root:
    """One root field: its permission, its resolver's call, its completion."""

    response_name: str
    permission: Permission | None  # None: `__typename`
    info_head: tuple[Any, ...]  # GraphQLResolveInfo's fields before the context
    info_tail: tuple[Any, ...]  # and after it
    definition: Any  # the StrawberryField
    info_class: type
    kwargs: dict[str, Any]  # converted once
    info_name: str | None  # the resolver's info parameter
    passes_self: bool
    complete: Completer


class RootPlan:
    """A compiled query: `run(context)` gives its data, or None (execute it the usual way)."""

    def __init__(self, roots: Sequence[_Root]) -> None:
        self._roots = tuple(roots)

    async def run(self, context: Any) -> dict[str, Any] | None:
        data: dict[str, Any] = {}
        try:
            for root in self._roots:
                if root.permission is None:  # __typename
                    data[root.response_name] = root.complete(None)
                    continue
                if not permitted(context, root.permission):
                    return None  # the guard answers the refusal on graphql-core's path
                value = _resolve(root, context)
                if isawaitable(value):
                    value = await value
                data[root.response_name] = execution.complete_for(context, root.complete, value)
        except Exception:
            return None
        return data


def _resolve(root: _Root, context: Any) -> Any:
    raw: GraphQLResolveInfo[Any] = GraphQLResolveInfo._make(
        (*root.info_head, context, *root.info_tail)
    )
    info = root.info_class(_raw_info=raw, _field=root.definition)
    kwargs = dict(root.kwargs)
    if root.info_name is not None:
        kwargs[root.info_name] = info
    return root.definition.get_result(None, info, [None] if root.passes_self else [], kwargs)


def compile_root_plan(
    schema: strawberry.Schema,
    document: DocumentNode,
    context: Any,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> RootPlan | None:
    """The body's plan, or None when any part of it is not one this module runs exactly."""
    executor = schema.execution_context_class
    if not (isinstance(executor, type) and issubclass(executor, execution.FastExecutionContext)):
        return None
    core = schema._schema
    built = executor.build(
        core,
        document,
        None,
        context,
        variables,
        operation_name,
        is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
    )
    if (
        not isinstance(built, execution.FastExecutionContext)
        or built.operation.operation != OperationType.QUERY
    ):
        return None
    query = core.query_type
    if query is None:
        return None
    grouped, defer_usages, *_ = collect_fields(
        core, built.fragments, built.variable_values, query, built.operation
    )
    if defer_usages:
        return None
    roots = []
    for response_name, details in grouped.items():
        root = _compile_root(schema, built, query, response_name, details)
        if root is None:
            return None
        roots.append(root)
    return RootPlan(roots)


def _compile_root(
    schema: strawberry.Schema,
    built: execution.FastExecutionContext,
    query: GraphQLObjectType,
    response_name: str,
    details: Sequence[Any],
) -> _Root | None:
    nodes: list[FieldNode] = [each.node for each in details]
    name = nodes[0].name.value
    if name == "__typename":
        return _typename(response_name, query.name)
    field = query.fields.get(name)
    complete = built.shared_completer(field.type, list(details)) if field else None
    if field is None or complete is None or details[0].fragment_variable_values is not None:
        return None
    called = _call(schema, built.variable_values, field, nodes[0])
    if called is None:
        return None
    definition, permission, kwargs = called
    resolver = definition.base_resolver
    path = Path(None, response_name, query.name)
    head = (name, nodes, field.type, query, path, built.schema, built.fragment_definitions)
    info_parameter = resolver.info_parameter
    return _Root(
        response_name,
        permission,
        (*head, None, built.operation, built.variable_values),
        (built.is_awaitable, None, _NO_HELPERS),
        definition,
        schema.config.info_class,
        kwargs,
        info_parameter.name if info_parameter is not None else None,
        resolver.self_parameter is not None,
        complete,
    )


def _call(
    schema: strawberry.Schema, variables: Any, field: GraphQLField, node: FieldNode
) -> tuple[Any, Permission, dict[str, Any]] | None:
    """The strawberry field, its permission and its arguments converted, when its resolver
    may be called directly: guarded, no field extensions or exception handlers, no parent or
    root parameter, and arguments nothing can change in place."""
    permission = guarded_permission(field.resolve)
    definition = (field.extensions or {}).get(_DEFINITION)
    resolver = getattr(definition, "base_resolver", None)
    if permission is None or definition is None or resolver is None or definition.extensions:
        return None
    converter = schema.schema_converter
    if converter._get_field_exception_handlers(definition):
        return None
    if resolver.parent_parameter is not None or resolver.root_parameter is not None:
        return None
    coerced = get_argument_values(field, node, variables)
    kwargs = convert_arguments(
        coerced,
        definition.arguments,
        scalar_registry=converter.scalar_registry,
        config=schema.config,
    )
    if not all(isinstance(value, _IMMUTABLE) for value in kwargs.values()):
        return None
    return definition, permission, kwargs


def _typename(response_name: str, name: str) -> _Root:
    return _Root(response_name, None, (), (), None, type, {}, None, False, lambda _: name)
