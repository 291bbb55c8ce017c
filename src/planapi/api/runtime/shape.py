"""How much a GraphQL document asks for once its fragments are expanded — counted without
expanding them, and refused before anything else walks it.

A fragment may spread another twice, that one the next twice, and so on: twenty such fragments
in 0.9 KB expand to a million selections, and every walker that follows spreads (graphql-core's
validation rules, the depth and alias limiters, the cost budget, the response cache's analysis)
would visit each of them. Here each fragment is measured once (memoised by name), so the count
costs one pass over the text as written, and a document whose expanded size is over
`max_selections` — or whose fragments spread themselves, which would never end — is refused
with a typed error before any of those walkers runs (`ShapeFirstValidation`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import ValidationCache

from planapi.api.runtime.parsing import Unparsable

TOO_COMPLEX = "QUERY_TOO_COMPLEX"
INVALID = "GRAPHQL_VALIDATION_FAILED"
DEFAULT_MAX_SELECTIONS = 2_000
DEFAULT_MAX_FIELD_PAIRS = 500
FRAGMENT_PAIR_WEIGHT = 5


class _Cycle(Exception):
    def __init__(self, path: list[str]) -> None:
        super().__init__(path)
        self.path = path


def expanded_selections(document: DocumentNode) -> int:
    """Fields, inline fragments and spreads of every operation, each spread counted with what
    it expands to. Raises _Cycle for fragments that spread themselves."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    sizes: dict[str, int] = {}
    visiting: list[str] = []

    def fragment(name: str) -> int:
        found = sizes.get(name)
        if found is not None:
            return found
        if name in visiting:
            raise _Cycle([*visiting[visiting.index(name) :], name])
        definition = fragments.get(name)
        if definition is None:
            return 0  # unknown: validation names it
        visiting.append(name)
        size = selections(definition.selection_set)
        visiting.pop()
        sizes[name] = size
        return size

    def selections(selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            total += 1
            if isinstance(selection, FieldNode | InlineFragmentNode):
                total += selections(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += fragment(selection.name.value)
        return total

    total = sum(selections(operation.selection_set) for operation in _operations(document))
    for name in fragments:  # unused ones too: a cycle among them must not reach the walkers
        fragment(name)
    return total


def field_pairs(document: DocumentNode) -> int:
    """The pairs graphql-core's OverlappingFieldsCanBeMerged rule compares: fields sharing a
    response name in one merged selection set (fragments and inline fragments included), and
    below them, their merged sub-selections; each pair of fragments spread in one selection
    set counts FRAGMENT_PAIR_WEIGHT (comparing two fragments costs several field pairs). Walks
    the expanded document: call it only on documents within the selection limit."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }

    def collect(
        selection_set: SelectionSetNode | None,
        into: dict[str, list[FieldNode]],
        names: set[str] | None,
        seen: set[str],
    ) -> None:
        """Fields by response name into `into`; the names of fragments spread in the set
        itself (not within fragments: those pairs are compared once each) into `names`. A
        fragment spread twice into one merged selection is collected once, as GraphQL does."""
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                into.setdefault((selection.alias or selection.name).value, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                collect(selection.selection_set, into, names, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if names is not None:
                    names.add(name)
                fragment = fragments.get(name)
                if fragment is not None and name not in seen:
                    seen.add(name)
                    collect(fragment.selection_set, into, None, seen)

    def pairs(selection_sets: Sequence[SelectionSetNode | None]) -> int:
        merged: dict[str, list[FieldNode]] = {}
        total, seen = 0, set[str]()
        for each in selection_sets:
            names: set[str] = set()
            collect(each, merged, names, seen)
            total += FRAGMENT_PAIR_WEIGHT * len(names) * (len(names) - 1) // 2
        for fields in merged.values():
            total += len(fields) * (len(fields) - 1) // 2
            below = [field.selection_set for field in fields if field.selection_set]
            if below:
                total += pairs(below)
        return total

    return sum(pairs([operation.selection_set]) for operation in _operations(document))


def _operations(document: DocumentNode) -> Iterator[OperationDefinitionNode]:
    return (d for d in document.definitions if isinstance(d, OperationDefinitionNode))


def shape_error(
    document: DocumentNode, max_selections: int, max_pairs: int = DEFAULT_MAX_FIELD_PAIRS
) -> GraphQLError | None:
    """Why the document is refused before validation, or None."""
    try:
        size = expanded_selections(document)
    except _Cycle as cycle:
        return GraphQLError(
            f"fragment {cycle.path[0]} spreads itself ({' → '.join(cycle.path)}): "
            "fragments may not form cycles",
            extensions={"code": INVALID, "fragment": cycle.path[0]},
        )
    except RecursionError:
        size = max_selections + 1  # nested past what Python can walk: far too large anyway
    if size > max_selections:
        return _too_complex(
            f"this document selects {size:,} fields once its fragments are expanded, over the "
            f"limit of {max_selections:,}: spread fewer fragments, or each fewer times",
            "selections",
            size,
            max_selections,
        )
    found = field_pairs(document)
    if found > max_pairs:
        return _too_complex(
            f"this document repeats fields and fragments in one selection so often that "
            f"checking they agree compares {found:,} pairs, over the limit of {max_pairs:,}: "
            "select each field once",
            "fieldPairs",
            found,
            max_pairs,
        )
    return None


def _too_complex(message: str, limit: str, found: int, most: int) -> GraphQLError:
    return GraphQLError(
        message, extensions={"code": TOO_COMPLEX, "limit": limit, "found": found, "max": most}
    )


@dataclass(frozen=True, slots=True)
class ShapeLimits:
    max_selections: int = DEFAULT_MAX_SELECTIONS
    max_field_pairs: int = DEFAULT_MAX_FIELD_PAIRS


# Documents that passed, by id (kept alive beside it, so no other takes the id), with the
# limits they passed: a repeated query is not walked again on every request.
_passed: dict[int, tuple[DocumentNode, ShapeLimits]] = {}
MAX_PASSED = 256


def _remember(document: DocumentNode, limits: ShapeLimits) -> None:
    if len(_passed) >= MAX_PASSED:
        _passed.pop(next(iter(_passed)))
    _passed[id(document)] = (document, limits)


class ShapeFirstValidation(ValidationCache):
    """strawberry's validation (cached), after the shape check: a refused document never
    reaches graphql-core's rules or the limiters, all of which expand every spread."""

    def __init__(self, limits: ShapeLimits, maxsize: int | None = 256) -> None:
        super().__init__(maxsize=maxsize)
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        limits = self.limits
        if isinstance(document, Unparsable):
            error: GraphQLError | None = document.error
        elif document is None:
            error = None
        elif _passed.get(id(document), (None, None))[1] == limits:
            error = None  # strawberry parses a repeated text once: the same document, checked
        else:
            error = shape_error(document, limits.max_selections, limits.max_field_pairs)
            if error is None:
                _remember(document, limits)
        if error is None:
            yield from super().on_validate()
            return
        context.pre_execution_errors = [error]
        yield
