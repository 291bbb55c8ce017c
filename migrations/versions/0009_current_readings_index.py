"""An index for the in-process summary of current readings: a plan's series in batch order.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The summary of current readings (application/reading_summary.py) is built from a plan's
    # total series once, then caught up with the batches after the last it applied: both are
    # ranges of this index, whatever else the table holds.
    op.create_index(
        "ix_readings_plan_id_series_batch_id",
        "readings",
        ["plan_id", "series", "batch_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_readings_plan_id_series_batch_id", table_name="readings")
