"""What every root field (of Query, Mutation and Subscription) declares where it is declared:
who may call it, what it costs beyond its selection, and what its answer depends on.

The declaration is strawberry field metadata (`strawberry.field(metadata=declare(...))`), read
from the built schema by the runtime: the guard (`api.runtime.guard`: no declaration, no
schema), the cost budget (`api.runtime.cost`) and the response cache
(`api.runtime.cacheability`). Metadata rather than a field extension, because a field carrying
a strawberry extension is never compiled (`api.runtime.execution`). Fields below the roots are
what their root's permission reads; their list sizes and caching stay with the runtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import GraphQLField

from planapi.application.access import Permission

KEY = "planapi.root_field"
_DEFINITION = "strawberry-definition"


class Caching(Enum):
    """What a root field's answer depends on, for the response cache."""

    PINNABLE = "pinnable"  # only the versions its `versions` arguments name: cached for good
    HEADS = "heads"  # changes with the logs' heads: cached under them
    NEVER = "never"  # re-read every time (verdicts, signed checkpoints): never cached
    NOT_A_QUERY = "not a query"  # a mutation or a subscription


@dataclass(frozen=True, slots=True)
class Cost:
    """Beyond one per field selected: `items` for a list without a page argument (how many to
    expect), `work` for each call whose work is not its answer's size, and `work_if` for a
    boolean argument that, true, asks for that much more."""

    items: int | None = None
    work: int = 0
    work_if: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class RootField:
    permission: Permission
    cost: Cost
    caching: Caching
    versions: tuple[str, ...] = ()  # the arguments that pin a PINNABLE field
    # The argument naming the one plan the field reads (None: it may read any): its answer then
    # changes only with that plan's version (and its readings, if it selects them).
    plan: str | None = None


def declare(
    permission: Permission,
    caching: Caching,
    cost: Cost | None = None,
    versions: tuple[str, ...] = (),
    plan: str | None = None,
) -> dict[str, Any]:
    """The metadata of a root field (pass as `metadata=`)."""
    if (caching is Caching.PINNABLE) != bool(versions):
        raise ValueError("a PINNABLE field names its version arguments, and only it does")
    return {KEY: RootField(permission, cost or Cost(), caching, versions, plan)}


def declared(field: GraphQLField) -> RootField | None:
    """The declaration of a field of the built schema, if it carries one."""
    definition = (field.extensions or {}).get(_DEFINITION)
    found = (getattr(definition, "metadata", None) or {}).get(KEY)
    return found if isinstance(found, RootField) else None
