"""The event log's ports: the store of plan events, snapshots, the clock, and what they answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from planapi.domain.events import AmendmentInfo, PlanEvent
from planapi.domain.plan import PlanState

if TYPE_CHECKING:  # the use cases' own value types; they import this module at run time
    from planapi.application.proposal_ports import RecordedFact


class Recorded:
    """One stored event with everything the log knows about it: a plan version.

    Immutable. Its event may be decoded when first read (`Recorded.deferred`): a version read
    from a snapshot of itself needs its record's who, when and hash, not its changes, and
    decoding those is what a snapshot saves."""

    __slots__ = ("_event", "hash", "info", "position", "recorded_at", "stream_id", "version")

    stream_id: str
    version: int
    position: int
    info: AmendmentInfo
    recorded_at: dt.datetime
    hash: bytes
    _event: PlanEvent | Callable[[], PlanEvent]

    def __init__(
        self,
        stream_id: str,
        version: int,
        position: int,
        event: PlanEvent | Callable[[], PlanEvent],
        info: AmendmentInfo,
        recorded_at: dt.datetime,
        hash: bytes,
    ) -> None:
        for name, value in (
            ("stream_id", stream_id),
            ("version", version),
            ("position", position),
            ("info", info),
            ("recorded_at", recorded_at),
            ("hash", hash),
            ("_event", event),
        ):
            object.__setattr__(self, name, value)

    @classmethod
    def deferred(
        cls,
        stream_id: str,
        version: int,
        position: int,
        decode: Callable[[], PlanEvent],
        info: AmendmentInfo,
        recorded_at: dt.datetime,
        hash: bytes,
    ) -> Recorded:
        """A record whose event `decode` gives when first read, once."""
        return cls(stream_id, version, position, decode, info, recorded_at, hash)

    @property
    def event(self) -> PlanEvent:
        event = self._event
        if callable(event):
            event = event()
            object.__setattr__(self, "_event", event)
        return event

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Recorded is immutable: cannot set {name}")

    def _key(self) -> tuple[object, ...]:
        return (
            self.stream_id,
            self.version,
            self.position,
            self.event,
            self.info,
            self.recorded_at,
            self.hash,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Recorded) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash((self.stream_id, self.version, self.hash))

    def __repr__(self) -> str:
        return f"Recorded({self.stream_id!r}, version={self.version}, position={self.position})"


@dataclass(frozen=True, slots=True)
class ChainBreak:
    version: int
    position: int | None
    what: str  # "altered", "inserted", "removed", "reordered"
    detail: str


@dataclass(frozen=True, slots=True)
class Finding:
    """Something stored beside the log that disagrees with it (the log itself verified)."""

    kind: str  # "snapshot" or "index"
    version: int
    node_id: str | None
    detail: str


def index_findings(
    expected: set[tuple[int, str]], indexed: set[tuple[int, str]]
) -> tuple[list[Finding], list[Finding]]:
    """The node index's entries (version, node) that the events imply but it lacks, and those
    it holds that no event implies: what every store's `verify_index` reports."""
    missing = [
        Finding("index", v, n, f"version {v} changed node {n}; the index lacks it")
        for v, n in sorted(expected - indexed)
    ]
    extra = [
        Finding("index", v, n, f"the index says version {v} changed node {n}; it did not")
        for v, n in sorted(indexed - expected)
    ]
    return missing, extra


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    stream_id: str
    checked: int
    head_version: int
    head_hash: bytes | None
    first_break: ChainBreak | None
    # What is stored beside the chain (snapshots, the node index) and disagrees with it.
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return self.first_break is None and not self.findings


@dataclass(frozen=True, slots=True)
class CommandKey:
    """A client's idempotency key for a plan command, scoped to the plan and the caller, with
    the hash of the request it came with."""

    actor: str
    key: str
    request_hash: bytes


class EventStore(Protocol):
    async def append(
        self,
        stream_id: str,
        expected_version: int,
        event: PlanEvent,
        info: AmendmentInfo,
        previous: Recorded | None = None,
        command: CommandKey | None = None,
    ) -> Recorded:
        """Store `event` as version `expected_version + 1`, or raise VersionConflictError.

        `previous`, when the caller has it, is version `expected_version` as stored: the store
        may then chain to it without reading the head again. `command`, when given, is stored in
        the same transaction; a key already taken raises VersionConflictError too (the caller
        then asks `command_key` what the key produced)."""

    async def command_key(self, stream_id: str, actor: str, key: str) -> tuple[bytes, int] | None:
        """(request hash, version) stored for this key of this caller on this stream."""

    async def latest_version(self, stream_id: str) -> int:
        """0 when the stream does not exist."""

    async def version_at(self, stream_id: str, instant: dt.datetime) -> int:
        """The latest version recorded at or before `instant`; 0 if none."""

    async def read(
        self, stream_id: str, after_version: int = 0, upto_version: int | None = None
    ) -> list[Recorded]:
        """Versions in (after_version, upto_version], oldest first."""

    async def record(self, stream_id: str, version: int) -> Recorded | None:
        """Version `version`'s record, its event decoded only when first read (None when the
        stream has no such version): for a version whose state came from a snapshot."""

    async def read_backwards(
        self, stream_id: str, before_version: int, limit: int
    ) -> list[Recorded]:
        """Up to `limit` versions below `before_version`, newest first."""

    async def touching(self, stream_id: str, node_id: str, upto_version: int) -> list[Recorded]:
        """The versions up to `upto_version` whose events touched `node_id`, oldest first."""

    async def touching_many(
        self, stream_id: str, node_ids: Sequence[str], upto_version: int
    ) -> dict[str, list[Recorded]]:
        """`touching` for several nodes at once (one round trip); every node is a key."""

    async def latest_versions(self, prefix: str) -> dict[str, int]:
        """Every stream whose id starts with `prefix` and its latest version, oldest first."""

    async def read_all(self, after_position: int, limit: int) -> Sequence[Recorded | RecordedFact]:
        """Events of every stream (plans' and proposals') in global order, never skipping one
        committed late."""

    async def stream_ids(self, prefix: str) -> list[str]: ...

    async def verify(self, stream_id: str) -> IntegrityReport: ...

    async def verify_index(self, stream_id: str) -> list[Finding]:
        """Compare the node index (`touching`) with what the events touched: each entry
        missing or extra, by version and node."""


class SnapshotStore(Protocol):
    async def nearest(self, stream_id: str, version: int) -> PlanState | None:
        """The latest snapshot at or below `version` whose seal holds (others are ignored)."""

    async def nearest_recorded(
        self, stream_id: str, version: int
    ) -> tuple[PlanState, Recorded | None] | None:
        """`nearest`, with its version's record when the store reads it in the same round
        trip (None: ask the log for it)."""

    async def newest_recorded(
        self, stream_id: str
    ) -> tuple[int, tuple[PlanState, Recorded | None] | None] | None:
        """The stream's latest version (0: none) and `nearest_recorded` of it, read together
        (a cold read's one round trip); None where the store cannot tell the head: ask the
        log, then `nearest_recorded`."""

    async def save(self, stream_id: str, state: PlanState, chain_hash: bytes) -> None:
        """Store `state`, sealed to `chain_hash` (the hash of its version in the log)."""

    async def versions(self, stream_id: str) -> list[int]:
        """The versions holding a snapshot, oldest first."""

    async def check(self, stream_id: str, state: PlanState, chain_hash: bytes) -> str | None:
        """What is wrong with the snapshot of `state.version`, given the state folded from
        the events and that version's chain hash; None when nothing is."""


class Clock(Protocol):
    def now(self) -> dt.datetime: ...
