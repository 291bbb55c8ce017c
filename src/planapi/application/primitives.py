"""Node field values to and from JSON-ready primitives, one field at a time.

One mapping serves the stored encoding (`adapters/node_json.py`), documents and the API's
before/after values, so a field is spelled the same way wherever it leaves the domain.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from planapi.domain.activity_values import (
    ActivityStatus,
    BudgetLine,
    FundingSource,
    Milestone,
    Share,
)
from planapi.domain.nodes import (
    Dimension,
    Direction,
    Measure,
    Measurement,
    Reference,
    ReferenceVocabulary,
    Region,
    SectionContent,
)
from planapi.domain.periods import PeriodType

Json = Any
E = TypeVar("E", bound=enum.Enum)


def _member(kind: type[E]) -> Callable[[Json], E]:
    """`kind(raw)` by a dict look-up: an Enum call by value costs several times more, and a
    plan of 500 activities folds thousands of them (an unknown value still raises as before)."""
    members: dict[object, E] = {member.value: member for member in kind}

    def convert(raw: Json) -> E:
        found = members.get(raw)
        return found if found is not None else kind(raw)

    return convert


_FUNDING_SOURCE = _member(FundingSource)
_VOCABULARY = _member(ReferenceVocabulary)


def _decimal(raw: Json) -> Decimal:
    """Stored decimals are strings; a number (written by hand, or by another tool) is read as
    the shortest text that round-trips it, as msgspec reads it on the nodes' fast path
    (`adapters/node_json.py`): 0.1 is 0.1, not Decimal(0.1)'s 55 binary digits."""
    return Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)


def _measurement_out(value: Measurement) -> Json:
    return {"period": value.period, "value": str(value.value)}


def _measurement_in(raw: Json) -> Measurement:
    return Measurement(period=raw["period"], value=_decimal(raw["value"]))


def _reference_out(value: Reference) -> Json:
    return {"vocabulary": value.vocabulary.value, "code": value.code, "uri": value.uri}


def _reference_in(raw: Json) -> Reference:
    return Reference(_VOCABULARY(raw["vocabulary"]), raw["code"], raw.get("uri"))


def _dimension_out(value: Dimension) -> Json:
    # Only when bound: dimensions stored before binding existed keep their bytes (and hashes).
    if value.code_list is None:
        return {"name": value.name, "values": list(value.values)}
    return {"name": value.name, "values": list(value.values), "codeList": value.code_list}


def _dimension_in(raw: Json) -> Dimension:
    return Dimension(raw["name"], tuple(raw["values"]), raw.get("codeList"))


def _milestone_out(value: Milestone) -> Json:
    return {"key": value.key, "title": value.title, "due": value.due.isoformat()}


def _milestone_in(raw: Json) -> Milestone:
    return Milestone(raw["key"], raw["title"], dt.date.fromisoformat(raw["due"]))


def _budget_out(value: BudgetLine) -> Json:
    return {"year": value.year, "source": value.source.value, "amount": str(value.amount)}


def _budget_in(raw: Json) -> BudgetLine:
    return BudgetLine(raw["year"], _FUNDING_SOURCE(raw["source"]), _decimal(raw["amount"]))


def _share_out(value: Share) -> Json:
    return {"key": value.key, "weight": str(value.weight)}


def _share_in(raw: Json) -> Share:
    return Share(raw["key"], _decimal(raw["weight"]))


def _date_out(value: dt.date) -> Json:
    return value.isoformat()


def _same(value: Json) -> Json:
    return value


def _many(one: Callable[[Any], Json]) -> Callable[[Any], Json]:
    def convert(values: Any) -> Json:
        return [one(value) for value in values]

    return convert


def _many_in(one: Callable[[Json], Any]) -> Callable[[Json], Any]:
    def convert(values: Json) -> Any:
        return tuple([one(value) for value in values])

    return convert


def _enum_out(value: Any) -> Json:
    return value.value


# field → (to primitive, from primitive); fields absent here are plain strings.
_CODECS: dict[str, tuple[Callable[[Any], Json], Callable[[Json], Any]]] = {
    "references": (_many(_reference_out), _many_in(_reference_in)),
    "measure": (_enum_out, _member(Measure)),
    "direction": (_enum_out, _member(Direction)),
    "region": (_enum_out, _member(Region)),
    "baseline": (_measurement_out, _measurement_in),
    "targets": (_many(_measurement_out), _many_in(_measurement_in)),
    "dimensions": (_many(_dimension_out), _many_in(_dimension_in)),
    "expected_results": (list, tuple),
    "period_types": (_many(_enum_out), _many_in(_member(PeriodType))),
    "contents": (_many(_enum_out), _many_in(_member(SectionContent))),
    "minimum": (str, _decimal),
    "maximum": (str, _decimal),
    "output_ids": (list, tuple),
    "serves_ids": (list, tuple),
    "initiative_ids": (list, tuple),
    "countries": (list, tuple),
    "regions": (_many(_enum_out), _many_in(_member(Region))),
    "start": (_date_out, dt.date.fromisoformat),
    "end": (_date_out, dt.date.fromisoformat),
    "status": (_enum_out, _member(ActivityStatus)),
    "milestones": (_many(_milestone_out), _many_in(_milestone_in)),
    "budget": (_many(_budget_out), _many_in(_budget_in)),
    "shares": (_many(_share_out), _many_in(_share_in)),
}


def field_to_primitive(name: str, value: object) -> Json:
    if value is None:
        return None
    to_primitive, _ = _CODECS.get(name, (_same, _same))
    return to_primitive(value)


# field → from primitive, for decoding whole nodes without a look-up of both ways per field.
FROM_PRIMITIVE: dict[str, Callable[[Json], Any]] = {name: pair[1] for name, pair in _CODECS.items()}


def field_from_primitive(name: str, raw: Json) -> object:
    if raw is None:
        return None
    _, from_primitive = _CODECS.get(name, (_same, _same))
    return from_primitive(raw)
