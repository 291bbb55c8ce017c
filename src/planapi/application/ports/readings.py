"""Readings and execution records: their stores and what they answer (database-only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple, Protocol

from planapi.application.ports.log import ChainBreak
from planapi.domain.execution import ExecutionIntegrity, ExecutionRecord, Fact, StoredExecution
from planapi.domain.readings import BatchCheck, Reading, ReadingQuery

if TYPE_CHECKING:  # the use cases' own value types; they import this module at run time
    pass


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

    async def facts(self, plan_id: str, as_of: dt.datetime | None = None) -> list[Fact]:
        """The same records as the fold reads them (`fold_facts`), in its order: by occurrence,
        then recording."""

    async def verify(self, plan_id: str) -> ExecutionIntegrity:
        """Re-hash the plan's chain of records."""
