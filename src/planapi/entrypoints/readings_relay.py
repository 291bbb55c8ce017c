"""Inside `planapi relay`: the readings log, batch by batch, to the same JetStream stream as the
plan events, so downstream systems can follow both logs.

Each batch goes to `<prefix>.readings.<plan id>` as one message (or, past `PART_SIZE` readings,
as numbered parts: NATS refuses messages over 1 MB by default) with `Nats-Msg-Id`
`readings:<batch id>[:<part>]`. As for events, the batch id the relay reached is stored (under
`<relay name>.readings`) only once JetStream has acknowledged every part, and after a crash the
relay resumes there; a part published again is dropped by JetStream as a duplicate of its id.
"""

from __future__ import annotations

import asyncio
import logging

from nats.js import JetStreamContext

from planapi.adapters.feeds import SqlReadingLog
from planapi.adapters.hashing import canonical_text
from planapi.adapters.relay_positions import SqlRelayPositions
from planapi.application.ports import RecordedBatch
from planapi.domain.readings import Reading

log = logging.getLogger("planapi.relay")

PART_SIZE = 1_000
PUBLISH_TIMEOUT = 5.0


def _reading(reading: Reading) -> dict[str, object]:
    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return {
        "id": reading.id,
        "kpiId": reading.kpi_id,
        "period": reading.period,
        "series": reading.series,
        "status": reading.status.value,
        "value": text(reading.value),
        "text": reading.text,
        "numerator": text(reading.numerator),
        "denominator": text(reading.denominator),
        "source": reading.source.integration if reading.source else None,
        "sourceReadingId": reading.source.reading_id if reading.source else None,
        "note": reading.note,
    }


def messages_of(batch: RecordedBatch) -> list[tuple[bytes, dict[str, str]]]:
    """The batch's messages: its header fields and its readings, `PART_SIZE` to a message."""
    parts = [batch.readings[i : i + PART_SIZE] for i in range(0, len(batch.readings), PART_SIZE)]
    parts = parts or [()]
    out = []
    for number, part in enumerate(parts, 1):
        payload = {
            "batchId": batch.batch_id,
            "planId": batch.plan_id,
            "actor": batch.actor,
            "recordedAt": batch.recorded_at.isoformat(),
            "stored": batch.stored,
            "duplicates": batch.duplicates,
            "part": number,
            "parts": len(parts),
            "readings": [_reading(reading) for reading in part],
        }
        msg_id = f"readings:{batch.batch_id}" + (f":{number}" if len(parts) > 1 else "")
        headers = {
            "Nats-Msg-Id": msg_id,
            "Planapi-Batch-Id": str(batch.batch_id),
            "Planapi-Plan-Id": batch.plan_id,
        }
        out.append((canonical_text(payload).encode(), headers))
    return out


class ReadingsRelay:
    def __init__(
        self,
        batches: SqlReadingLog,
        positions: SqlRelayPositions,
        js: JetStreamContext,
        *,
        name: str,
        stream: str,
        subject_prefix: str,
        batch_size: int,
        stopping: asyncio.Event,
    ) -> None:
        self.batches = batches
        self.positions = positions
        self.js = js
        self.name = f"{name}.readings"
        self.stream = stream
        self.subject_prefix = subject_prefix
        self.batch_size = batch_size
        self.stopping = stopping
        self.position: int | None = None
        self.published = 0
        self.duplicates = 0

    async def publish_batch(self) -> int:
        """Publish the next batches of readings; how many (0: caught up)."""
        if self.position is None:
            self.position = await self.positions.get(self.name)
            log.info("relay %s resumes after batch %d", self.name, self.position)
        found = await self.batches.batches_after(self.position, self.batch_size, None)
        done = 0
        for batch in found:
            if self.stopping.is_set():
                break
            await self._publish(batch)
            await self.positions.save(self.name, batch.batch_id)  # acknowledged: move on
            self.position = batch.batch_id
            done += 1
        return done

    async def _publish(self, batch: RecordedBatch) -> None:
        subject = ".".join([self.subject_prefix, "readings", _token(batch.plan_id)])
        for payload, headers in messages_of(batch):
            ack = await self.js.publish(
                subject, payload, timeout=PUBLISH_TIMEOUT, stream=self.stream, headers=headers
            )
            if ack.duplicate:
                self.duplicates += 1
            else:
                self.published += 1


def _token(text: str) -> str:
    return "".join("_" if ch in " .*>\t\n" else ch for ch in text) or "_"
