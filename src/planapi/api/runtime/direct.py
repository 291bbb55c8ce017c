"""Queries run straight through graphql-core once strawberry's whole path has accepted them.

strawberry's path around the execution costs more than a small query's execution itself:
every request makes and enters each schema extension (parse and validation caches, token
limit, shape, NUL refusal, cost, error masking, metrics), walks the document for its cost and
its variables for NULs, and forms the answer through the view's hooks. What all those checks
decide depends only on the request's body (the document, the variables, the operation name) and
the caller's role (its token limit and cost budget). So once a body has been answered by the
whole path for a role with data and without any error, the same body from the same role is
executed here: graphql-core with the schema's own execution context (compiled execution), the
request's context, the same resolvers — a root field's permission is checked in its resolver
(`api.runtime.guard`), every time — and the metrics' observers told of the operation. Before
that, the body's root fields compiled once (`api.runtime.root_plan`: what graphql-core and
strawberry do per request before a resolver runs, done once) answer when they can; whatever
they cannot answer exactly goes on to graphql-core.

An answer with errors is never sent from here: it is dropped and the request takes the whole
path, which forms, masks, logs and counts its errors and sets its status. Only queries come
here, which read and change nothing, so running one twice is harmless.

Off when the schema has an extension it does not know (tracing wraps every resolver), or
schema directives (strawberry runs them as resolver middleware).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from inspect import isawaitable
from typing import Any

import strawberry
from graphql import DocumentNode, execute
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import AddValidationRules, MaskErrors

from planapi.api.runtime.cost import QueryCostLimiter
from planapi.api.runtime.failures import UnavailableErrors
from planapi.api.runtime.nul import NulRefusal
from planapi.api.runtime.parsing import OffLoopParser, RoleTokenLimiter
from planapi.api.runtime.root_plan import RootPlan, compile_root_plan
from planapi.api.runtime.shape import ShapeFirstValidation
from planapi.api.types.outcomes import user_errors

# What these extensions do to a request is decided by its body and role (checked once on the
# whole path), or only touches answers with errors (never sent from here).
_DECIDED_BY_BODY_AND_ROLE = (
    AddValidationRules,
    RoleTokenLimiter,
    OffLoopParser,
    ShapeFirstValidation,
    NulRefusal,
    QueryCostLimiter,
    MaskErrors,
    UnavailableErrors,
)

Observer = Callable[[str | None, str, str, float], None]


class Direct:
    def __init__(self, schema: strawberry.Schema) -> None:
        self.observers: list[Observer] = []
        self.enabled = not schema.directives
        for extension in schema.get_extensions():
            observe = getattr(extension, "observes_operations", None)
            if callable(observe):
                self.observers.append(observe)
            elif not isinstance(extension, _DECIDED_BY_BODY_AND_ROLE):
                self.enabled = False
        self._strawberry = schema
        self._schema = schema._schema
        self._executor = schema.execution_context_class
        self.runs = 0  # answered here
        self.errors = 0  # answered with errors here, then by the whole path

    async def run(
        self,
        document: DocumentNode,
        context: Any,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        extensions: dict[str, Any] | None,
        name: str | None = None,
        compiled: list[RootPlan | None] | None = None,
    ) -> dict[str, Any] | None:
        """The query's data; None when it answered with errors (take the whole path). `name`:
        the operation's own (the metrics'), when the request named none. `compiled`: where
        the body keeps its root plan (`api.runtime.root_plan`), compiled on its first run."""
        noted: list[str] = []
        token = user_errors.set(noted)
        started = time.perf_counter()
        try:
            plan = self._plan(compiled, document, context, variables, operation_name)
            data = await plan.run(context) if plan is not None else None
            if data is not None:
                return self._answered(data, noted, name, started)
            result = execute(
                self._schema,
                document,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                executor_class=self._executor,
                is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                operation_extensions=extensions,
            )
            if isawaitable(result):
                result = await result
        finally:
            user_errors.reset(token)
        if result.errors or result.data is None:
            self.errors += 1
            return None
        return self._answered(result.data, noted, name, started)

    def _answered(
        self, data: dict[str, Any], noted: list[str], name: str | None, started: float
    ) -> dict[str, Any]:
        self.runs += 1
        elapsed = time.perf_counter() - started
        outcome = "user_error" if noted else "success"
        for observe in self.observers:
            observe(name, "query", outcome, elapsed)
        return data

    def _plan(
        self,
        compiled: list[RootPlan | None] | None,
        document: DocumentNode,
        context: Any,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> RootPlan | None:
        if compiled is None:
            return None
        if not compiled:
            try:
                plan = compile_root_plan(
                    self._strawberry, document, context, variables, operation_name
                )
            except Exception:  # what graphql-core refuses, it refuses on its own path
                plan = None
            compiled.append(plan)
        return compiled[0]


def name_arguments(schema: strawberry.Schema) -> None:
    """Give every field argument its GraphQL name once: strawberry otherwise derives it again
    (camel-casing the Python name) for each argument of each field on every call."""
    names = schema.config.name_converter
    for named in schema._schema.type_map.values():
        for field in (getattr(named, "fields", None) or {}).values():
            definition = (getattr(field, "extensions", None) or {}).get("strawberry-definition")
            for argument in getattr(definition, "arguments", None) or ():
                if argument.graphql_name is None:
                    argument.graphql_name = names.get_graphql_name(argument)
