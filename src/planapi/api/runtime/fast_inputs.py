"""Large input variables decoded by msgspec instead of graphql-core's generic coercion.

graphql-core coerces a variable by walking its value against the input type in Python, one call
per value (`coerce_input_value`), after another walk that measures its depth
(`input_is_nested_too_deeply`): ~50 µs per reading of `recordReadings`, close to half the
server's CPU for a batch of 1,000. msgspec converts the same value into a struct in C, ~2 µs per
reading.

A *fast input* is installed on an input object type of one schema (`install`); the execution
context (`api.runtime.execution`) then tries its decoder on each variable of that type, and the
field
receives the decoded struct instead of graphql-core's dict, so whoever installs one must also
give that type a strawberry `from_input` hook that accepts both (`api.schema`): the declared
resolvers then run as declared, on what the hook built.

A decoder must accept exactly what GraphQL accepts for its type, or less — never more — and give
the same values. Whatever it refuses is coerced by graphql-core as before: errors keep GraphQL's
standard messages, and GraphQL's lenient coercions (an ID sent as an integer, one object where a
list is expected) still work. The structs below therefore use msgspec's strict mode, refuse
unknown fields, take null only where the field is nullable, and leave the rest to graphql-core.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, NamedTuple

import msgspec
from graphql import (
    DocumentNode,
    GraphQLInputObjectType,
    GraphQLSchema,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
)
from graphql.pyutils import Undefined
from graphql.utilities import coerce_input_value

from planapi.api.types.reading_records import WirePair, WireSource
from planapi.domain.readings import ReadingStatus

EXTENSION = "planapi-fast-input"

# The dict branch of recordReadings (`reading_from_record`) drops the reading's fields that are
# "" (a CSV's empty cells): such a reading goes that way, so both branches answer alike.
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


class FastInput(NamedTuple):
    """How to decode a variable of one input object type without graphql-core."""

    # The decoded value, or msgspec.ValidationError to leave the variable to graphql-core.
    decode: Callable[[Any], object]
    # A value graphql-core coerces in the variable's stead, so that its coercion costs
    # nothing and a required variable is still present; the decoded value replaces it.
    placeholder: object


# gc=False: thousands are made per request, and the garbage collector, invoked again and again
# by so many new objects to track, doubled the cost of decoding them. They hold strings,
# decimals, an enum member and lists of structs: nothing that could lead back to them.
class ReadingInputStruct(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """GraphQL's ReadingInput, as `to_new_reading` reads it (`WireLike`).

    Decimals: strawberry parses a JSON number as `Decimal(str(number))`, which is what msgspec
    gives for an int or a float (`tests/unit/test_fast_inputs.py` checks it); a string as
    `Decimal(string)`, as msgspec does. An ID sent as an integer goes to graphql-core."""

    kpiId: NonEmpty
    period: NonEmpty
    status: ReadingStatus  # its values are its names, which GraphQL takes
    value: Decimal | None = None
    text: NonEmpty | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    disaggregation: list[WirePair] | None = None  # DimensionValueInput
    source: WireSource | None = None  # ReadingSourceInput
    note: NonEmpty | None = None

    @property
    def sourceReadingId(self) -> None:
        """GraphQL names the source's own id in `source.readingId` only."""
        return None


class RecordReadingsInputStruct(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    planId: str
    readings: list[ReadingInputStruct]
    idempotencyKey: str | None = None


RECORD_READINGS_INPUT = FastInput(
    decode=partial(msgspec.convert, type=RecordReadingsInputStruct, strict=True),
    placeholder={"planId": "", "readings": []},
)


def install(schema: GraphQLSchema, type_name: str, fast: FastInput) -> None:
    """Decode variables of the input object type `type_name` of `schema` with `fast`."""
    found = schema.get_type(type_name)
    if not isinstance(found, GraphQLInputObjectType):
        raise TypeError(f"{type_name} is not an input object type of this schema")
    if coerce_input_value(fast.placeholder, found) is Undefined:
        raise ValueError(f"the placeholder of {type_name} is not a valid {type_name}")
    found.extensions = {**found.extensions, EXTENSION: fast}


def fast_input(schema: GraphQLSchema, type_name: str) -> FastInput | None:
    """The fast input installed on the type `type_name`, if any."""
    found = schema.type_map.get(type_name)
    if found is None:
        return None
    fast = found.extensions.get(EXTENSION)
    return fast if isinstance(fast, FastInput) else None


def decode_variables(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    raw: dict[str, Any] | None,
) -> dict[str, tuple[object, object]]:
    """(placeholder, decoded value) by name of each variable of the operation to run that is
    of an input object type (nullable or not) with a fast input that accepts its value."""
    if not raw:
        return {}
    decoded: dict[str, tuple[object, object]] = {}
    for name, fast in _fast_variables(schema, document, operation_name):
        value = raw.get(name)
        if value is None:
            continue
        try:
            decoded[name] = (fast.placeholder, fast.decode(value))
        except msgspec.ValidationError:
            continue  # graphql-core coerces it, or says what is wrong with it
    return decoded


# Per operation (by the document's id, the document kept beside it): its variables of a type
# with a fast input — none, nearly always; found once, not on every request.
_FAST_VARIABLES: dict[tuple[int, str | None], tuple[DocumentNode, list[tuple[str, Any]]]] = {}
MAX_FAST_VARIABLES = 256


def _fast_variables(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> list[tuple[str, Any]]:
    key = (id(document), operation_name)
    found = _FAST_VARIABLES.get(key)
    if found is not None and found[0] is document:
        return found[1]
    operations = [
        definition
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
        and (
            operation_name is None or (definition.name and definition.name.value == operation_name)
        )
    ]
    variables: list[tuple[str, Any]] = []
    if len(operations) == 1:  # otherwise graphql-core says why
        for definition in operations[0].variable_definitions or ():
            type_node = definition.type
            if isinstance(type_node, NonNullTypeNode):
                type_node = type_node.type
            if not isinstance(type_node, NamedTypeNode):
                continue
            fast = fast_input(schema, type_node.name.value)
            if fast is not None:
                variables.append((definition.variable.name.value, fast))
    if len(_FAST_VARIABLES) >= MAX_FAST_VARIABLES:
        _FAST_VARIABLES.pop(next(iter(_FAST_VARIABLES)))
    _FAST_VARIABLES[key] = (document, variables)
    return variables
