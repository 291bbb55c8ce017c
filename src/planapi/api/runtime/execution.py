"""Faster execution of the in-memory part of a query: a plan version's tree.

graphql-core completes every field through the same general machinery (an info object, a path,
argument coercion, awaitable checks), and strawberry wraps each resolver in more of it: about
5 µs a field, which is most of the cost of a 1,000-KPI plan tree. Below `plan(...)` almost every
field is a plain attribute or a synchronous method of an immutable object, so this execution
context compiles, once per selection set and request, a tree of small closures that read and
serialise those fields directly, and runs them per object.

It only takes over a field when the whole subtree below it is *pure*: every field there is a
strawberry field without arguments, extensions (permissions), `info`, or an async resolver — or
one that declares how to answer from its parent and the context alone, asked without arguments
(`at_once`: a KPI's latest reading and progress from the summary its plan query caught up) —
and no selection asks for `@defer`/`@stream`. Anything else — an async field such as `Kpi.readings`,
a field with arguments, any schema extension that wraps resolvers (tracing) — goes through
graphql-core as before, and so does a pure subtree whose closure raised: it is executed again
the ordinary way, which produces exactly the errors and nulls GraphQL prescribes (reading pure
fields twice has no effect). A test compares both executions on many documents.

Before any of that, variables of an input type with a fast input (`api.runtime.fast_inputs`) are
decoded by it instead of graphql-core's coercion, when it accepts them.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution import Executor
from graphql.execution.collect_fields import FieldDetails
from graphql.pyutils import Path, Undefined
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from planapi.api.runtime import direct_reading
from planapi.api.runtime.compiled import (
    Entry,
    ast_key,
    field_reading,
    list_completer,
    object_completer,
    shared_plans,
)
from planapi.api.runtime.fast_inputs import decode_variables
from planapi.api.types.dashboard import AT_ONCE

Getter = Callable[[Any], Any]
Completer = Callable[[Any], Any]

_DEFINITION = "strawberry-definition"
# The context of the request whose compiled plan runs now (plans are shared between requests).
_REQUEST: ContextVar[Any] = ContextVar("planapi_compiled_request")
_STREAMING = frozenset({"defer", "stream"})


class _Bail(Exception):
    """A closure met something it does not handle: execute the field the ordinary way."""


def _weak_helpers(executor: Executor[Any]) -> GraphQLResolveInfoHelpers:
    """graphql-core's resolver helpers (`info.async_helpers`), holding the executor weakly.

    graphql-core builds them from the executor's bound methods and keeps them on it: a reference
    cycle, so every execution's whole object graph (context, loaders, variables, collected
    fields: ~80 objects) outlived its request until a collection found it — and what a young
    collection promoted waited for a full one, which the server's thresholds put off for tens
    of minutes (docs/performance.md, "The soak"). A resolver calls them only while its
    execution runs, which holds the executor; after that there is nothing left to track."""
    gather = weakref.WeakMethod(executor.gather_async_work)
    track = weakref.WeakMethod(executor.track_async_work)

    def gathered(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        method = gather()
        assert method is not None, "gathered after its execution ended"
        return method(values)

    def tracked(values: Sequence[Any]) -> None:
        method = track()
        if method is not None:
            method(values)

    return GraphQLResolveInfoHelpers(gather=gathered, track=tracked)


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, with pure subtrees completed by compiled closures."""

    # False: plain strawberry execution (the tests' and benchmarks' baseline).
    enabled = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _weak_helpers(self)
        manager = self.middleware_manager
        # A schema extension that wraps every resolver (tracing, say) must see every field.
        self._fast = self.enabled and not (manager is not None and manager._middleware_resolvers)
        self._direct_on = direct_reading.ENABLED
        fast, operation = self._fast, self.operation
        shared = shared_plans(operation, self.fragments, self._direct_on) if fast else None
        # (type, AST nodes of the field) -> its plan; shared between requests when they may be.
        self._field_plans: dict[tuple[GraphQLObjectType, tuple[int, ...]], Entry | None]
        self._object_plans: dict[tuple[GraphQLObjectType, tuple[int, ...]], Completer | None]
        self._direct_plans: dict[tuple[GraphQLObjectType, tuple[int, ...]], Any]
        self._field_plans, self._object_plans, self._direct_plans = shared or ({}, {}, {})
        self._shared = shared is not None

    @classmethod
    def build(
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        raw_variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> list[GraphQLError] | Executor[Any]:
        """graphql-core's, except for the variables a fast input decodes: graphql-core coerces
        the fast input's placeholder in their stead, then the decoded values replace it (and
        the sources keep the values as sent)."""
        sent = raw_variable_values
        decoded = decode_variables(schema, document, operation_name, sent) if cls.enabled else {}
        if sent is not None and decoded:
            raw_variable_values = {**sent, **{name: p for name, (p, _) in decoded.items()}}
        built = super().build(
            schema,
            document,
            root_value,
            context_value,
            raw_variable_values,
            operation_name,
            *args,
            **kwargs,
        )
        if sent is not None and decoded and not isinstance(built, list):
            values = built.variable_values
            for name, (_, value) in decoded.items():
                values.coerced[name] = value
                values.sources[name] = values.sources[name]._replace(value=sent[name])
        return built

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: list[FieldDetails],
        path: Path,
        position_context: Any,
    ) -> Any:
        if self._fast:
            key = (parent_type, ast_key(field_details_list))
            if key in self._field_plans:
                plan = self._field_plans[key]
            else:
                plan = self._field_plans[key] = self._plan_field(parent_type, field_details_list)
            if plan is not None:
                request = _REQUEST.set(self.context_value)
                try:
                    return plan.complete(plan.read(source))
                except Exception:
                    pass
                finally:
                    _REQUEST.reset(request)
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def shared_completer(
        self, return_type: GraphQLOutputType, field_details_list: list[FieldDetails]
    ) -> Completer | None:
        """A root field's whole completion, for `api.runtime.root_plan`: only when compiled
        plans are on and shared between requests (the completion outlives this one)."""
        if not self._fast or not self._shared or not _plain(field_details_list):
            return None
        return self._completer(return_type, field_details_list)

    # -- compiling -------------------------------------------------------------------------
    def _plan_field(
        self,
        parent_type: GraphQLObjectType,
        field_details_list: list[FieldDetails],
        response_name: str = "",
    ) -> Entry | None:
        if not _plain(field_details_list):
            return None
        name = field_details_list[0].node.name.value
        if name == "__typename":
            type_name = parent_type.name
            read: Getter = lambda source: type_name  # noqa: E731
            return Entry(response_name, read, None, _identity, _identity, None, False)
        field = parent_type.fields.get(name)
        if field is None:
            return None
        getter, attribute = field_reading(field)
        if getter is None:
            getter = _at_once(field, field_details_list)
        if getter is None:
            return None
        nullable = not isinstance(field.type, GraphQLNonNull)
        named = field.type if nullable else field.type.of_type
        inner = self._completer(named, field_details_list)
        if inner is None:
            return None
        complete = inner if nullable else _non_null(inner)
        leaf = named if is_leaf_type(named) else None
        return Entry(response_name, getter, attribute, complete, inner, leaf, nullable)

    def _completer(
        self, return_type: GraphQLOutputType, field_details_list: list[FieldDetails]
    ) -> Completer | None:
        if is_non_null_type(return_type):
            assert isinstance(return_type, GraphQLNonNull)
            inner = self._completer(return_type.of_type, field_details_list)
            return None if inner is None else _non_null(inner)
        if is_list_type(return_type):
            assert isinstance(return_type, GraphQLList)
            item_type = return_type.of_type
            items_non_null = isinstance(item_type, GraphQLNonNull)
            if items_non_null:
                item_type = item_type.of_type
            item = self._completer(item_type, field_details_list)
            return None if item is None else list_completer(item, items_non_null, _Bail)
        if is_leaf_type(return_type):
            return _leaf(return_type)
        if is_abstract_type(return_type):
            return self._abstract(return_type, field_details_list)
        if is_object_type(return_type):
            assert isinstance(return_type, GraphQLObjectType)
            return self._object(return_type, field_details_list)
        return None

    def _object(
        self, object_type: GraphQLObjectType, field_details_list: list[FieldDetails]
    ) -> Completer | None:
        key = (object_type, ast_key(field_details_list))
        if key in self._object_plans:
            return self._object_plans[key]
        complete = self._object_plans[key] = self._compile_object(object_type, field_details_list)
        return complete

    def _compile_object(
        self, object_type: GraphQLObjectType, field_details_list: list[FieldDetails]
    ) -> Completer | None:
        definition = (object_type.extensions or {}).get(_DEFINITION)
        origin = getattr(definition, "origin", None)
        if not isinstance(origin, type):
            return None
        view = direct_reading.view_of(object_type) if self._direct_on else None
        if view is not None and view.unwrap is not None:
            viewed = self._direct(object_type, field_details_list)
            if viewed is not None:  # a wrapper made above: from here on, its domain values
                return direct_reading.unwrapping(viewed, view.unwrap, origin, _Bail)
        grouped, defer_usages, *_ = self.collect_subfields(object_type, field_details_list)
        if defer_usages:
            return None
        entries: list[Entry] = []
        for response_name, details in grouped.items():
            plan = self._plan_field(object_type, details, response_name)
            if plan is None:
                return None
            entries.append(plan)
        return object_completer(origin, object_type.is_type_of is not None, entries, _Bail)

    def _direct(self, object_type: GraphQLObjectType, details: list[FieldDetails]) -> Any:
        """A viewed type's completion from its domain values (`api.runtime.direct_reading`)."""
        key = (object_type, ast_key(details))
        if key not in self._direct_plans:
            found = direct_reading.compile_viewed(self, object_type, details, _Bail)
            self._direct_plans[key] = found
        return self._direct_plans[key]

    def _abstract(
        self, abstract_type: GraphQLAbstractType, field_details_list: list[FieldDetails]
    ) -> Completer | None:
        # Every possible type compiled now, so the closure keeps nothing of this request (it
        # may serve the next ones); a value of any other class bails.
        by_class: dict[type, Completer] = {}
        for runtime in self.schema.get_possible_types(abstract_type):
            origin = getattr((runtime.extensions or {}).get(_DEFINITION), "origin", None)
            compiled = self._object(runtime, field_details_list)
            if isinstance(origin, type) and compiled is not None:
                by_class[origin] = compiled

        def complete(value: Any) -> Any:
            if value is None:
                return None
            found = by_class.get(type(value))
            if found is None:
                raise _Bail
            return found(value)

        return complete


