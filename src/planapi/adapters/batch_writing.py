"""A batch of readings on its way into the table: rows waiting for the duplicate lookup's
answer, rows ready to copy, and what the batch row will say; the lookup of what was sent before."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from planapi.adapters.reading_hashes import SOURCE, SOURCE_ID, Content, content_hash, content_of
from planapi.domain.readings import CheckedReading, ReadingSource

# One statement whatever the batch size: for each pair of the arrays, the latest stored reading
# with that source id, found through the (source, source_reading_id) index. As a plain join the
# planner chose to sort the whole table for a merge join (stale statistics, 10,000 pairs): a
# lookup that grew with the table (135 ms at 80,000 readings) against 25-50 ms of index probes.
# LIMIT keeps the subquery apart, so each pair is one probe whatever the statistics say.
ROWS_FOR_SOURCES = (
    "SELECT r.id, r.source, r.source_reading_id, r.content_hash "
    "FROM unnest($1::text[], $2::text[]) AS k(source, sid) "
    "CROSS JOIN LATERAL (SELECT id, source, source_reading_id, content_hash FROM readings "
    "WHERE source = k.source AND source_reading_id = k.sid ORDER BY id DESC LIMIT 1) AS r"
)


def source_pairs(sources: Sequence[ReadingSource]) -> list[tuple[str, str]]:
    """The (source, source reading id) pairs of a batch (a pair sent twice finds its rows
    twice, which `_latest_hashes` takes in its stride: cheaper than a set of 10,000)."""
    return [(s.integration, s.reading_id) for s in sources if s.reading_id is not None]


# Readings checked between two turns of the event loop (in which the driver sends a COPY's
# rows and reads the database's answers), and rows per COPY.
CHECKED_PER_TURN = 250
_ROWS_PER_COPY = 2_000


@dataclass
class Writing:
    """A batch on its way into the table: rows waiting for the duplicate lookup's answer,
    rows ready to copy, and what the batch row will say."""

    batch_id: int
    recorded_at: dt.datetime
    prev_hash: bytes
    request: Any  # the running SHA-256 of the request
    known: set[tuple[str, str, bytes]] | None = None  # until the lookup answers
    checked: int = 0
    fresh: list[bytes] = field(default_factory=list)  # content hashes of the rows stored
    waiting: list[tuple[Content, bytes, CheckedReading]] = field(default_factory=list)
    ready: list[Content] = field(default_factory=list)

    def take(self, plan_id: str, chunk: list[CheckedReading]) -> None:
        for reading in chunk:
            content = content_of(plan_id, reading)
            digest = content_hash(content)
            self.request.update(digest)
            self.waiting.append((content, digest, reading))
        self.checked += len(chunk)
        if self.known is not None:
            self._sort()

    def knows(self, rows: Sequence[Any]) -> None:
        self.known = _latest_hashes(rows)
        self._sort()

    def has_full_copy(self) -> bool:
        return len(self.ready) >= _ROWS_PER_COPY

    def rows_to_copy(self) -> list[Content]:
        rows, self.ready = self.ready, []
        return rows

    def _sort(self) -> None:
        known, batch_id, at = self.known, self.batch_id, self.recorded_at
        for content, digest, reading in self.waiting:
            if known and (content[SOURCE], content[SOURCE_ID], digest) in known:
                continue  # sent before with the same content: a duplicate
            self.fresh.append(digest)
            period = reading.period
            self.ready.append((*content, batch_id, period.start, period.end, at, digest))
        self.waiting = []


def _latest_hashes(rows: Sequence[Any]) -> set[tuple[str, str, bytes]]:
    """(source, source id, content hash) of the latest stored reading per source id: a resend
    of the same content is a duplicate, not news."""
    latest: dict[tuple[str, str], tuple[int, bytes]] = {}
    for id_, source, source_id, hash_ in rows:
        pair = (source, source_id)
        if pair not in latest or latest[pair][0] < id_:
            latest[pair] = (id_, bytes(hash_))
    return {(s, r, h) for (s, r), (_, h) in latest.items()}
