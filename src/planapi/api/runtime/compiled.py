"""Python generated for one object type's selection set: one function per object that reads and
completes every selected field inline, for `api.runtime.execution`.

Closures composed per field cost three or four Python calls per field (the dict's entry, the
getter, the non-null check, the leaf's coercion): on a 1,000-KPI tree, most of the time of a
read. The generated function reads a plain attribute as `value.name`, passes a built-in scalar
that is already what GraphQL sends (a `str` for String and ID, a `bool`, a 32-bit `int`) without
a call, and calls the field's completer only for anything else; it raises the same `_Bail` the
closures raise, so what happens then does not change.

The source depends only on the selection's shape (names, which fields are inline), never on
values: the functions that make it are compiled once per shape and kept (a bounded number).
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLString,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.pyutils import Undefined

Completer = Callable[[Any], Any]
Getter = Callable[[Any], Any]

MAX_FACTORIES = 2_048
# A value the built-in scalar sends as it is (graphql-core's own coercion returns it unchanged).
_AS_IS = {
    id(GraphQLString): "x.__class__ is str",
    id(GraphQLID): "x.__class__ is str",
    id(GraphQLBoolean): "x.__class__ is bool",
    id(GraphQLInt): "(x.__class__ is int and -2147483648 <= x <= 2147483647)",
}
_FACTORIES: dict[str, Callable[..., Completer]] = {}
_DEFINITION = "strawberry-definition"


@dataclass(frozen=True, slots=True)
class Entry:
    """One selected field: its response name, how to read it, how to complete its value."""

    response_name: str
    read: Callable[[Any], Any]
    attribute: str | None  # read as `value.<attribute>` when set
    complete: Completer  # the whole completion (non-null check included)
    inner: Completer  # the same without the non-null check
    leaf: GraphQLLeafType | None  # the named scalar, when the field's type is one
    nullable: bool


# Per schema field (by id, the field kept alive beside it): how to read it from its parent
# object (None when it is not pure), and the attribute it is when it is a plain one.
_GETTERS: dict[int, tuple[GraphQLField, Getter | None, str | None]] = {}


def field_reading(field: GraphQLField) -> tuple[Getter | None, str | None]:
    """A plain function reading `field` from its parent object (None if it needs more), and
    the attribute it is when it is a plain one."""
    found = _GETTERS.get(id(field))
    if found is None:
        getter = _getter(field)
        definition = (field.extensions or {}).get(_DEFINITION)
        plain = getter is not None and definition is not None and definition.base_resolver is None
        attribute = inline_attribute(definition.python_name) if plain and definition else None
        found = _GETTERS[id(field)] = (field, getter, attribute)
    return found[1], found[2]


def _getter(field: GraphQLField) -> Getter | None:
    definition = (field.extensions or {}).get(_DEFINITION)
    resolve = field.resolve
    if definition is None or resolve is None or field.args:
        return None
    # Only strawberry's own resolver wrapper: a field whose resolver was replaced (or wrapped
    # by someone else) is executed as it says.
    if not getattr(resolve, "__qualname__", "").startswith("GraphQLCoreConverter.from_resolver"):
        return None
    if definition.extensions or getattr(definition, "permission_classes", None):
        return None
    resolver = definition.base_resolver
    if resolver is None:
        name = definition.python_name
        return lambda source: getattr(source, name)
    if resolver.is_async or resolver.arguments:
        return None
    reserved = resolver.reserved_parameters
    wanted = [name for name, parameter in reserved.items() if parameter is not None]
    if [getattr(name, "name", None) for name in wanted] != ["self"]:
        return None
    function = resolver.wrapped_func
    if not callable(function):
        return None
    return function  # type: ignore[no-any-return]


def as_is(leaf: GraphQLLeafType | None) -> bool:
    return leaf is not None and id(leaf) in _AS_IS


def inline_attribute(name: str | None) -> str | None:
    return name if name and name.isidentifier() and not keyword.iskeyword(name) else None


def object_completer(
    origin: type, checks: bool, entries: Sequence[Entry], bail: type[Exception]
) -> Completer:
    """A function completing one object (None stays None) with every entry's field."""
    names: list[str] = ["origin", "bail", "undefined"]
    values: list[object] = [origin, bail, Undefined]
    lines: list[str] = []
    for n, entry in enumerate(entries):
        if entry.attribute is not None:
            lines.append(f"    x = value.{entry.attribute}")
        else:
            names.append(f"g{n}")
            values.append(entry.read)
            lines.append(f"    x = g{n}(value)")
        lines += completion(n, entry, names, values)
    # Response names are GraphQL names ([_A-Za-z][_0-9A-Za-z]*): safe in a literal.
    result = ", ".join(f"{entry.response_name!r}: r{n}" for n, entry in enumerate(entries))
    head = ["    if value is None:", "        return None"]
    if checks:
        head += ["    if not isinstance(value, origin):", "        raise bail"]
    return make(  # type: ignore[no-any-return]
        names,
        values,
        ["  def complete(value):", *("  " + line for line in head)],
        [*lines, "    return {" + result + "}"],
    )