def complete_for(context: Any, complete: Completer, value: Any) -> Any:
    """`complete(value)` for the request of `context` (what fields answered at once read)."""
    request = _REQUEST.set(context)
    try:
        return complete(value)
    finally:
        _REQUEST.reset(request)


def _at_once(field: GraphQLField, details_list: list[FieldDetails]) -> Getter | None:
    """A field that declares how to answer from its parent and the request's context alone
    (`api.types.dashboard.at_once`), asked without arguments: that answer, or `NotYet` (then the
    field runs the ordinary way). Compiled plans serve many requests, so the context is the
    one of the request executing now, never one captured at compile time."""
    definition = (field.extensions or {}).get(_DEFINITION)
    answer = (getattr(definition, "metadata", None) or {}).get(AT_ONCE)
    if answer is None or any(details.node.arguments for details in details_list):
        return None
    return lambda source: answer(source, _REQUEST.get())


def _plain(field_details_list: list[FieldDetails]) -> bool:
    for details in field_details_list:
        if details.fragment_variable_values is not None or details.defer_usage is not None:
            return False
        directives = details.node.directives
        if directives and any(d.name.value in _STREAMING for d in directives):
            return False
    return True


def _identity(value: Any) -> Any:
    return value


def _non_null(inner: Completer) -> Completer:
    def complete(value: Any) -> Any:
        completed = inner(value)
        if completed is None:
            raise _Bail
        return completed

    return complete


def _leaf(leaf_type: GraphQLLeafType) -> Completer:
    coerce = leaf_type.coerce_output_value

    def complete(value: Any) -> Any:
        if value is None:
            return None
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _Bail
        return coerced

    return complete
