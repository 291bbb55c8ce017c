"""What the application needs from the outside world, stated as Protocols.

The core of the log — `EventStore` and `SnapshotStore` — is kept narrow enough for a backend
without SQL: `adapters/memory.py` implements both, passes the same contract tests as SQLite and
PostgreSQL (tests/contract, marked `ports_and_memory`) and serves fast application tests.
Later features (search, Merkle storage, readings) may keep their own ports database-only; they
need not be implemented in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from planapi.domain.events import AmendmentInfo, PlanEvent
from planapi.domain.execution import ExecutionIntegrity, ExecutionRecord, StoredExecution
from planapi.domain.plan import PlanState
from planapi.domain.readings import BatchCheck, Reading, ReadingQuery

if TYPE_CHECKING:  # the use cases' own value types; they import this module at run time
    from planapi.application.access import Principal
    from planapi.application.freshness import Heads
    from planapi.application.proposal_ports import RecordedFact
    from planapi.application.tokens import ApiToken
    from planapi.application.transparency import StoredCheckpoint


@dataclass(frozen=True, slots=True)
class Recorded:
    """One stored event with everything the log knows about it: a plan version."""

    stream_id: str
    version: int
    position: int
    event: PlanEvent
    info: AmendmentInfo
    recorded_at: dt.datetime
    hash: bytes


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

    async def save(self, stream_id: str, state: PlanState, chain_hash: bytes) -> None:
        """Store `state`, sealed to `chain_hash` (the hash of its version in the log)."""

    async def versions(self, stream_id: str) -> list[int]:
        """The versions holding a snapshot, oldest first."""

    async def check(self, stream_id: str, state: PlanState, chain_hash: bytes) -> str | None:
        """What is wrong with the snapshot of `state.version`, given the state folded from
        the events and that version's chain hash; None when nothing is."""


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What recording a batch of readings did."""

    batch_id: int
    stored: int
    duplicates: int
    recorded_at: dt.datetime
    # True when the whole request had been recorded before (same idempotency key and content).
    replayed: bool


@dataclass(frozen=True, slots=True)
class ReadingsIntegrity:
    checked_batches: int
    checked_readings: int
    head_hash: bytes | None
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


class ReadingStore(Protocol):
    async def record(
        self,
        plan_id: str,
        actor: str,
        idempotency_key: str | None,
        readings: BatchCheck,
    ) -> BatchOutcome:
        """Check the batch (`readings.chunks`) and store it whole or not at all: if its check
        finds any problem, store nothing and raise ValidationError with every problem. Skip
        readings already stored with the same content under the same (source, source reading
        id); a known idempotency key with the same content stores nothing, with different
        content raises IdempotencyKeyReusedError."""

    async def for_kpis(
        self, plan_id: str, kpi_ids: Sequence[str], query: ReadingQuery | None = None
    ) -> list[Reading]:
        """The readings of these KPIs (superseded ones too) that `query` can concern: known at
        its `asOf`, of its series and within its periods. Oldest first."""

    async def verify(self, plan_id: str | None = None) -> ReadingsIntegrity:
        """The whole chain of batches (`plan_id` None), or only the plan's batches: each
        re-hashed with its readings and checked against the stored hash of the batch before."""


class CurrentValue(NamedTuple):
    """A stored reading of a total series, as much of it as the summary keeps for every
    period (the whole `Reading` only for each KPI's latest)."""

    id: int
    kpi_id: str
    period: str
    value: Decimal | None


class TotalSeriesSource(Protocol):
    """What the summary of current readings (`application/reading_summary.py`) is built and
    kept current from."""

    async def total_series(self, plan_id: str, after_batch: int) -> tuple[int, list[CurrentValue]]:
        """The head of the readings (highest committed batch id, 0 before the first) and the
        plan's readings of the total series (no disaggregation) in the batches after
        `after_batch` up to that head, oldest first; both from one snapshot of the database."""

    async def readings(self, ids: Sequence[int]) -> list[Reading]:
        """The stored readings with these ids (rows never change: any time will do)."""


class ExecutionStore(Protocol):
    """Execution records of operational plans (database-only, like readings)."""

    async def append(
        self, plan_id: str, actor: str, records: Sequence[ExecutionRecord]
    ) -> tuple[list[StoredExecution], int]:
        """Store the records whose keys are new, all or none; (stored, resends). A known key
        with other content raises IdempotencyKeyReusedError."""

    async def read(self, plan_id: str, as_of: dt.datetime | None = None) -> list[StoredExecution]:
        """The plan's records recorded at or before `as_of` (all when None), oldest first."""

    async def verify(self, plan_id: str) -> ExecutionIntegrity:
        """Re-hash the plan's chain of records."""


# -- feeds and live updates ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One row of the log exactly as stored, for mirrors: `data` and `meta` are the stored JSON
    text (the bytes the hash chain covers), not upcast, so a mirror can re-verify the chain."""

    position: int
    stream_id: str
    version: int
    type: str
    schema_version: int
    recorded_at: dt.datetime
    data: str
    meta: str
    prev_hash: bytes
    hash: bytes


class EventLog(Protocol):
    """The log read across streams, for feeds and subscriptions."""

    async def read_stored(self, after_position: int, limit: int) -> list[StoredEvent]:
        """Up to `limit` rows after `after_position` in global order, with the guarantee of
        `EventStore.read_all`: never passing an event that has yet to commit."""

    async def version_at_position(self, stream_id: str, position: int) -> int:
        """The stream's latest version stored at or before `position`; 0 if none."""


@dataclass(frozen=True, slots=True)
class RecordedBatch:
    """One accepted batch of readings, with those of its readings a reader asked about."""

    batch_id: int
    plan_id: str
    actor: str
    recorded_at: dt.datetime
    stored: int
    duplicates: int
    readings: tuple[Reading, ...]


class ReadingLog(Protocol):
    """Batches of readings in the order they were recorded, for subscriptions."""

    async def last_batch_id(self) -> int:
        """0 before the first batch."""

    async def batches_after(
        self, after_batch_id: int, limit: int, kpi_ids: Sequence[str]
    ) -> list[RecordedBatch]:
        """Up to `limit` batches after `after_batch_id`, oldest first, each with its readings of
        `kpi_ids` (possibly none)."""


class NotifierClosedError(Exception):
    """The notifier shut down: live subscriptions end."""


class Wakeups(Protocol):
    async def wait(self, seconds: float) -> bool:
        """Return True once something was published on the topic since the previous wait
        (or since listening began), False after `seconds` without; raise
        NotifierClosedError when the notifier closes."""


class Notifier(Protocol):
    """Wakes subscribers, in this process and every other one, when a writer committed.

    A notification is a hint carrying only a position: subscribers read what is new from the
    tables, so a lost notification delays an update (until the next poll) but never loses it."""

    def publish(self, topic: str, position: int) -> None:
        """Announce that `position` was committed on `topic`; never blocks the writer."""

    def listen(self, topic: str) -> AbstractAsyncContextManager[Wakeups]:
        """Wake-ups for `topic` while the context is open."""

    async def start(self) -> None: ...

    async def close(self) -> None:
        """Stop listening; every open `listen` raises NotifierClosedError from `wait`."""


class TokenStore(Protocol):
    async def insert(self, token: ApiToken, token_hash: bytes) -> None:
        """Store a new token; raise TokenNameTakenError if an active one has its name."""

    async def by_hash(self, token_hash: bytes) -> ApiToken | None: ...

    async def all(self) -> list[ApiToken]: ...

    async def revoke(self, token_id_or_name: str, at: dt.datetime) -> list[ApiToken]:
        """Revoke the active token with this id (or every active one with this name); return
        what was revoked."""

    async def touch(self, token_id: str, at: dt.datetime) -> None: ...


class BearerVerifier(Protocol):
    """Checks a bearer JWT (signature, issuer, audience, expiry) and says who it names."""

    async def verify(self, token: str) -> Principal: ...


class HeadsSource(Protocol):
    async def heads(self) -> Heads:
        """The newest committed event position and readings batch id, in one round trip."""


@dataclass(frozen=True, slots=True)
class HeadChanges:
    """What was committed after a pair of heads: each stream's newest version, each plan's
    newest batch of readings, and the highest position and batch id among them (the given
    ones when nothing is new)."""

    versions: dict[str, int]  # stream id -> newest version
    batches: dict[str, int]  # plan id -> newest batch id
    last_position: int
    last_batch_id: int


class HeadsLog(Protocol):
    async def changes_after(self, position: int, batch_id: int) -> HeadChanges:
        """Everything committed after `position` and `batch_id`, in one statement (so one
        snapshot). Positions and batch ids become visible in order, so what it returns
        together with what came before is the whole log up to its new heads."""


class MerkleTree(Protocol):
    def leading(self) -> AbstractAsyncContextManager[bool]: ...
    async def integrate(self, log: str, limit: int = ...) -> int: ...
    async def size(self, log: str) -> int: ...
    async def root(self, log: str, size: int) -> bytes: ...
    async def inclusion(self, log: str, leaf: int, size: int) -> list[bytes]: ...
    async def consistency(self, log: str, first: int, second: int) -> list[bytes]: ...
    async def leaf_of(self, log: str, ref: int) -> int | None: ...
    async def save_checkpoint(self, checkpoint: StoredCheckpoint, signed_at: Any) -> None: ...
    async def latest_checkpoint(self, log: str) -> tuple[StoredCheckpoint, Any] | None: ...


class Recomputation(Protocol):
    async def roots(self, log: str, sizes: Sequence[int]) -> tuple[int, dict[int, bytes]]: ...
    async def first_difference(self, log: str, tree: Any) -> tuple[int, int | None] | None: ...


@dataclass(frozen=True, slots=True)
class SearchText:
    """One text of one node in one language, as the search index holds it."""

    node_id: str
    kind: str  # a NodeKind's value
    field: str  # a text slot: title, description, objective, expected_results[2]
    lang: str
    text: str
    position: int  # the node's place in document order, for ties


class SearchIndex(Protocol):
    """Full-text search over the texts of plan versions, derived from them and rebuilt at will.

    Database-only, like the other later ports: PostgreSQL keeps the texts in `search_texts`
    with each language's text search configuration (migration 0012); SQLite uses FTS5 in a
    private in-memory database. There is no in-memory adapter of the port."""

    async def indexed(self, plan_id: str, version: int) -> bool: ...

    async def index(self, plan_id: str, version: int, texts: Sequence[SearchText]) -> None:
        """Hold `texts` as the version's (once; a version already held is left as it is)."""

    async def search(
        self,
        plan_id: str,
        version: int,
        query: str,
        langs: Sequence[str],
        kinds: Sequence[str],
        limit: int,
    ) -> tuple[list[tuple[SearchText, float]], int]:
        """The `limit` best texts of the version matching `query` in `langs` (and `kinds`, if
        any), each with its rank (higher is better), best first (then in document order, by
        language, by field); and how many match in all."""
