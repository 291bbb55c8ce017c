"""recordReadings' variable decoded by msgspec (`api.runtime.fast_inputs`) reaches the application
exactly as graphql-core's coercion of it does, and is refused wherever GraphQL refuses it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import types
import typing
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
    parse,
)
from graphql.pyutils import Undefined
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planapi.api.runtime.execution import FastExecutionContext
from planapi.api.runtime.fast_inputs import (
    RECORD_READINGS_INPUT,
    FastInput,
    ReadingInputStruct,
    RecordReadingsInputStruct,
    fast_input,
    install,
)
from planapi.api.schema import build_schema
from planapi.api.types.context import Context
from planapi.api.types.reading_records import WirePair, WireSource
from planapi.application.access import system
from planapi.application.ports import BatchOutcome
from planapi.application.readings import RecordReadings
from tests.coercion import coercion

RECORD = """
mutation Record($input: RecordReadingsInput!) {
  recordReadings(input: $input) {
    __typename
    ... on ValidationFailed { problems { path message } }
  }
}
"""
SCHEMA = build_schema()
CORE = SCHEMA._schema  # type: ignore[attr-defined]
STRUCTS: dict[str, type[msgspec.Struct]] = {
    "RecordReadingsInput": RecordReadingsInputStruct,
    "ReadingInput": ReadingInputStruct,
    "DimensionValueInput": WirePair,
    "ReadingSourceInput": WireSource,
}
AT = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


class Recorder:
    """Stands in for the reading service: notes each command it is given."""

    def __init__(self) -> None:
        self.commands: list[RecordReadings] = []

    async def record(self, command: RecordReadings, actor: Any = None, scope: Any = None) -> Any:
        self.commands.append(command)
        return BatchOutcome(
            batch_id=1, stored=len(command.readings), duplicates=0, recorded_at=AT, replayed=False
        )


def _answer(variables: dict[str, Any], *, fast: bool) -> tuple[str, int]:
    """The response, with the command the service was given, as text; and how many readings
    reached the resolver coerced by graphql-core (as dicts) rather than decoded by msgspec."""
    recorder = Recorder()
    context = Context(plans=None, readings=recorder, principal=system("tests"))  # type: ignore[arg-type]
    with coercion(fast=fast) as coerced:
        result = asyncio.run(
            SCHEMA.execute(RECORD, variable_values=variables, context_value=context)
        )
    errors = [error.formatted for error in result.errors or ()]
    commands = repr(recorder.commands)  # Decimal('1.0') is not Decimal('1')
    return json.dumps({"data": result.data, "errors": errors, "commands": commands}), coerced[0]


def _both(variables: dict[str, Any]) -> tuple[str, str, int]:
    """Both answers, and how many readings the fast path left to graphql-core."""
    fast, left = _answer(variables, fast=True)
    plain, _ = _answer(variables, fast=False)
    return fast, plain, left


# -- the structs mirror the schema -------------------------------------------------------------
def _pairs() -> Iterator[tuple[GraphQLInputObjectType, type[msgspec.Struct]]]:
    for name, struct in STRUCTS.items():
        found = CORE.get_type(name)
        assert isinstance(found, GraphQLInputObjectType)
        yield found, struct


@pytest.mark.parametrize(("graphql_type", "struct"), list(_pairs()), ids=list(STRUCTS))
def test_each_struct_takes_the_fields_of_its_input_type_required_and_nullable_alike(
    graphql_type: GraphQLInputObjectType, struct: type[msgspec.Struct]
) -> None:
    fields = {field.encode_name: field for field in msgspec.structs.fields(struct)}
    assert set(fields) == set(graphql_type.fields)
    assert struct.__struct_config__.forbid_unknown_fields
    for name, declared in graphql_type.fields.items():
        field = fields[name]
        non_null = isinstance(declared.type, GraphQLNonNull)
        has_default = declared.default_value is not Undefined or declared.default is not None
        assert field.required == (non_null and not has_default), name
        nullable = types.NoneType in typing.get_args(field.type)
        assert nullable == (not non_null), name
        inner = get_named_type(declared.type)
        if isinstance(inner, GraphQLInputObjectType):
            assert inner.name in STRUCTS, name


def test_the_fast_input_is_installed_on_its_type_only() -> None:
    assert fast_input(CORE, "RecordReadingsInput") is RECORD_READINGS_INPUT
    assert fast_input(CORE, "ReadingInput") is None
    assert fast_input(CORE, "NoSuchType") is None


def test_a_fast_input_needs_an_input_type_and_a_placeholder_graphql_accepts() -> None:
    schema = build_schema()._schema  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="not an input object type"):
        install(schema, "Plan", RECORD_READINGS_INPUT)
    with pytest.raises(ValueError, match="placeholder"):
        install(schema, "RecordReadingsInput", FastInput(RECORD_READINGS_INPUT.decode, {}))


def test_the_executor_holds_the_decoded_struct_and_the_value_as_sent() -> None:
    sent = {"planId": "p", "readings": [{"kpiId": "k", "period": "2026", "status": "FINAL"}]}
    document = parse(RECORD)

    fast = FastExecutionContext.build(CORE, document, raw_variable_values={"input": sent})
    refused = FastExecutionContext.build(
        CORE, document, raw_variable_values={"input": {**sent, "planId": 7}}
    )

    assert isinstance(fast, FastExecutionContext)
    assert isinstance(fast.variable_values.coerced["input"], RecordReadingsInputStruct)
    assert fast.variable_values.sources["input"].value is sent
    assert isinstance(refused, FastExecutionContext)
    assert refused.variable_values.coerced["input"]["planId"] == "7"


# -- decimals ----------------------------------------------------------------------------------
def _decimal_scalar() -> GraphQLScalarType:
    found = CORE.get_type("Decimal")
    assert isinstance(found, GraphQLScalarType)
    return found


@settings(max_examples=2_000)
@given(
    st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.decimals(allow_nan=True).map(str)
    | st.text(alphabet="0123456789.eE+-_ naNIif", max_size=12)
)
def test_a_json_number_or_string_becomes_the_decimal_strawberry_makes_of_it(given: Any) -> None:
    """strawberry parses `Decimal(str(number))`; msgspec writes a float's shortest round-trip
    digits and parses those. The same digits and exponent, so the same stored value."""
    try:
        expected: Decimal | None = _decimal_scalar().parse_value(given)
    except Exception:
        expected = None
    try:
        found: Decimal | None = msgspec.convert(given, Decimal, strict=True)
    except msgspec.ValidationError:
        found = None
    if found is not None:  # msgspec may refuse more (then graphql-core decides), never less
        assert expected is not None, given
        assert found.as_tuple() == expected.as_tuple(), given


# -- whole requests, both ways -----------------------------------------------------------------
def reading(**fields: Any) -> dict[str, Any]:
    return {"kpiId": "kpi-1", "period": "2026", "status": "FINAL", "value": "66.50", **fields}


FULL = reading(
    numerator="1",
    denominator="40.0",
    text="Household survey",
    disaggregation=[{"dimension": "sex", "value": "female"}],
    source={"integration": "nso-kenya", "readingId": "KE-2026-001"},
    note="wave 3\nrevised",
)


@pytest.mark.parametrize(
    "given",
    [
        pytest.param({"planId": "p", "readings": [FULL, reading()]}, id="every field"),
        pytest.param(
            {
                "planId": "p",
                "idempotencyKey": "run-42",
                "readings": [
                    reading(value=None, text=None, source={"integration": "nso"}),
                    reading(value="-0", disaggregation=[]),
                    reading(value="1E+3", status="ESTIMATED", note=None),
                ],
            },
            id="nulls, defaults and odd decimals",
        ),
        pytest.param(
            {
                "planId": "p",
                "readings": [reading(value=0.1), reading(value=66), reading(value=1e-7)],
            },
            id="JSON numbers for decimals",
        ),
    ],
)
def test_what_the_struct_takes_reaches_the_service_as_graphql_would_give_it(
    given: dict[str, Any],
) -> None:
    fast, plain, left = _both({"input": given})

    assert fast == plain
    assert left == 0, "decoded by msgspec"
    assert '"__typename": "ReadingsRecorded"' in fast


@pytest.mark.parametrize(
    "given",
    [
        pytest.param({"planId": 2026, "readings": [reading()]}, id="an ID as an integer"),
        pytest.param({"planId": "p", "readings": [reading(kpiId=7)]}, id="a KPI ID as an integer"),
        pytest.param({"planId": "p", "readings": reading()}, id="one reading, not a list"),
        pytest.param(
            {
                "planId": "p",
                "readings": [reading(disaggregation={"dimension": "sex", "value": "f"})],
            },
            id="one dimension value, not a list",
        ),
        pytest.param({"planId": "p", "readings": [reading(text="", note="")]}, id="empty texts"),
        pytest.param({"planId": "p", "readings": [reading(kpiId="")]}, id="an empty KPI ID"),
    ],
)
def test_what_only_graphql_takes_is_coerced_by_graphql_as_before(given: dict[str, Any]) -> None:
    fast, plain, left = _both({"input": given})

    assert fast == plain
    assert left > 0, "left to graphql-core"
    assert '"errors": []' in fast


@pytest.mark.parametrize(
    ("given", "message"),
    [
        pytest.param(
            {"planId": "p", "readings": [reading(colour="red")]},
            "Variable '$input' has invalid value at .readings[0]: "
            "Expected value of type 'ReadingInput' not to include unknown field 'colour', "
            "found: {'kpiId': 'kpi-1', 'period': '2026', 'status': 'FINAL', 'value': '66.50', "
            "'colour': 'red'}.",
            id="an unknown field",
        ),
        pytest.param(
            {"planId": "p", "readings": [reading(period=None)]},
            "Variable '$input' has invalid value at .readings[0].period: "
            "Expected value of non-null type 'String!' not to be None.",
            id="null for a required field",
        ),
        pytest.param(
            {"planId": "p", "readings": [reading(status="final")]},
            "Variable '$input' has invalid value at .readings[0].status: "
            "Value 'final' does not exist in 'ReadingStatus' enum. "
            "Did you mean the enum value 'FINAL'?",
            id="a wrong enum value",
        ),
        pytest.param(
            {"planId": "p", "readings": [reading(value="12,5")]},
            "Variable '$input' has invalid value at .readings[0].value: "
            'Value cannot represent a Decimal: "12,5".',
            id="an invalid decimal",
        ),
        pytest.param(
            {"planId": "p", "readings": [{"kpiId": "kpi-1", "period": "2026"}]},
            "Variable '$input' has invalid value at .readings[0]: "
            "Expected value of type 'ReadingInput' to include required field 'status', "
            "found: {'kpiId': 'kpi-1', 'period': '2026'}.",
            id="a missing required field",
        ),
        pytest.param(
            {"planId": "p", "readings": [reading(value=True)]},
            None,
            id="a boolean for a decimal",
        ),
        pytest.param({"planId": "p", "readings": [None]}, None, id="a null reading"),
        pytest.param({"readings": [reading()]}, None, id="no plan"),
        pytest.param(
            {"planId": "p", "readings": [reading(source={"readingId": "x"})]},
            None,
            id="a source without its integration",
        ),
    ],
)
def test_what_graphql_refuses_is_refused_with_graphqls_own_message(
    given: dict[str, Any], message: str | None
) -> None:
    fast, plain, _ = _both({"input": given})

    assert fast == plain
    errors = json.loads(fast)["errors"]
    assert errors, "refused"
    assert errors[0]["message"].startswith("Variable '$input' has invalid value")
    if message is not None:
        assert errors[0]["message"] == message
    assert json.loads(fast)["commands"] == "[]"


# -- generated requests --------------------------------------------------------------------------
_ABSENT = object()


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a value; sometimes one GraphQL refuses or coerces differently, null, or none."""
    odd = st.sampled_from([None, _ABSENT, True, 7, 1.5, "", [], {}, ["x"], {"x": 1}])
    return st.integers(0, 9).flatmap(lambda n: strategy if n < 9 else odd)


