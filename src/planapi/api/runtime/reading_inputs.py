"""recordReadings' input, from what the transport decoded to the command (see `record_command`).

Imported by the schema for its effect: it installs the hook on RecordReadingsInput."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strawberry.types.arguments import InputContext
from strawberry.types.base import get_object_definition

from planapi.api.runtime.fast_inputs import RecordReadingsInputStruct
from planapi.api.types.reading_records import BadRecord, reading_from_record, to_new_reading
from planapi.api.types.readings import RecordReadingsInput
from planapi.application.readings import RecordReadings
from planapi.domain.errors import Problem, ValidationError


def record_command(
    cls: type,
    input: RecordReadingsInputStruct | Mapping[str, Any],
    context: InputContext,
) -> RecordReadings | ValidationError:
    """recordReadings takes thousands of input objects. strawberry's generic conversion of each
    into its input class cost ~0.1 ms a reading, graphql-core's coercion of the variable half
    as much again: more than checking and storing it. So the variable is decoded by msgspec
    into a struct (`api.runtime.fast_inputs`); whatever that decoder leaves to graphql-core (an
    inline argument, an ID sent as a number, a value GraphQL refuses) arrives coerced, as a plain
    dict. Strawberry hands either to this `from_input` hook of RecordReadingsInput instead of
    building the class, and both become the command through the bulk endpoint's converter."""
    if isinstance(input, RecordReadingsInputStruct):
        return RecordReadings(
            plan_id=input.planId,
            readings=[to_new_reading(item) for item in input.readings],
            idempotency_key=input.idempotencyKey,
        )
    readings, problems = [], []
    for index, item in enumerate(input["readings"]):
        try:
            readings.append(reading_from_record(item))
        except BadRecord as error:  # "" where a value is required, found by the fuzzer
            problems.append(Problem(("readings", index), str(error)))
    if problems:
        return ValidationError(problems)
    return RecordReadings(
        plan_id=input["planId"], readings=readings, idempotency_key=input.get("idempotencyKey")
    )


get_object_definition(RecordReadingsInput, strict=True).from_input = record_command
