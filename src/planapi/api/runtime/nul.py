"""NUL characters (U+0000) are refused where they enter, naming the field, on every backend.

PostgreSQL cannot store U+0000 in text or JSON; SQLite can. Rather than let one backend fail
deep inside a write (a masked 500 and a traceback per request) and the other keep what the
first would refuse, every boundary refuses it alike: GraphQL variables and argument literals
(`BAD_USER_INPUT` with the field's path), HTTP paths, query parameters and headers (`400`),
NDJSON fields and CSV cells (a problem on their line). Searching is cheap when there is
nothing to find: a C-speed scan of serialised bytes first, the walk that names the field only
when that finds something.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import chain
from typing import Any
from urllib.parse import parse_qsl

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from planapi.api.runtime.byte_search import holds

NUL = "\x00"


def message(field: str) -> str:
    return f"{field} contains a NUL character (U+0000), which cannot be stored: remove it"


def nul_path(value: Any, path: str) -> str | None:
    """The path of the first string (or key) in a JSON-like value that holds a NUL, depth
    first. Without recursion: variables nested past what orjson writes (254 levels) are walked
    here, and a thousand levels must not end in a RecursionError shown to the caller."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                return path
        elif isinstance(value, Mapping):
            for key, item in reversed(list(value.items())):  # popped in their own order
                inner = f"{path}.{key}" if path else str(key)
                stack.append((item, inner))
                if isinstance(key, str):
                    stack.append((key, inner))  # a key is looked at before its value
        elif isinstance(value, list | tuple):
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(list(enumerate(value))))
    return None


def in_variables(variables: Mapping[str, Any] | None) -> str | None:
    if not variables:
        return None
    try:
        dumped = orjson.dumps(variables)
    except TypeError:  # integers past 64 bits: walk it
        dumped = b"\\u0000"
    if not holds(dumped, b"\\u0000"):
        return None
    found = nul_path(variables, "")
    return f"${found}" if found is not None else None


def in_document(query: str | None, document: DocumentNode | None) -> str | None:
    """The argument (`plan.id`, `amendPlan.input.rationale`) whose literal holds a NUL."""
    if document is None or not query or "\\u" not in query:  # only escapes can make one
        return None
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            found = next(_selections(definition.selection_set, ""), None)
            if found is not None:
                return found
    return None


def _selections(selection_set: SelectionSetNode | None, path: str) -> Iterator[str]:
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            here = f"{path}.{selection.name.value}" if path else selection.name.value
            for argument in selection.arguments or ():
                yield from _values(argument.value, f"{here}.{argument.name.value}")
            yield from _selections(selection.selection_set, here)
        elif isinstance(selection, InlineFragmentNode):
            yield from _selections(selection.selection_set, path)


def _values(value: ValueNode, path: str) -> Iterator[str]:
    if isinstance(value, StringValueNode) and NUL in value.value:
        yield path
    elif isinstance(value, ObjectValueNode):
        for field in value.fields:
            yield from _values(field.value, f"{path}.{field.name.value}")
    elif isinstance(value, ListValueNode):
        for index, item in enumerate(value.values):
            yield from _values(item, f"{path}[{index}]")


class NulRefusal(SchemaExtension):
    """Refuses, before execution, a request whose variables or argument literals hold a NUL."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None:
            field = in_variables(context.variables) or in_document(
                context.query, context.graphql_document
            )
            if field is not None:
                error = GraphQLError(
                    message(field), extensions={"code": "BAD_USER_INPUT", "field": field}
                )
                if context.operation_type is OperationType.SUBSCRIPTION:
                    raise error  # strawberry answers a subscription's on_execute error
                context.result = ExecutionResult(data=None, errors=[error])
        yield


def in_json_line(raw: bytes) -> str | None:
    """The field of an NDJSON line (JSON escapes only: a raw NUL is not JSON) holding a NUL."""
    if not holds(raw, b"\\u0000"):
        return None
    try:
        return nul_path(orjson.loads(raw), "")
    except orjson.JSONDecodeError:
        return None  # the decoder says what is wrong with it


def in_request(path: str, query_string: bytes, headers: list[tuple[bytes, bytes]]) -> str | None:
    """Which part of an HTTP request holds a NUL: the path, a query parameter, a header."""
    if NUL in path:
        return "the path"
    if holds(query_string, b"%00") or 0 in query_string:
        decoded = query_string.decode("latin-1")
        for name, value in parse_qsl(decoded, keep_blank_values=True, encoding="latin-1"):
            if NUL in name or NUL in value:
                return f"query parameter {name.replace(NUL, '')!r}"
        return "the query string"
    # One search over all of them (every request asks): a third of a search per header.
    if 0 not in b"".join(chain.from_iterable(headers)):
        return None
    for header, content in headers:
        if 0 in content or 0 in header:
            return f"header {header.decode('latin-1').replace(NUL, '')!r}"
    return None