_TEXT = st.text(min_size=1, max_size=8)  # "" is among the odd values
_DECIMAL = st.one_of(
    st.decimals(allow_nan=True).map(str),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(alphabet="0123456789.eE+-_ ,", max_size=8),
)
_PAIR = st.fixed_dictionaries({"dimension": _maybe(_TEXT), "value": _maybe(_TEXT)})
_SOURCE = st.fixed_dictionaries({"integration": _maybe(_TEXT)}, optional={"readingId": _TEXT})
_READING = st.fixed_dictionaries(
    {
        "kpiId": _maybe(st.sampled_from(["kpi-1", "kpi-2"]) | _TEXT),
        "period": _maybe(st.sampled_from(["2026", "2027-Q2"]) | _TEXT),
        "status": _maybe(st.sampled_from(["FINAL", "PROVISIONAL", "ESTIMATED", "FORECAST"])),
    },
    optional={
        "value": _maybe(_DECIMAL),
        "text": _maybe(_TEXT),
        "numerator": _maybe(_DECIMAL),
        "denominator": _maybe(_DECIMAL),
        "disaggregation": _maybe(st.lists(_maybe(_PAIR), max_size=3) | _PAIR),
        "source": _maybe(_SOURCE),
        "note": _maybe(_TEXT),
    },
).flatmap(lambda r: st.sampled_from([r] * 19 + [{**r, "colour": "red"}]))
_INPUT = st.fixed_dictionaries(
    {
        "planId": _maybe(_TEXT),
        "readings": _maybe(st.lists(_maybe(_READING), max_size=4) | _READING),
    },
    optional={"idempotencyKey": _maybe(_TEXT)},
)


def _without_absent(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_absent(v) for k, v in value.items() if v is not _ABSENT}
    if isinstance(value, list):
        return [_without_absent(v) for v in value if v is not _ABSENT]
    return value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_INPUT.map(_without_absent))
def test_any_variable_gets_the_same_answer_and_command_either_way(given: dict[str, Any]) -> None:
    fast, plain, _ = _both({"input": given})

    assert fast == plain
