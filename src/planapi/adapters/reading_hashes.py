"""What a reading's and a batch's hashes cover, and the check verification makes of one
stored batch and its readings."""

from __future__ import annotations

import hashlib
import hmac
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from planapi.adapters.hashing import canonical, timestamp
from planapi.application.pacing import Pacer
from planapi.application.ports import ChainBreak
from planapi.domain.readings import CheckedReading

# What a reading's content hash covers, in this order (a JSON array of these values).
CONTENT = (
    "plan_id", "kpi_id", "series", "period", "status", "value", "numerator", "denominator",
    "text", "source", "source_reading_id", "note",
)  # fmt: skip
SOURCE, SOURCE_ID = CONTENT.index("source"), CONTENT.index("source_reading_id")
_content_of = operator.attrgetter(*CONTENT)  # a stored row's content tuple, in one C call

Content = tuple[Any, ...]


def content_of(plan_id: str, checked: CheckedReading) -> Content:
    reading, source, value = checked.reading, checked.reading.source, checked.value
    numerator, denominator = reading.numerator, reading.denominator
    return (  # numbers as their text, inline: three calls a reading fewer (10,000 a batch)
        plan_id,
        reading.kpi_id,
        checked.series,
        checked.period.id,
        reading.status.value,
        None if value is None else str(value),
        None if numerator is None else str(numerator),
        None if denominator is None else str(denominator),
        reading.text,
        source.integration if source else None,
        source.reading_id if source else None,
        reading.note,
    )


# A fixed field order in a JSON array: one byte string per content, and msgspec's encoder is
# five times faster than json.dumps on the ingestion path. Only this function hashes readings.
_ENCODE = msgspec.json.Encoder().encode


def content_hash(content: Content) -> bytes:
    return hashlib.sha256(_ENCODE(content)).digest()


def batch_hash(prev_hash: bytes, header: Mapping[str, Any], hashes: Sequence[bytes]) -> bytes:
    return hashlib.sha256(batch_bytes(prev_hash, header, hashes)).digest()


def batch_bytes(prev_hash: bytes, header: Mapping[str, Any], hashes: Sequence[bytes]) -> bytes:
    """What a batch's chain link hashes: its leaf in the readings Merkle log."""
    fields = ("id", "plan_id", "idempotency_key", "actor", "recorded_at", "stored", "duplicates")
    values = [timestamp(header[f]) if f == "recorded_at" else header[f] for f in fields]
    return b"".join((prev_hash, canonical(values), *hashes))


async def batch_break(
    batch: Any, own: list[Any], prev_hash: bytes, expected: int, pacer: Pacer
) -> ChainBreak | None:
    if batch.id != expected:
        return ChainBreak(expected, None, "removed", f"batch {expected} is missing")
    if not hmac.compare_digest(bytes(batch.prev_hash), prev_hash):
        return ChainBreak(
            batch.id, None, "inserted", "its previous-hash does not match the batch before it"
        )
    hashes = []
    for row in own:
        await pacer.tick()
        content = _content_of(row)
        if not hmac.compare_digest(content_hash(content), bytes(row.content_hash)):
            return ChainBreak(
                batch.id, row.id, "altered", f"reading {row.id} no longer matches its content hash"
            )
        if row.recorded_at != batch.recorded_at:
            return ChainBreak(
                batch.id,
                row.id,
                "altered",
                f"reading {row.id} has another recorded time than its batch",
            )
        hashes.append(bytes(row.content_hash))
    if len(own) != batch.stored:
        return ChainBreak(
            batch.id,
            None,
            "removed" if len(own) < batch.stored else "inserted",
            f"batch {batch.id} recorded {batch.stored} readings, {len(own)} remain",
        )
    header = {
        name: getattr(batch, name)
        for name in (
            "id",
            "plan_id",
            "idempotency_key",
            "actor",
            "recorded_at",
            "stored",
            "duplicates",
        )
    }
    if not hmac.compare_digest(batch_hash(prev_hash, header, hashes), bytes(batch.hash)):
        return ChainBreak(batch.id, None, "altered", f"batch {batch.id} no longer matches its hash")
    return None
