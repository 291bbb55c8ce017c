"""Subscriptions (graphql-transport-ws on /graphql): plan amendments and recorded readings.

A client passes `after` = the last position (planAmended) or batch id (readingsRecorded) it
received; on (re)connecting it first receives what it missed, then live updates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator

import strawberry

from planapi.api.types.context import Context
from planapi.api.types.errors import bad_input
from planapi.api.types.global_ids import Node as GlobalNode
from planapi.api.types.global_ids import global_id
from planapi.api.types.history import Amendment
from planapi.api.types.proposal_fields import ProposalSubscriptions
from planapi.api.types.readings import Reading
from planapi.api.types.root_fields import Caching, declare
from planapi.application.access import Permission
from planapi.application.live import LiveUpdates
from planapi.application.ports import RecordedBatch
from planapi.domain.errors import PlanApiError
from planapi.domain.readings import ReadingVersion

Info = strawberry.Info[Context, None]


@strawberry.type(description="A plan reached a new version.")
class PlanAmendment:
    plan_id: strawberry.ID
    version: int
    position: int = strawberry.field(
        description="Its place in the global order: resubscribe with `after` set to it."
    )
    amendment: Amendment


@strawberry.type(description="A batch of readings was recorded; only the readings asked about.")
class ReadingsBatch(GlobalNode):
    batch: strawberry.Private[RecordedBatch]

    @strawberry.field(
        description="Global id: `ReadingsBatch:<batchId>:<kpiId>:…`, with the KPIs its "
        "`readings` hold (which depend on the KPIs subscribed to)."
    )
    def id(self) -> strawberry.ID:
        return batch_global_id(self.batch)

    @strawberry.field(description="Resubscribe with `after` set to it.")
    def batch_id(self) -> int:
        return self.batch.batch_id

    @strawberry.field
    def plan_id(self) -> strawberry.ID:
        return strawberry.ID(self.batch.plan_id)

    @strawberry.field
    def actor(self) -> str:
        return self.batch.actor

    @strawberry.field
    def recorded_at(self) -> dt.datetime:
        return self.batch.recorded_at

    @strawberry.field(description="Readings the batch stored (of every KPI).")
    def stored(self) -> int:
        return self.batch.stored

    @strawberry.field(description="Readings the batch found already stored.")
    def duplicates(self) -> int:
        return self.batch.duplicates

    @strawberry.field(description="Its readings of the KPIs subscribed to, as recorded then.")
    def readings(self) -> list[Reading]:
        return [Reading(version=ReadingVersion(r, None)) for r in self.batch.readings]


def batch_global_id(batch: RecordedBatch) -> strawberry.ID:
    kpi_ids = sorted({reading.kpi_id for reading in batch.readings})
    return global_id("ReadingsBatch", batch.batch_id, *kpi_ids)


def _live(context: Context) -> LiveUpdates:
    if context.live is None:
        raise RuntimeError("live updates are not wired into this context")
    return context.live


@strawberry.type
class Subscription(ProposalSubscriptions):
    @strawberry.subscription(
        description="Each new version of the plan. With `after` (a position), first every "
        "version stored after it, then live ones; without, only what comes next.",
        metadata=declare(Permission.READ, Caching.NOT_A_QUERY),
    )
    async def plan_amended(
        self, info: Info, plan_id: strawberry.ID, after: int | None = None
    ) -> AsyncGenerator[PlanAmendment, None]:
        updates = _live(info.context).plan_amendments(plan_id, after)
        try:
            async for recorded in updates:
                yield PlanAmendment(
                    plan_id=plan_id,
                    version=recorded.version,
                    position=recorded.position,
                    amendment=Amendment(record=recorded),
                )
        except PlanApiError as error:
            raise bad_input(error) from error
        finally:
            await updates.aclose()

    @strawberry.subscription(
        description="Each batch of readings that holds readings of these KPIs (of `planId` "
        "only, when given). With `after` (a batch id), first the batches recorded after it.",
        metadata=declare(Permission.READ, Caching.NOT_A_QUERY),
    )
    async def readings_recorded(
        self,
        info: Info,
        kpi_ids: list[strawberry.ID],
        after: int | None = None,
        plan_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[ReadingsBatch, None]:
        updates = _live(info.context).reading_batches(kpi_ids, after, plan_id)
        try:
            async for batch in updates:
                yield ReadingsBatch(batch=batch)
        except PlanApiError as error:
            raise bad_input(error) from error
        finally:
            await updates.aclose()
