"""The compiled executor reading viewed types (`api.types.views`) from their domain values.

A viewed type's selection compiles into one generated function of (value, plan): each field
with a reader in the view is read from the domain value (a `Node`, a `Measurement`) inline or
through the reader, and a field of another viewed type passes its domain value on to that
type's function; any other field (at once, `references`, abstract types) reads from the wrapper
the view builds, once per object and only when such a field is selected. What is read and how
it is completed is what the wrappers' resolvers give, so answers, errors and nulls do not
change: tests compare them with plain strawberry's, by example and on generated selections.

Where a wrapper made by an ordinary resolver meets a viewed type (`Plan.priorities`), the
completion unwraps it into (node, plan) and goes on directly below it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Protocol

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.pyutils import Undefined

from planapi.api.runtime.compiled import Entry, completion, inline_attribute, make
from planapi.api.types.views import VIEWS, Reader, View

# False: every field is read from the types' wrappers (the benchmark's and tests' baseline).
ENABLED = True
_DEFINITION = "strawberry-definition"

DirectCompleter = Callable[[Any, Any], Any]


class Compiling(Protocol):
    """What the execution context lends to compile a viewed selection."""

    def collect_subfields(self, return_type: GraphQLObjectType, details: Any) -> Any: ...

    def _plan_field(
        self, parent_type: GraphQLObjectType, details: Any, response_name: str = ""
    ) -> Entry | None: ...

    def _direct(self, object_type: GraphQLObjectType, details: Any) -> DirectCompleter | None: ...


@dataclass(frozen=True, slots=True)
class Part:
    """One selected field of a viewed type."""

    entry: Entry  # how the wrapper's field is read and completed
    reader: Reader | None  # from the domain value; None: from the wrapper
    nested: DirectCompleter | None  # the viewed type's completion of what it reads
    typename: str | None = None
    listed: bool | None = None  # a list of `nested`'s type: whether its items are non-null


def view_of(object_type: GraphQLObjectType) -> View | None:
    definition = (object_type.extensions or {}).get(_DEFINITION)
    return VIEWS.get(getattr(definition, "origin", None))  # type: ignore[arg-type]


def compile_viewed(
    context: Compiling, object_type: GraphQLObjectType, details: Any, bail: type[Exception]
) -> DirectCompleter | None:
    """The (value, plan) completion of a viewed type's selection; None if it has no view or
    a field cannot be compiled at all."""
    view = view_of(object_type)
    if view is None:
        return None
    grouped, defer_usages, *_ = context.collect_subfields(object_type, details)
    if defer_usages:
        return None
    parts: list[Part] = []
    for response_name, field_details in grouped.items():
        entry = context._plan_field(object_type, field_details, response_name)
        if entry is None:
            return None
        parts.append(_part(context, view, object_type, field_details, entry, bail))
    return _generate(object_type.name, view, parts, bail)


def _part(
    context: Compiling,
    view: View,
    object_type: GraphQLObjectType,
    details: Any,
    entry: Entry,
    bail: type[Exception],
) -> Part:
    name = details[0].node.name.value
    if name == "__typename":
        return Part(entry, None, None, object_type.name)
    field = object_type.fields[name]
    definition = (field.extensions or {}).get(_DEFINITION)
    reader = view.fields.get(getattr(definition, "python_name", ""))
    if reader is None:
        return Part(entry, None, None)
    named = _nullable(field.type)
    if is_leaf_type(named):
        return Part(entry, reader, None)
    if isinstance(named, GraphQLList):
        item = named.of_type
        item_type = _nullable(item)
        if is_leaf_type(item_type):  # the entry's list completion takes a tuple as a list
            return Part(entry, reader, None)
        if isinstance(item_type, GraphQLObjectType):
            found = context._direct(item_type, details)
            if found is not None:
                non_null = isinstance(item, GraphQLNonNull)
                return Part(entry, reader, found, listed=non_null)
    elif isinstance(named, GraphQLObjectType):
        found = context._direct(named, details)
        if found is not None:
            return Part(entry, reader, found)
    return Part(entry, None, None)


def _nullable(type_: GraphQLOutputType) -> GraphQLOutputType:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def unwrapping(
    direct: DirectCompleter,
    unwrap: Callable[[Any], tuple[Any, Any]],
    origin: type,
    bail: type[Exception],
) -> Callable[[Any], Any]:
    """The completion of a wrapper some resolver made, going on directly below it."""

    def complete(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, origin):
            raise bail
        return direct(*unwrap(value))

    return complete


def _generate(
    type_name: str, view: View, parts: Sequence[Part], bail: type[Exception]
) -> DirectCompleter:
    names: list[str] = ["bail", "undefined", "wrap", "repeat"]
    values: list[object] = [bail, Undefined, view.wrap, repeat]
    lines: list[str] = []
    if any(part.reader is None and part.typename is None for part in parts):
        lines.append("    w = None")
    for n, part in enumerate(parts):
        lines += _reading(n, part, names, values)
    result = ", ".join(f"{part.entry.response_name!r}: r{n}" for n, part in enumerate(parts))
    return make(  # type: ignore[no-any-return]
        names,
        values,
        # Named after the type (GraphQL names are identifiers): profiles tell them apart.
        [f"  def {type_name}(value, plan):", "      if value is None:", "        return None"],
        [*lines, "    return {" + result + "}"],
        type_name,
    )


def _reading(n: int, part: Part, names: list[str], values: list[object]) -> list[str]:
    entry = part.entry
    if part.typename is not None:
        names.append(f"t{n}")
        values.append(part.typename)
        return [f"    r{n} = t{n}"]
    reader = part.reader
    if reader is None:  # from the wrapper, made once
        lines = ["    if w is None:", "      w = wrap(value, plan)"]
        if entry.attribute is not None:
            lines.append(f"    x = w.{entry.attribute}")
        else:
            names.append(f"g{n}")
            values.append(entry.read)
            lines.append(f"    x = g{n}(w)")
        return lines + completion(n, entry, names, values)
    if isinstance(reader, str):
        lines = [f"    x = value.{_identifier(reader)}"]
    else:
        names.append(f"g{n}")
        values.append(reader)
        lines = [f"    x = g{n}(value, plan)"]
    if part.nested is None:
        return lines + completion(n, entry, names, values)
    names.append(f"d{n}")
    values.append(part.nested)
    absent = f"      r{n} = None" if entry.nullable else "      raise bail"
    if part.listed is None:
        return [*lines, "    if x is None:", absent, "    else:", f"      r{n} = d{n}(x, plan)"]
    # A list, inline: a reader returns a list or a tuple (anything else: the wrapper's path
    # says why); items completed by `map`, without a frame per list.
    return [
        *lines,
        "    if x is None:",
        absent,
        "    elif x.__class__ is list or x.__class__ is tuple:",
        f"      r{n} = list(map(d{n}, x, repeat(plan)))",
        *([f"      if None in r{n}:", "        raise bail"] if part.listed else []),
        "    else:",
        "      raise bail",
    ]


def _identifier(name: str) -> str:
    if inline_attribute(name) != name:
        raise ValueError(f"a view's attribute must be a Python identifier, not {name!r}")
    return name
