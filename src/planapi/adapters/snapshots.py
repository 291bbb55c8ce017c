"""Snapshots of plan states every K versions, so reading version N folds only a few events.

Snapshots are a cache of the log, not part of the record: they may be deleted at any time, and a
snapshot written in an older format is ignored rather than read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.tables import snapshots
from planapi.application.ports import Clock
from planapi.application.primitives import node_from_primitive, node_to_primitive
from planapi.domain.links import Link, LinkRelation
from planapi.domain.plan import EMPTY, PlanBuilder, PlanState

SNAPSHOT_FORMAT = 1


def state_to_primitive(state: PlanState) -> dict[str, Any]:
    return {
        "id": state.id,
        "title": state.title,
        "description": state.description,
        "period_start": state.period_start,
        "period_end": state.period_end,
        "version": state.version,
        # Parents before children, each list in sibling order: enough to rebuild the tree.
        "nodes": [node_to_primitive(node) for node in state.walk()],
        "links": [[link.from_id, link.to_id, link.relation.value] for link in sorted(state.links)],
        "retired": sorted(state.retired_ids),
    }


def state_from_primitive(raw: dict[str, Any]) -> PlanState:
    builder = PlanBuilder(EMPTY)
    builder.id, builder.title, builder.description = raw["id"], raw["title"], raw["description"]
    builder.period_start, builder.period_end = raw["period_start"], raw["period_end"]
    builder.version = raw["version"]
    for item in raw["nodes"]:
        node = node_from_primitive(item)
        builder.nodes[node.id] = node
        builder.children.setdefault(node.parent_id, []).append(node.id)
    builder.links = {Link(a, b, LinkRelation(r)) for a, b, r in raw["links"]}
    builder.retired = set(raw["retired"])
    return builder.freeze()


class SqlSnapshotStore:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    async def nearest(self, stream_id: str, version: int) -> PlanState | None:
        query = (
            select(snapshots.c.state)
            .where(
                snapshots.c.stream_id == stream_id,
                snapshots.c.version <= version,
                snapshots.c.schema_version == SNAPSHOT_FORMAT,
            )
            .order_by(snapshots.c.version.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            raw = (await conn.execute(query)).scalar()
        return state_from_primitive(raw) if raw is not None else None

    async def save(self, stream_id: str, state: PlanState) -> None:
        row = {
            "stream_id": stream_id,
            "version": state.version,
            "schema_version": SNAPSHOT_FORMAT,
            "state": state_to_primitive(state),
            "created_at": self.clock.now(),
        }
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(snapshots).values(**row))
        except IntegrityError:
            pass  # another process saved the same version first: same content, nothing lost
