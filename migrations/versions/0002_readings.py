"""KPI readings: append-only, batch-chained, idempotent.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from planapi.adapters.tables import UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_GUARDED = ("reading_batches", "readings")


def upgrade() -> None:
    op.create_table(
        "reading_batches",
        sa.Column("id", _ID, sa.Identity(), primary_key=True),
        sa.Column("plan_id", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("request_hash", sa.LargeBinary(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reading_batches"),
        sa.UniqueConstraint("idempotency_key", name="uq_reading_batches_idempotency_key"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "readings",
        sa.Column("id", _ID, sa.Identity(), primary_key=True),
        sa.Column("batch_id", _ID, nullable=False),
        sa.Column("plan_id", sa.Text(), nullable=False),
        sa.Column("kpi_id", sa.Text(), nullable=False),
        sa.Column("series", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("numerator", sa.Text(), nullable=True),
        sa.Column("denominator", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_reading_id", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("content_hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_readings"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_readings_plan_id_kpi_id_series_period_start",
        "readings",
        ["plan_id", "kpi_id", "series", "period_start"],
    )
    op.create_index(
        "ix_readings_source_source_reading_id", "readings", ["source", "source_reading_id"]
    )
    for table in _GUARDED:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION planapi_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION planapi_refuse_change()"
            )
        else:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'the {table} table is append-only: "
                    f"{action} refused'); END"
                )


def downgrade() -> None:
    for table in reversed(_GUARDED):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        else:
            op.execute(f"DROP TRIGGER {table}_no_update")
            op.execute(f"DROP TRIGGER {table}_no_delete")
    op.drop_index("ix_readings_source_source_reading_id", table_name="readings")
    op.drop_index("ix_readings_plan_id_kpi_id_series_period_start", table_name="readings")
    op.drop_table("readings")
    op.drop_table("reading_batches")
