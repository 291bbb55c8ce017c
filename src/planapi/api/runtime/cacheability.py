"""What a GraphQL document's answer depends on, decided from its text before it runs.

A query whose every root field names explicit versions (`plan(id, version: 3)`,
`planDiff(fromVersion, toVersion)`, `amendment(planId, version)`) and which reads nothing that
changes without a new plan version is *pinned*: its answer never changes, so it is cached for
good (`Cache-Control: immutable`). Any other query is *scoped* when every root field names the
one plan it reads (`plan(id:)`, `nodeHistory(planId:)`…): its answer then changes only with
those plans' versions, and their readings' heads if it selects a field of READINGS. Otherwise
(`plans`, `events`, `node(id:)`…) it depends on the heads of the logs (`application.freshness`).
`api.runtime.dependencies` turns this into the cache key.

What changes without a new plan version: KPI readings (`readings`, `latest`, `progress`), the
event feed, integrity reports, `nodeHistory` (a removed node's whole history), listings of the
latest versions. Root fields declare theirs (`api.types.root_fields.Caching`), fields below
are named in VOLATILE, and the analysis is conservative beyond that: any field whose resolver
reaches the request context (storage, the caller) and is not in PINNED_STORAGE_FIELDS counts as
volatile, so a field added later errs towards freshness.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_object_type,
)
from graphql.language import IntValueNode, NullValueNode, StringValueNode

from planapi.api.types.root_fields import Caching, declared

# Fields that read other plans' versions but no readings: an action plan's outputs and
# priorities list the activities of the operational plans implementing it, and its budget sums
# theirs. Which plans implement it is known only once it runs, so a scoped answer selecting one
# depends on the event log's head too (any plan's new version): never pinned, but a batch of
# readings leaves it where it was.
OTHER_PLANS = frozenset({("Output", "activities"), ("Priority", "activities"), ("Plan", "budget")})
# Fields below the roots whose answer changes without a new version of the plan being read
# (type, field). A root field declares its own (`api.types.root_fields.Caching`).
VOLATILE: frozenset[tuple[str, str]] = OTHER_PLANS | {
    ("Query", "__schema"),
    ("Query", "__type"),
    ("Kpi", "readings"),
    ("Kpi", "latest"),
    ("Kpi", "progress"),
}
# Volatile fields whose answer changes only with their plan's readings (and version): a scoped
# answer selecting one of them depends on the plan's newest batch too. Any other volatile field
# below the roots makes the answer depend on the heads of the logs.
READINGS: frozenset[tuple[str, str]] = frozenset(
    {
        ("Kpi", "readings"),
        ("Kpi", "readingsPage"),
        ("Kpi", "latest"),
        ("Kpi", "progress"),
        ("Kpi", "series"),
    }
)
# Fields never taken from a cache nor stored in one (no ETag either), since their answer can
# change while no version and no log head moves: a verdict re-reads stored bytes to judge them
# (tampering or a repair moves no head, and a verdict must reflect the bytes stored when it is
# asked), and a checkpoint is signed on a timer too. Root fields declare it (Caching.NEVER).
# Execution records (recordExecution) move neither log head, so what reads them is never cached.
UNCACHED: frozenset[tuple[str, str]] = frozenset(
    {
        ("Amendment", "inclusionProof"),
        ("Activity", "execution"),
        ("Plan", "implementation"),
        ("ProgressSummary", "implementation"),
    }
)
# Fields that reach storage but read only what a given version fixes: the amendments up to it,
# a node's history and blame up to it.
PINNED_STORAGE_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {("Plan", "amendments"), ("PlanNode", "history"), ("PlanNode", "blame")}
)
# Arguments that, given, make a root field depend on more than the versions it names.
# `inForceOn` reads every version up to the head (a later adoption can change the answer).
_UNPINNING_ARGUMENTS = frozenset({"asOf", "inForceOn"})

_DEFINITION = "strawberry-definition"


@dataclass(frozen=True, slots=True)
class Analysis:
    """`operation`: query, mutation or subscription (None: no single operation to run)."""

    operation: str | None
    volatile: bool
    # For each root field that can be pinned: its version arguments (an int or a variable
    # name); None when some root field can never be pinned.
    version_arguments: tuple[int | str, ...] | None
    uncached: bool = False  # reads a field of UNCACHED
    # The plans the root fields read (`=id` literally, `$name` a variable); None: any plan.
    plans: tuple[str, ...] | None = None
    readings: bool = False  # selects a field of READINGS
    other_plans: bool = False  # selects a field of OTHER_PLANS

    @property
    def cacheable(self) -> bool:
        return self.operation == "query" and not self.uncached

    def pinned(self, variables: Mapping[str, Any] | None) -> bool:
        """True when the answer depends only on explicit versions, given these variables."""
        if not self.cacheable or self.volatile or self.version_arguments is None:
            return False
        given = variables or {}
        for argument in self.version_arguments:
            value = given.get(argument) if isinstance(argument, str) else argument
            if not isinstance(value, int) or isinstance(value, bool):
                return False
        return True


NOT_CACHEABLE = Analysis(None, True, None)


def analyse(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Analysis:
    operation = _operation(document, operation_name)
    if operation is None:
        return NOT_CACHEABLE
    kind = operation.operation.value
    if kind != "query":
        return Analysis(kind, True, None)
    root = schema.query_type
    if root is None:
        return NOT_CACHEABLE
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    fields = list(_fields(schema, root, operation.selection_set, fragments, set(), {}))
    volatile = any(volatile_field(schema, parent, field) for parent, field in fields)
    uncached = any(_uncached(root, parent, field) for parent, field in fields)
    versions = _version_arguments(schema, root, operation, fragments)
    plans = _plan_arguments(root, operation, fragments)
    below = set().union(*(_dependencies(schema, p, f) for p, f in fields if p is not root))
    if "other" in below:
        plans = None
    return Analysis(
        kind, volatile, versions, uncached, plans, "readings" in below, "other plans" in below
    )


def _plan_arguments(
    root: GraphQLObjectType,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> tuple[str, ...] | None:
    """The plan each root field names (`=` and a literal id, or `$` and a variable's name);
    None as soon as one root field may read any plan."""
    found: list[str] = []
    for field in _root_fields(operation.selection_set, fragments, set()):
        name = field.name.value
        if name == "__typename":
            continue
        declaration = declared(root.fields[name]) if name in root.fields else None
        if declaration is None or declaration.plan is None:
            return None
        given = {argument.name.value: argument.value for argument in field.arguments or ()}
        value = given.get(declaration.plan)
        if isinstance(value, StringValueNode):
            found.append("=" + value.value)
        elif isinstance(value, VariableNode):
            found.append("$" + value.name.value)
        else:
            return None
    return tuple(dict.fromkeys(found)) if found else None


def _dependencies(schema: GraphQLSchema, parent: GraphQLNamedType, field_name: str) -> set[str]:
    """What a field below the roots adds to its plan's version: "readings", "other plans" (the
    event log's head), "other" (something beyond: the heads of the logs), or nothing."""
    if is_abstract_type(parent):
        possible = schema.get_possible_types(parent)
        return {found for each in possible for found in _dependencies(schema, each, field_name)}
    if not volatile_field(schema, parent, field_name):
        return set()
    if (parent.name, field_name) in READINGS:
        return {"readings"}
    return {"other plans"} if (parent.name, field_name) in OTHER_PLANS else {"other"}


def volatile_field(schema: GraphQLSchema, parent: GraphQLNamedType, field_name: str) -> bool:
    """Does `parent.field_name` (on any type `parent` may be) change without a new version?"""
    if field_name == "__typename":
        return False
    if is_abstract_type(parent):
        possible = schema.get_possible_types(parent)
        return any(volatile_field(schema, each, field_name) for each in possible)
    if not is_object_type(parent):
        return True
    assert isinstance(parent, GraphQLObjectType)
    if (parent.name, field_name) in VOLATILE:
        return True
    field = parent.fields.get(field_name)
    if field is None:
        return True
    if (parent.name, field_name) in PINNED_STORAGE_FIELDS or any(
        (interface.name, field_name) in PINNED_STORAGE_FIELDS for interface in parent.interfaces
    ):
        return False
    if parent is schema.query_type:
        return _caching(field) is not Caching.PINNABLE
    return _reaches_context(field)


def _caching(field: GraphQLField | None) -> Caching | None:
    declaration = declared(field) if field is not None else None
    return declaration.caching if declaration is not None else None


def _uncached(root: GraphQLObjectType, parent: GraphQLNamedType, field_name: str) -> bool:
    if parent is root:
        return _caching(root.fields.get(field_name)) is Caching.NEVER
    return (parent.name, field_name) in UNCACHED


def _reaches_context(field: GraphQLField) -> bool:
    """Does the field's resolver take `info` (the context: storage, the caller) or wait?"""
    definition = (field.extensions or {}).get(_DEFINITION)
    if definition is None:
        return True
    if definition.extensions:
        return True
    resolver = definition.base_resolver
    if resolver is None:
        return False
    if resolver.is_async:
        return True
    reserved = resolver.reserved_parameters
    return any(
        getattr(name, "name", None) not in ("self", "cls") and parameter is not None
        for name, parameter in reserved.items()
    )


def _operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    named = [op for op in operations if op.name is not None and op.name.value == operation_name]
    return named[0] if len(named) == 1 else None


def _fields(
    schema: GraphQLSchema,
    parent: GraphQLNamedType,
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    visiting: set[str],
    memo: dict[tuple[str, str], list[tuple[GraphQLNamedType, str]]],
) -> Iterator[tuple[GraphQLNamedType, str]]:
    """Every (parent type, field name) the selection set reads, through fragments, skipped or
    not (conservative). What a fragment reads on a type is gathered once (`memo`): fragments
    spreading fragments would otherwise be walked once per path to them."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            yield parent, name
            if selection.selection_set is not None:
                child = _field_type(schema, parent, name)
                if child is None:
                    yield parent, "\0unknown"
                    continue
                yield from _fields(
                    schema, child, selection.selection_set, fragments, visiting, memo
                )
        elif isinstance(selection, InlineFragmentNode):
            condition = (
                schema.get_type(selection.type_condition.name.value)
                if selection.type_condition
                else parent
            )
            if condition is None:
                yield parent, "\0unknown"
                continue
            yield from _fields(
                schema, condition, selection.selection_set, fragments, visiting, memo
            )
        elif isinstance(selection, FragmentSpreadNode):
            yield from _spread_fields(schema, parent, selection, fragments, visiting, memo)


def _spread_fields(
    schema: GraphQLSchema,
    parent: GraphQLNamedType,
    spread: FragmentSpreadNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    visiting: set[str],
    memo: dict[tuple[str, str], list[tuple[GraphQLNamedType, str]]],
) -> Iterator[tuple[GraphQLNamedType, str]]:
    """What a named fragment reads, as `_fields` walks it (once per fragment and type)."""
    name = spread.name.value
    fragment = fragments.get(name)
    if fragment is None:
        yield parent, "\0unknown"
        return
    if name in visiting:
        return
    condition = schema.get_type(fragment.type_condition.name.value)
    if condition is None:
        yield parent, "\0unknown"
        return
    key = (name, condition.name)
    found = memo.get(key)
    if found is None:
        inner = fragment.selection_set
        walked = _fields(schema, condition, inner, fragments, visiting | {name}, memo)
        found = memo[key] = list(dict.fromkeys(walked))
    yield from found


def _field_type(
    schema: GraphQLSchema, parent: GraphQLNamedType, name: str
) -> GraphQLNamedType | None:
    fields = getattr(parent, "fields", None)
    if not fields or name not in fields:
        if name == "__schema":
            return schema.get_type("__Schema")
        if name == "__type":
            return schema.get_type("__Type")
        return None
    named: GraphQLNamedType = get_named_type(fields[name].type)
    return named


def _version_arguments(
    schema: GraphQLSchema,
    root: GraphQLObjectType,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> tuple[int | str, ...] | None:
    """The version arguments of every root field, if each root field can be pinned."""
    found: list[int | str] = []
    roots = list(_root_fields(operation.selection_set, fragments, set()))
    if not roots:
        return None
    for field in roots:
        name = field.name.value
        if name == "__typename":
            continue
        declaration = declared(root.fields[name]) if name in root.fields else None
        if declaration is None or declaration.caching is not Caching.PINNABLE:
            return None
        wanted = declaration.versions
        given = {argument.name.value: argument.value for argument in field.arguments or ()}
        for unpinning in _UNPINNING_ARGUMENTS & given.keys():
            if not isinstance(given[unpinning], NullValueNode):
                return None
        for argument in wanted:
            value = given.get(argument)
            if isinstance(value, IntValueNode):
                found.append(int(value.value))
            elif isinstance(value, VariableNode):
                found.append(value.name.value)
            else:
                return None
    return tuple(found)


def _root_fields(
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    visiting: set[str],
) -> Iterator[FieldNode]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, visiting)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in visiting:
                yield from _root_fields(fragment.selection_set, fragments, visiting | {name})
