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

from collections.abc import Iterator
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

TOO_COMPLEX = "QUERY_TOO_COMPLEX"
INVALID = "GRAPHQL_VALIDATION_FAILED"
DEFAULT_MAX_SELECTIONS = 2_000


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


def _operations(document: DocumentNode) -> Iterator[OperationDefinitionNode]:
    return (d for d in document.definitions if isinstance(d, OperationDefinitionNode))


def shape_error(document: DocumentNode, max_selections: int) -> GraphQLError | None:
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
    if size <= max_selections:
        return None
    return GraphQLError(
        f"this document selects {size:,} fields once its fragments are expanded, over the "
        f"limit of {max_selections:,}: spread fewer fragments, or each fewer times",
        extensions={
            "code": TOO_COMPLEX,
            "limit": "selections",
            "found": size,
            "max": max_selections,
        },
    )


@dataclass(frozen=True, slots=True)
class ShapeLimits:
    max_selections: int = DEFAULT_MAX_SELECTIONS


class ShapeFirstValidation(ValidationCache):
    """strawberry's validation (cached), after the shape check: a refused document never
    reaches graphql-core's rules or the limiters, all of which expand every spread."""

    def __init__(self, limits: ShapeLimits, maxsize: int | None = 256) -> None:
        super().__init__(maxsize=maxsize)
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        error = None if document is None else shape_error(document, self.limits.max_selections)
        if error is None:
            yield from super().on_validate()
            return
        context.pre_execution_errors = [error]
        yield
