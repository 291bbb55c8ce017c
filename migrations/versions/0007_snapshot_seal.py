"""Sealed snapshots: bound to their version's chain hash, authenticated by an HMAC whose key
lives outside the database, and never updated in place.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("snapshots", sa.Column("chain_hash", sa.LargeBinary(), nullable=True))
    op.add_column("snapshots", sa.Column("seal", sa.LargeBinary(), nullable=True))
    # Snapshots are a cache: the unsealed ones would be ignored anyway, and later reads write
    # sealed ones in their place.
    op.execute("DELETE FROM snapshots")
    # A snapshot is replaced (DELETE, INSERT), never rewritten: an UPDATE is refused. DELETE
    # stays allowed, as for any cache.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER snapshots_no_update BEFORE UPDATE ON snapshots "
            "FOR EACH ROW EXECUTE FUNCTION planapi_refuse_change()"
        )
    else:
        op.execute(
            "CREATE TRIGGER snapshots_no_update BEFORE UPDATE ON snapshots "
            "BEGIN SELECT RAISE(ABORT, 'the snapshots table is append-only: UPDATE refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER snapshots_no_update ON snapshots")
    else:
        op.execute("DROP TRIGGER snapshots_no_update")
    with op.batch_alter_table("snapshots") as batch:
        batch.drop_column("seal")
        batch.drop_column("chain_hash")
