"""The core of the log in memory: the event store and snapshot store ports without a database.

A fake in the sense of "Architecture Patterns with Python": it keeps the ports' contract
(versions, optimistic concurrency, the hash chain over the payloads as they would be stored,
`recorded_at` monotonic within a stream, reading a version by instant, snapshots), runs through
the storage contract suite beside SQLite and PostgreSQL, and lets application-layer tests run
without I/O. It is no production backend: nothing survives the process.

Each method runs without awaiting anything, so on one event loop it is atomic, as a
transaction would be.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from planapi.adapters.codec import decode_event, decode_info
from planapi.adapters.event_rows import chain_break, event_row
from planapi.adapters.hashing import GENESIS, canonical_text
from planapi.application.ports import (
    Clock,
    CommandKey,
    Finding,
    IntegrityReport,
    Recorded,
    index_findings,
)
from planapi.application.proposal_ports import RecordedFact
from planapi.domain.errors import VersionConflictError
from planapi.domain.events import AmendmentInfo, PlanEvent
from planapi.domain.history import touched_nodes
from planapi.domain.plan import PlanState


@dataclass(frozen=True, slots=True)
class _Row:
    """One event as a database would hold it: the payloads as canonical JSON text."""

    type: str
    schema_version: int
    data: str
    meta: str
    prev_hash: bytes
    recorded: Recorded

    @classmethod
    def of(cls, values: dict[str, Any], position: int) -> _Row:
        """The row `event_row` made, as stored; what a reader gets back is decoded from the
        stored text, as from a database."""
        data, meta = canonical_text(values["data"]), canonical_text(values["meta"])
        recorded = Recorded(
            stream_id=values["stream_id"],
            version=values["version"],
            position=position,
            event=decode_event(values["type"], values["schema_version"], json.loads(data)),
            info=decode_info(json.loads(meta)),
            recorded_at=values["recorded_at"],
            hash=values["hash"],
        )
        return cls(
            values["type"], values["schema_version"], data, meta, values["prev_hash"], recorded
        )

    def stored(self) -> tuple[Any, ...]:
        """The columns verification reads, in the order the database adapters select them."""
        recorded = self.recorded
        return (
            *(recorded.position, recorded.version, self.type, self.schema_version),
            *(self.data, self.meta, recorded.recorded_at, self.prev_hash, recorded.hash),
        )


class MemoryEventStore:
    """`EventStore` over lists in memory."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._streams: dict[str, list[_Row]] = {}  # in order of each stream's first event
        self._log: list[Recorded] = []  # global order: position n is self._log[n - 1]
        self._touched: dict[tuple[str, str], list[int]] = {}  # (stream, node) -> versions
        # (stream, actor, key) -> (request hash, version), as the command_keys table holds them
        self._commands: dict[tuple[str, str, str], tuple[bytes, int]] = {}

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        event: PlanEvent,
        info: AmendmentInfo,
        previous: Recorded | None = None,
        command: CommandKey | None = None,
    ) -> Recorded:
        rows = self._streams.get(stream_id, [])
        taken = command is not None and (stream_id, command.actor, command.key) in self._commands
        if len(rows) != expected_version or taken:
            raise VersionConflictError(stream_id, expected_version, len(rows))
        head = rows[-1].recorded if rows else None
        now = self.clock.now()
        # Keep time monotonic within a stream so "as of an instant" is well defined.
        recorded_at = (max(now, head.recorded_at) if head else now).astimezone(dt.UTC)
        version = expected_version + 1
        values = event_row(stream_id, version, event, info, recorded_at, head)
        row = _Row.of(values, position=len(self._log) + 1)
        self._streams.setdefault(stream_id, []).append(row)
        stored = row.recorded
        self._log.append(stored)
        for node_id in touched_nodes(event):
            self._touched.setdefault((stream_id, node_id), []).append(version)
        if command is not None:
            self._commands[stream_id, command.actor, command.key] = (command.request_hash, version)
        return Recorded(stream_id, version, stored.position, event, info, recorded_at, stored.hash)

    async def command_key(self, stream_id: str, actor: str, key: str) -> tuple[bytes, int] | None:
        return self._commands.get((stream_id, actor, key))

    async def latest_version(self, stream_id: str) -> int:
        return len(self._streams.get(stream_id, ()))

    async def version_at(self, stream_id: str, instant: dt.datetime) -> int:
        found = 0
        for row in self._streams.get(stream_id, ()):
            if row.recorded.recorded_at > instant:
                break  # monotonic within a stream
            found = row.recorded.version
        return found

    async def read(
        self, stream_id: str, after_version: int = 0, upto_version: int | None = None
    ) -> list[Recorded]:
        rows = self._streams.get(stream_id, [])
        return [row.recorded for row in rows[max(after_version, 0) : upto_version]]

    async def record(self, stream_id: str, version: int) -> Recorded | None:
        rows = self._streams.get(stream_id, [])
        return rows[version - 1].recorded if 1 <= version <= len(rows) else None

    async def read_backwards(
        self, stream_id: str, before_version: int, limit: int
    ) -> list[Recorded]:
        rows = self._streams.get(stream_id, [])[: max(before_version - 1, 0)]
        return [row.recorded for row in reversed(rows[-limit:])] if limit > 0 else []

    async def touching(self, stream_id: str, node_id: str, upto_version: int) -> list[Recorded]:
        rows = self._streams.get(stream_id, [])
        versions = self._touched.get((stream_id, node_id), [])
        return [rows[v - 1].recorded for v in versions if v <= upto_version]

    async def touching_many(
        self, stream_id: str, node_ids: Sequence[str], upto_version: int
    ) -> dict[str, list[Recorded]]:
        return {
            node_id: await self.touching(stream_id, node_id, upto_version) for node_id in node_ids
        }

    async def latest_versions(self, prefix: str) -> dict[str, int]:
        return {s: len(rows) for s, rows in self._streams.items() if s.startswith(prefix)}

    async def read_all(self, after_position: int, limit: int) -> Sequence[Recorded | RecordedFact]:
        start = max(after_position, 0)
        return self._log[start : start + max(limit, 0)]

    async def stream_ids(self, prefix: str) -> list[str]:
        return [s for s in self._streams if s.startswith(prefix)]

    async def verify(self, stream_id: str) -> IntegrityReport:
        """Recompute the chain from the stored text, as the database adapters do."""
        prev_hash, checked = GENESIS, 0
        for expected, row in enumerate(self._streams.get(stream_id, []), start=1):
            found = chain_break(row.stored(), stream_id, prev_hash, expected)
            if found is not None:
                return IntegrityReport(stream_id, checked, expected - 1, prev_hash, found)
            prev_hash, checked = row.recorded.hash, checked + 1
        return IntegrityReport(stream_id, checked, checked, prev_hash if checked else None, None)

    async def verify_index(self, stream_id: str) -> list[Finding]:
        """The node index against what each stored event touched, as the database adapters
        compare theirs (here nobody can edit one without the other, but the contract holds)."""
        expected = {
            (row.recorded.version, node)
            for row in self._streams.get(stream_id, [])
            for node in touched_nodes(
                decode_event(row.type, row.schema_version, json.loads(row.data))
            )
        }
        indexed = {
            (version, node)
            for (stream, node), versions in self._touched.items()
            if stream == stream_id
            for version in versions
        }
        missing, extra = index_findings(expected, indexed)
        return missing + extra


