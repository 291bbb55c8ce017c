"""Index of which versions touched which node, for node history and blame.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def touched_in_stored(data: Mapping[str, Any]) -> set[str]:
    """The nodes a stored event's payload touched, read from its JSON as stored when this
    migration was written (every event type and schema version then keeps its node facts in
    "changes"). A frozen copy of `planapi.domain.history.touched_nodes`: a migration must do
    the same thing forever, whatever the live code becomes. A test checks the two agree."""
    found: set[str] = set()
    for change in data.get("changes", ()):
        kind = change["type"]
        if kind == "NodeAdded":
            found.add(change["node"]["id"])
        elif kind in ("NodeUpdated", "NodeRemoved", "NodeMoved"):
            found.add(change["node_id"])
        elif kind in ("NodesLinked", "NodesUnlinked"):
            found.update((change["from_id"], change["to_id"]))
    return found


def upgrade() -> None:
    table = op.create_table(
        "event_nodes",
        sa.Column("stream_id", sa.Text(), nullable=False),
        sa.Column("node_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("stream_id", "node_id", "version", name="pk_event_nodes"),
    )
    # Events stored before this migration get their entries from the log itself.
    events = sa.table(
        "events",
        sa.column("stream_id", sa.Text()),
        sa.column("version", sa.Integer()),
        sa.column("data", sa.JSON()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(events).order_by(events.c.stream_id, events.c.version))
    batch: list[dict[str, object]] = []
    for row in rows:
        batch += [
            {"stream_id": row.stream_id, "node_id": node, "version": row.version}
            for node in sorted(touched_in_stored(row.data))
        ]
        if len(batch) >= 5_000:
            op.bulk_insert(table, batch)
            batch = []
    if batch:
        op.bulk_insert(table, batch)
    # Hiding a row would hide a history entry while the chains still verify: as append-only
    # as the log it indexes.
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER event_nodes_append_only BEFORE UPDATE OR DELETE ON event_nodes "
            "FOR EACH ROW EXECUTE FUNCTION planapi_refuse_change()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER event_nodes_no_{action.lower()} BEFORE {action} ON event_nodes "
                f"BEGIN SELECT RAISE(ABORT, 'the event_nodes table is append-only: {action} "
                "refused'); END"
            )


def downgrade() -> None:
    # Dropping the table drops its triggers with it, on both backends.
    op.drop_table("event_nodes")
