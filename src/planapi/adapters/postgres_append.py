"""PostgreSQL's append: the event, its node index and its idempotency key in one statement (one
round trip), behind the lock that keeps the log's positions in commit order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from planapi.adapters.advisory_locks import scoped
from planapi.adapters.event_rows import key_row
from planapi.adapters.hashing import canonical_text
from planapi.application.ports import CommandKey

# PostgreSQL hands out positions at insert but makes rows visible at commit: two concurrent
# appends could become visible in the opposite order of their positions, and a follower reading
# `position > n` would pass the later-committing one for good. (Recording transaction ids and
# reading below the oldest running one does not close it: the id and the position are taken at
# different moments, so their orders can disagree too.) Appends therefore take this
# transaction-scoped lock before their position: the next append can only take a position once
# the previous one is visible, so visibility follows position order, as the eventsourcing
# library does with LOCK TABLE. Appends to all plans queue on it, for about one commit each.
APPEND_LOCK = 0x706C616E6576  # "planev"

_PG_APPEND = text(
    f"WITH serialised AS MATERIALIZED (SELECT pg_advisory_xact_lock({scoped('lock')})),"
    " appended AS ("
    " INSERT INTO events (stream_id, version, type, schema_version, data, meta, recorded_at,"
    " prev_hash, hash) SELECT :stream_id, :version, :type, :schema_version,"
    " CAST(:data AS JSON), CAST(:meta AS JSON), :recorded_at, :prev_hash, :hash"
    " FROM serialised RETURNING position),"
    " indexed AS (INSERT INTO event_nodes (stream_id, node_id, version)"
    " SELECT :stream_id, node, :version FROM unnest(CAST(:nodes AS TEXT[])) AS node)"
    " SELECT position FROM appended"
)
# The same, with an idempotency key's row: one statement still, so one round trip.
_PG_APPEND_KEYED = text(
    _PG_APPEND.text.removesuffix(" SELECT position FROM appended")
    + ", keyed AS (INSERT INTO command_keys (stream_id, actor, idempotency_key, request_hash,"
    " version, recorded_at) SELECT :stream_id, :actor, :idempotency_key, :request_hash,"
    " :version, :recorded_at FROM appended)"
    " SELECT position FROM appended"
)


async def insert_postgres(
    conn: AsyncConnection,
    values: dict[str, Any],
    touched: list[str],
    command: CommandKey | None,
) -> int:
    # One round trip: the event and its node index in a single statement.
    params = {
        **values,
        "data": canonical_text(values["data"]),
        "meta": canonical_text(values["meta"]),
        "recorded_at": values["recorded_at"].astimezone(dt.UTC),
        "nodes": touched,
        "lock": APPEND_LOCK,
    }
    statement = _PG_APPEND
    if command is not None:
        statement = _PG_APPEND_KEYED
        params.update(key_row(values, command), recorded_at=params["recorded_at"])
    position: int = (await conn.execute(statement, params)).scalar_one()
    return position
