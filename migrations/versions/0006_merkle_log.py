"""Merkle logs over the events and the readings batches, and their signed checkpoints.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from planapi.adapters.tables import UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GUARDED = ("log_leaves", "log_nodes", "log_checkpoints")


def upgrade() -> None:
    # Filled by the log follower from the existing rows on its first round (no backfill here:
    # a large log would hold the migration for minutes).
    op.create_table(
        "log_leaves",
        sa.Column("log", sa.Text(), nullable=False),
        sa.Column("leaf", sa.BigInteger(), nullable=False),
        sa.Column("ref", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("log", "leaf", name="pk_log_leaves"),
        sa.UniqueConstraint("log", "ref", name="uq_log_leaves_log_ref"),
    )
    op.create_table(
        "log_nodes",
        sa.Column("log", sa.Text(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("log", "level", "idx", name="pk_log_nodes"),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("log", sa.Text(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("log", "tree_size", name="pk_log_checkpoints"),
    )
    for table in _GUARDED:
        _guard(table)


def _guard(table: str) -> None:
    """Append-only like the log it covers (a determined insider can drop a trigger; a witness's
    checkpoint is what catches that)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION planapi_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION planapi_refuse_change()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'the {table} table is append-only: {action} refused'); END"
        )


def downgrade() -> None:
    for table in reversed(_GUARDED):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        else:
            op.execute(f"DROP TRIGGER {table}_no_update")
            op.execute(f"DROP TRIGGER {table}_no_delete")
        op.drop_table(table)
