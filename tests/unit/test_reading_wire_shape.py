"""A reading's wire shape is declared once (`WireReading`); the GraphQL input, its fast decoder,
the CSV header and the domain's NewReading follow it. A field added to one and not the others
would be silently dropped (or refused) on some of the ways in: these tests name it."""

from __future__ import annotations

import dataclasses
import re

import msgspec
from graphql import GraphQLInputObjectType

from planapi.api.runtime.fast_inputs import ReadingInputStruct
from planapi.api.schema import build_schema
from planapi.api.types.reading_records import CSV_COLUMNS, CSV_NAMES, WireReading
from planapi.domain.readings import NewReading

WIRE = list(WireReading.__struct_fields__)
# Only the flat spellings (CSV, NDJSON) carry the source's own id beside the source's name.
FLAT_ONLY = {"sourceReadingId"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _graphql_fields() -> list[str]:
    found = build_schema()._schema.get_type("ReadingInput")
    assert isinstance(found, GraphQLInputObjectType)
    return list(found.fields)


def test_the_graphql_input_has_the_wire_fields() -> None:
    assert _graphql_fields() == [name for name in WIRE if name not in FLAT_ONLY]


def test_the_fast_decoder_reads_the_wire_fields() -> None:
    decoded = [field.encode_name for field in msgspec.structs.fields(ReadingInputStruct)]
    assert decoded == [name for name in WIRE if name not in FLAT_ONLY]


def test_the_csv_header_names_the_wire_fields() -> None:
    assert list(CSV_COLUMNS) == [_snake(name) for name in WIRE]
    assert [CSV_NAMES.get(column, column) for column in CSV_COLUMNS] == WIRE


def test_a_new_reading_holds_every_wire_field() -> None:
    domain = [field.name for field in dataclasses.fields(NewReading)]
    assert domain == [_snake(name) for name in WIRE if name not in FLAT_ONLY]