def make(
    names: list[str], values: list[object], head: list[str], body: list[str], name: str = "complete"
) -> Any:
    """The function `name` that `head` + `body` define (indented under a factory taking
    `names`), made with `values`; the factory compiled once per source."""
    source = "\n".join(
        [
            f"def factory({', '.join(names)}):",
            *head,
            *("  " + line for line in body),
            f"  return {name}",
        ]
    )
    factory = _FACTORIES.get(source)
    if factory is None:
        namespace: dict[str, Any] = {}
        exec(compile(source, "<planapi compiled selection>", "exec"), namespace)
        factory = namespace["factory"]
        if len(_FACTORIES) >= MAX_FACTORIES:
            _FACTORIES.pop(next(iter(_FACTORIES)))
        _FACTORIES[source] = factory
    return factory(*values)


def completion(n: int, entry: Entry, names: list[str], values: list[object]) -> list[str]:
    """Lines completing `x` into `r<n>`; the functions they call appended to names/values."""
    leaf = entry.leaf
    if leaf is not None and id(leaf) in _AS_IS:
        names.append(f"c{n}")
        values.append(entry.complete)
        test = _AS_IS[id(leaf)]
        test = f"x is None or {test}" if entry.nullable else test
        return [f"    r{n} = x if {test} else c{n}(x)"]
    if leaf is not None:  # a custom scalar: its coercion, checked as graphql-core checks it
        names.append(f"s{n}")
        values.append(leaf.coerce_output_value)
        absent = f"    r{n} = None" if entry.nullable else "    raise bail"
        return [
            "    if x is None:",
            "  " + absent,
            "    else:",
            f"      r{n} = s{n}(x)",
            f"      if r{n} is None or r{n} is undefined:",
            "        raise bail",
        ]
    names.append(f"c{n}")
    values.append(entry.inner)
    lines = [f"    r{n} = c{n}(x)"]
    if not entry.nullable:
        lines += [f"    if r{n} is None:", "      raise bail"]
    return lines


def list_completer(item: Completer, items_non_null: bool, bail: type[Exception]) -> Completer:
    """A list's completion; with non-null items, a null among them bails once, after."""

    def complete(value: Any) -> Any:
        if value is None:
            return None
        if value.__class__ is not list and (
            isinstance(value, str | bytes | dict) or not hasattr(value, "__iter__")
        ):
            raise bail
        completed = [item(each) for each in value]
        if items_non_null and None in completed:
            raise bail
        return completed

    return complete


# -- plans kept from one request to the next ------------------------------------------------
# strawberry parses a document once (its parser cache), so a repeated query executes the same
# AST: what was compiled for it holds as long as nothing in it depends on the variables, which
# only directives (@skip, @include, @defer, @stream) can make it do. Keyed by the operation's
# id, with the operation and its fragments kept alive so no other node can take their ids.
MAX_SHARED_OPERATIONS = 256
Plans = tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]]
_SHARED: dict[
    tuple[int, bool], tuple[OperationDefinitionNode, list[FragmentDefinitionNode], Plans | None]
] = {}


def shared_plans(
    operation: OperationDefinitionNode, fragments: dict[str, Any], direct: bool
) -> Plans | None:
    """The field, object and viewed-object plans every execution of `operation` may share
    (`direct`: with viewed types read from their domain values); None when its selections
    carry directives (compiled per request then)."""
    key = (id(operation), direct)
    found = _SHARED.get(key)
    if found is not None and found[0] is operation:
        return found[2]
    kept: list[FragmentDefinitionNode] = [details.definition for details in fragments.values()]
    plain = not _directed(operation.selection_set) and not any(
        _directed(fragment.selection_set) or fragment.variable_definitions for fragment in kept
    )
    plans: Plans | None = ({}, {}, {}) if plain else None
    if len(_SHARED) >= MAX_SHARED_OPERATIONS:
        _SHARED.pop(next(iter(_SHARED)))
    _SHARED[key] = (operation, kept, plans)
    return plans


def _directed(selection_set: SelectionSetNode | None) -> bool:
    if selection_set is None:
        return False
    for selection in selection_set.selections:
        if selection.directives:
            return True
        if _directed(getattr(selection, "selection_set", None)):
            return True
    return False


def ast_key(field_details_list: Sequence[Any]) -> tuple[int, ...]:
    """The AST nodes a (merged) field comes from: what its plan depends on besides the type."""
    return tuple([id(details.node) for details in field_details_list])