class MemorySnapshotStore:
    """`SnapshotStore` in memory. States are immutable, so they are kept as they are."""

    def __init__(self) -> None:
        self._states: dict[str, dict[int, PlanState]] = {}

    async def nearest(self, stream_id: str, version: int) -> PlanState | None:
        kept = self._states.get(stream_id, {})
        below = [v for v in kept if v <= version]
        return kept[max(below)] if below else None

    async def nearest_recorded(
        self, stream_id: str, version: int
    ) -> tuple[PlanState, Recorded | None] | None:
        found = await self.nearest(stream_id, version)
        return (found, None) if found else None  # the log in memory is as near as this

    async def newest_recorded(
        self, stream_id: str
    ) -> tuple[int, tuple[PlanState, Recorded | None] | None] | None:
        return None  # the head is the log's: ask it

    async def save(self, stream_id: str, state: PlanState, chain_hash: bytes) -> None:
        # The first save of a version wins, as with the database's unique key: same content.
        # Nothing outside this process can alter a state kept here, so there is no seal to make
        # and `chain_hash` binds nothing.
        self._states.setdefault(stream_id, {}).setdefault(state.version, state)

    async def versions(self, stream_id: str) -> list[int]:
        return sorted(self._states.get(stream_id, {}))

    async def check(self, stream_id: str, state: PlanState, chain_hash: bytes) -> str | None:
        kept = self._states.get(stream_id, {}).get(state.version)
        if kept is None or kept == state:
            return None
        return "its state differs from the plan folded from the events"
