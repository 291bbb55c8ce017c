"""Reading use cases: record batches from integrations; serve series, latest values, progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from planapi.application.access import ANY, Scope, check_reading_scope
from planapi.application.integrity import IntegrityService
from planapi.application.plans import PlanService
from planapi.application.ports import BatchOutcome, ReadingsIntegrity, ReadingStore
from planapi.application.reading_summary import CurrentReadings
from planapi.domain.errors import PlanNotFoundError, Problem, ValidationError
from planapi.domain.nodes import Node
from planapi.domain.periods import parse_period
from planapi.domain.progress import Observation, TargetProgress, assess
from planapi.domain.readings import (
    BatchCheck,
    CheckedReading,
    NewReading,
    Reading,
    ReadingQuery,
    ReadingVersion,
    select,
)

MAX_KEY = 200


@dataclass(frozen=True, slots=True)
class RecordReadings:
    plan_id: str
    readings: Sequence[NewReading]
    idempotency_key: str | None = None


class ReadingService:
    def __init__(
        self,
        store: ReadingStore,
        plans: PlanService,
        *,
        max_batch: int = 10_000,
        current: CurrentReadings | None = None,
    ):
        self.store = store
        self.plans = plans
        self.max_batch = max_batch
        # Each plan's current readings of the total, held here for dashboards; None: every
        # question takes the query path.
        self.current = current
        # Integrity verdicts span plans and readings; one per process, so runs coalesce.
        self.integrity = IntegrityService(plans, store)

    async def record(
        self, command: RecordReadings, actor: str | None = None, scope: Scope = ANY
    ) -> BatchOutcome:
        """All or nothing: every problem is reported, with the index of its reading. Readings
        outside `scope` (an integrator's plans and KPIs) refuse the whole batch, each named.

        The store checks the batch as it writes it (`BatchCheck`), a chunk at a time, so that
        the database stores one chunk while this process checks the next; a problem anywhere
        rolls back the whole batch and is reported with the rest."""
        who = actor or self.plans.default_actor
        check_reading_scope(scope, who, command.plan_id, [r.kpi_id for r in command.readings])
        batch = await self._batch(command)
        outcome = await self.store.record(command.plan_id, who, command.idempotency_key, batch)
        if self.plans.heads is not None:  # committed: this process's readers see it from now
            self.plans.heads.note_batch(command.plan_id, outcome.batch_id)
        return outcome

    async def check(
        self, command: RecordReadings, actor: str | None = None, scope: Scope = ANY
    ) -> tuple[list[CheckedReading], list[Problem]]:
        """The readings that are valid and the problems of the others, storing nothing; out of
        `scope` refused as by `record`. No readings, no problems: the caller has its own."""
        who = actor or self.plans.default_actor
        check_reading_scope(scope, who, command.plan_id, [r.kpi_id for r in command.readings])
        if not command.readings:
            return [], []
        try:
            batch = await self._batch(command)
        except ValidationError as error:
            return [], list(error.problems)
        return batch.all(), batch.problems

    async def _batch(self, command: RecordReadings) -> BatchCheck:
        count = len(command.readings)
        if not 1 <= count <= self.max_batch:
            problem = f"send 1 to {self.max_batch:,} readings per batch, not {count:,}"
            raise ValidationError([Problem(("readings",), problem)])
        key = command.idempotency_key
        if key is not None and not 0 < len(key) <= MAX_KEY:
            raise ValidationError(
                [Problem(("idempotency_key",), f"must be 1-{MAX_KEY} characters")]
            )
        latest = await self.plans.stored_latest(command.plan_id)
        if latest is None:
            raise PlanNotFoundError(command.plan_id)
        node = latest.state.node
        kpis = {kpi_id: node(kpi_id) for kpi_id in {r.kpi_id for r in command.readings}}
        return BatchCheck(kpis, command.readings, command.plan_id)

    async def readings(
        self, plan_id: str, kpi_ids: Sequence[str], query: ReadingQuery
    ) -> dict[str, list[ReadingVersion]]:
        """Per KPI: the readings `query` asks for (one round trip for all the KPIs)."""
        found = await self.store.for_kpis(plan_id, kpi_ids, query)
        by_kpi: dict[str, list[Reading]] = {kpi_id: [] for kpi_id in kpi_ids}
        for reading in found:
            by_kpi[reading.kpi_id].append(reading)
        return {kpi_id: select(items, query) for kpi_id, items in by_kpi.items()}

    async def verify(self) -> ReadingsIntegrity:
        """The whole chain of batches (one run at a time with every other verification)."""
        return await self.integrity.verify_readings()


def latest(versions: Sequence[ReadingVersion]) -> ReadingVersion | None:
    """The current reading of the most recent period."""
    current = [v for v in versions if v.is_current]
    return max(
        current, key=lambda v: (parse_period(v.reading.period).end, v.reading.id), default=None
    )


def progress(kpi: Node, versions: Sequence[ReadingVersion]) -> list[TargetProgress]:
    observations = [
        Observation(parse_period(v.reading.period), v.reading.value)
        for v in versions
        if v.is_current and v.reading.series == "" and v.reading.value is not None
    ]
    return assess(kpi, observations)
