"""Authority grants on API tokens (review:TDAG, adopt:WTDC …), for proposals (issue 17).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Null for tokens made before: they hold no grant, as they did not.
    # A plain ADD COLUMN on both backends (no table rebuild: the partial unique index stays).
    op.add_column("api_tokens", sa.Column("grants", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("api_tokens", "grants")
