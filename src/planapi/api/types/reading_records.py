"""Readings as integrations send them — JSON objects (NDJSON lines, GraphQL variables) or CSV
rows — turned into domain readings. One wire shape and one converter serve recordReadings and
/ingest/readings; msgspec decodes it straight from bytes, numbers as exact decimals."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Protocol

import msgspec

from planapi.domain.readings import NewReading, ReadingSource, ReadingStatus


class BadRecord(ValueError):
    pass


# gc=False: a request makes up to 10,000 of each, and they hold no reference cycles, so the
# garbage collector need not track (and repeatedly scan) them.
class WireSource(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    integration: str
    readingId: str | None = None


class WirePair(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    dimension: str
    value: str


class WireReading(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """One reading on the wire. `disaggregation` is {"sex": "female"}, [{dimension, value}] (the
    GraphQL shape) or "sex=female;region=Africa" (CSV); `source` an object or a name with
    `sourceReadingId` beside it."""

    kpiId: str
    period: str
    status: ReadingStatus
    value: Decimal | None = None
    text: str | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    disaggregation: dict[str, str] | list[WirePair] | str | None = None
    source: WireSource | str | None = None
    sourceReadingId: str | None = None
    note: str | None = None


class WireLike(Protocol):
    """What `to_new_reading` reads: WireReading, or a stricter shape of it (GraphQL's)."""

    @property
    def kpiId(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def status(self) -> ReadingStatus: ...
    @property
    def value(self) -> Decimal | None: ...
    @property
    def text(self) -> str | None: ...
    @property
    def numerator(self) -> Decimal | None: ...
    @property
    def denominator(self) -> Decimal | None: ...
    @property
    def disaggregation(self) -> dict[str, str] | list[WirePair] | str | None: ...
    @property
    def source(self) -> WireSource | str | None: ...
    @property
    def sourceReadingId(self) -> str | None: ...
    @property
    def note(self) -> str | None: ...


NDJSON = msgspec.json.Decoder(WireReading)
CSV_NAMES = {"kpi_id": "kpiId", "source_reading_id": "sourceReadingId"}
# A CSV header names the wire fields, snake_case: derived, so a new field is a new column.
CSV_COLUMNS = tuple(
    {camel: snake for snake, camel in CSV_NAMES.items()}.get(name, name)
    for name in WireReading.__struct_fields__
)


def decode_line(line: bytes | str) -> NewReading:
    try:
        return to_new_reading(NDJSON.decode(line))
    except msgspec.ValidationError as error:
        if _SNAKE.search(line if isinstance(line, bytes) else line.encode()):
            return _snake_case_line(line)
        raise BadRecord(str(error)) from error
    except UnicodeDecodeError as error:
        raise BadRecord("is not UTF-8") from error
    except msgspec.DecodeError as error:
        if isinstance(line, bytes) and not _is_utf8(line):
            raise BadRecord("is not UTF-8") from error
        raise BadRecord(f"not valid JSON ({error})") from error


# `kpi_id` and `source_reading_id`, as the CSV header names them (and the README once did for
# NDJSON), stay accepted beside the documented `kpiId` and `sourceReadingId`: off the fast path.
_SNAKE = re.compile(rb'"(kpi_id|source_reading_id)"\s*:')


_LOOSE = msgspec.json.Decoder(float_hook=Decimal)  # numbers stay exact, as in NDJSON above


def _snake_case_line(line: bytes | str) -> NewReading:
    try:
        record = _LOOSE.decode(line)
    except msgspec.DecodeError as error:
        raise BadRecord(f"not valid JSON ({error})") from error
    if not isinstance(record, dict):
        raise BadRecord("each line must be a JSON object")
    both = [snake for snake, camel in CSV_NAMES.items() if snake in record and camel in record]
    if both:
        raise BadRecord(f"give {CSV_NAMES[both[0]]} or {both[0]}, not both")
    return reading_from_record(record)


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def reading_from_record(record: dict[str, Any]) -> NewReading:
    """A record already parsed: GraphQL variables (coerced) or a CSV row (all text; empty cells
    are absent, columns in snake_case)."""
    cleaned = {CSV_NAMES.get(k, k): v for k, v in record.items() if v is not None and v != ""}
    try:
        return to_new_reading(msgspec.convert(cleaned, WireReading, strict=False))
    except msgspec.ValidationError as error:
        raise BadRecord(str(error)) from error


def _pairs(value: dict[str, str] | list[WirePair] | str | None) -> tuple[tuple[str, str], ...]:
    if not value:
        return ()
    if isinstance(value, list):
        if len(value) == 1:  # the common case, without the sort
            return ((value[0].dimension, value[0].value),)
        return tuple(sorted([(pair.dimension, pair.value) for pair in value]))
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    items = [part.partition("=") for part in value.split(";") if part]
    if any(not sep for _, sep, _ in items):
        raise BadRecord("disaggregation: write dimension=value pairs separated by ';'")
    return tuple(sorted((name.strip(), v.strip()) for name, _, v in items))


def to_new_reading(wire: WireLike) -> NewReading:
    given = wire.source
    source: ReadingSource | None = None
    if isinstance(given, WireSource):
        source = ReadingSource(given.integration, given.readingId)
    elif given:
        source = ReadingSource(given, wire.sourceReadingId)
    # Positional, in NewReading's field order: one of these per reading, 10,000 a batch.
    return NewReading(
        wire.kpiId,
        wire.period,
        wire.status,
        wire.value,
        wire.text,
        wire.numerator,
        wire.denominator,
        _pairs(wire.disaggregation),
        source,
        wire.note,
    )
