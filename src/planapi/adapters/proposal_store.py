"""Proposals' streams, stored in the plans' event log: the same rows, the same hash chain, the
same global order (and so the same feed, relay, Merkle tree and `verify`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from planapi.adapters.event_rows import event_row, fact_from
from planapi.adapters.event_store import SqlEventStore, expected_head
from planapi.adapters.postgres_append import insert_postgres
from planapi.adapters.tables import command_keys, events
from planapi.application.ports import CommandKey, Recorded
from planapi.application.proposal_ports import RecordedFact
from planapi.domain.errors import VersionConflictError
from planapi.domain.events import AmendmentInfo, PlanEvent
from planapi.domain.proposals import ProposalEvent

_COLUMNS = (
    events.c.position,
    events.c.stream_id,
    events.c.version,
    events.c.type,
    events.c.schema_version,
    events.c.data,
    events.c.meta,
    events.c.recorded_at,
    events.c.hash,
)


class SqlProposalLog:
    def __init__(self, events: SqlEventStore) -> None:
        self.events = events
        self._sqlite = events._sqlite

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        event: ProposalEvent,
        info: AmendmentInfo,
        command: CommandKey | None = None,
        key_scope: tuple[str, int] | None = None,
    ) -> RecordedFact:
        try:
            async with self.events.transaction() as conn:
                fact = await self._append_in(conn, stream_id, expected_version, event, info)
                if command is not None and key_scope is not None:
                    scope, number = key_scope
                    row = {
                        "stream_id": scope,
                        "actor": command.actor,
                        "idempotency_key": command.key,
                        "request_hash": command.request_hash,
                        "version": number,
                        "recorded_at": fact.recorded_at,
                    }
                    await conn.execute(insert(command_keys), row)
                return fact
        except IntegrityError as error:
            actual = await self.events.latest_version(stream_id)
            raise VersionConflictError(stream_id, expected_version, actual) from error

    async def adopt(
        self,
        plan_stream: str,
        expected_version: int,
        amendment: PlanEvent,
        info: AmendmentInfo,
        stream_id: str,
        expected_proposal_version: int,
        adopted: ProposalEvent,
        adopter: AmendmentInfo,
    ) -> tuple[Recorded, RecordedFact]:
        try:
            async with self.events.transaction() as conn:
                recorded = await self.events.append_in(
                    conn, plan_stream, expected_version, amendment, info
                )
                fact = await self._append_in(
                    conn, stream_id, expected_proposal_version, adopted, adopter
                )
                return recorded, fact
        except IntegrityError as error:
            actual = await self.events.latest_version(plan_stream)
            raise VersionConflictError(plan_stream, expected_version, actual) from error

    async def _append_in(
        self,
        conn: AsyncConnection,
        stream_id: str,
        expected_version: int,
        event: ProposalEvent,
        info: AmendmentInfo,
    ) -> RecordedFact:
        head = await expected_head(conn, stream_id, expected_version)
        now = self.events.clock.now()
        recorded_at = max(now, head.recorded_at) if head else now
        values = event_row(stream_id, expected_version + 1, event, info, recorded_at, head)
        position = await self._insert(conn, values)
        return RecordedFact(
            stream_id=stream_id,
            version=expected_version + 1,
            position=position,
            event=event,
            info=info,
            recorded_at=values["recorded_at"].astimezone(dt.UTC),
            hash=values["hash"],
        )

    async def _insert(self, conn: AsyncConnection, values: dict[str, Any]) -> int:
        if not self._sqlite:
            # The append lock too: positions become visible in order for the feed's followers.
            return await insert_postgres(conn, values, [], None)
        inserted = await conn.execute(insert(events).returning(events.c.position), values)
        position: int = inserted.scalar_one()
        return position

    async def read(self, stream_id: str) -> list[RecordedFact]:
        query = select(*_COLUMNS).where(events.c.stream_id == stream_id).order_by(events.c.version)
        async with self.events.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [fact_from(row) for row in rows]

    async def command_key(self, stream_id: str, actor: str, key: str) -> tuple[bytes, int] | None:
        return await self.events.command_key(stream_id, actor, key)
