"""Every root field declares, where it is declared, who may call it, what it costs and what its
answer depends on; the guard, the cost budget and the response cache read only that."""

from __future__ import annotations

import pytest
import strawberry
from graphql import GraphQLField, GraphQLList, GraphQLNonNull, GraphQLObjectType, parse

from planapi.api.runtime.cacheability import analyse
from planapi.api.runtime.cost import PAGE_ARGUMENTS, query_cost
from planapi.api.runtime.guard import UnguardedFieldError, guard
from planapi.api.schema import Mutation, Query, build_schema
from planapi.api.types.root_fields import Caching, Cost, declare, declared
from planapi.api.types.subscriptions import Subscription
from planapi.application.access import Permission

SCHEMA = build_schema()._schema


def roots() -> list[tuple[str, str, GraphQLField]]:
    found = []
    for kind, root in (
        ("Query", SCHEMA.query_type),
        ("Mutation", SCHEMA.mutation_type),
        ("Subscription", SCHEMA.subscription_type),
    ):
        assert isinstance(root, GraphQLObjectType)
        found += [(kind, name, field) for name, field in root.fields.items()]
    return found


def _is_list(field: GraphQLField) -> bool:
    kind = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    return isinstance(kind, GraphQLList)


@pytest.mark.parametrize(("kind", "name", "field"), roots(), ids=lambda v: str(v)[:20])
def test_each_root_field_declares_permission_cost_and_caching(
    kind: str, name: str, field: GraphQLField
) -> None:
    declaration = declared(field)
    assert declaration is not None, f"{kind}.{name} declares nothing"
    assert isinstance(declaration.permission, Permission)
    assert isinstance(declaration.cost, Cost)
    is_query = kind == "Query"
    assert (declaration.caching is not Caching.NOT_A_QUERY) == is_query, f"{kind}.{name}"
    assert set(declaration.versions) <= set(field.args), f"{kind}.{name} pins on no argument"
    if _is_list(field) and not set(PAGE_ARGUMENTS) & set(field.args):
        assert declaration.cost.items is not None, f"{kind}.{name}: how many items to expect?"


def test_a_pinnable_field_names_its_version_arguments_and_nothing_else_does() -> None:
    with pytest.raises(ValueError, match="PINNABLE"):
        declare(Permission.READ, Caching.PINNABLE)
    with pytest.raises(ValueError, match="PINNABLE"):
        declare(Permission.READ, Caching.HEADS, versions=("version",))


def test_a_declaration_is_what_the_runtime_reads() -> None:
    """Declared a field NEVER cached and costly, the runtime follows the declaration alone."""

    @strawberry.type
    class Wider(Query):
        @strawberry.field(
            metadata=declare(Permission.AUDIT, Caching.NEVER, Cost(items=7, work=1_000))
        )
        def secrets(self) -> list[str]:
            return []

    schema = strawberry.Schema(query=Wider, mutation=Mutation, subscription=Subscription)
    guard(schema)  # declared: builds
    core = schema._schema
    document = parse("{ secrets }")
    assert query_cost(core, document, None, {}) == 1 + 7 * 1_000
    assert not analyse(core, document, None).cacheable


def test_a_field_with_metadata_of_its_own_still_needs_a_declaration() -> None:
    @strawberry.type
    class Wider(Query):
        @strawberry.field(metadata={"something": "else"})
        def secret(self) -> str:
            return "leaked"

    schema = strawberry.Schema(query=Wider, mutation=Mutation, subscription=Subscription)
    with pytest.raises(UnguardedFieldError, match=r"Query\.secret"):
        guard(schema)
