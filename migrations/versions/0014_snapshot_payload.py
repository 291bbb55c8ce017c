"""Snapshots in a binary format: a `payload` column for format 2's MessagePack state.

Format 1 kept the state as JSON in `state`, decoded field by field like the events, so reading
a large plan from its snapshot cost about as much as folding it (issue 16's cold dashboard).
Format 2 rows keep JSON null in `state` and the state in `payload`; format 1 rows stay, are
still read, and are replaced by format 2 when next saved (a snapshot may be deleted, never
updated: 0007).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("snapshots", sa.Column("payload", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # Format 2 rows mean nothing without their payload; snapshots are a cache of the log.
    op.execute("DELETE FROM snapshots WHERE payload IS NOT NULL")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("snapshots", "payload")
    else:
        # SQLite copies the table to drop a column, which drops its trigger: made again.
        op.execute("DROP TRIGGER snapshots_no_update")
        with op.batch_alter_table("snapshots") as batch:
            batch.drop_column("payload")
        op.execute(
            "CREATE TRIGGER snapshots_no_update BEFORE UPDATE ON snapshots "
            "BEGIN SELECT RAISE(ABORT, 'the snapshots table is append-only: UPDATE refused'); END"
        )
