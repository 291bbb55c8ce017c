"""Idempotency keys of plan commands (createPlan, amendPlan), per plan and caller.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from planapi.adapters.tables import UtcDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Written in the transaction that appends the event, so a key never outlives (or misses)
    # the version it produced. Not part of the hash chain: it records who asked, not what
    # changed, and the version it names is itself chained.
    op.create_table(
        "command_keys",
        sa.Column("stream_id", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.LargeBinary(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("stream_id", "actor", "idempotency_key", name="pk_command_keys"),
    )


def downgrade() -> None:
    op.drop_table("command_keys")
