"""How the compiled executor reads a type's fields straight from the domain object it wraps.

A type such as `Kpi` is an object built around a domain `Node` and its `PlanState`; building
one per node per request (and a `PeriodValue` per baseline and target) was about half the time
of a plan tree read. A type with a *view* declares, beside its resolvers and sharing their
logic, how each of its plain fields reads from the domain value (and the plan it belongs to):
an attribute name, or a function of (value, plan) that returns what the resolver returns —
for a field of another viewed type, that type's domain value instead of its wrapper. Fields
without a reader (arguments, storage, `info`) are read from the wrapper, built only then.

`api.runtime.direct_reading` generates the readers; tests compare every answer with plain
strawberry's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# An attribute of the domain value, or a function of (value, plan).
Reader = str | Callable[[Any, Any], Any]


@dataclass(frozen=True, slots=True)
class View:
    wrap: Callable[[Any, Any], Any]  # (value, plan) -> the type's instance
    fields: Mapping[str, Reader]  # by the field's Python name
    # The (value, plan) a wrapper made elsewhere stands for; None: met only inside views.
    unwrap: Callable[[Any], tuple[Any, Any]] | None = None


VIEWS: dict[type, View] = {}


def view(cls: type, wrap: Callable[[Any, Any], Any], **fields: Reader) -> None:
    VIEWS[cls] = View(wrap, fields)


def node_view(cls: type, base: Mapping[str, Reader], **fields: Reader) -> None:
    """A plan node's type: its wrapper is `cls(node=, plan=)`."""
    VIEWS[cls] = View(
        lambda node, plan: cls(node=node, plan=plan),
        {**base, **fields},
        lambda made: (made.node, made.plan),
    )
