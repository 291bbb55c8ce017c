"""Search reads one version's texts through one GIN index (issue 18's search benchmark).

0012's GIN index held `tsv` alone: a search had to find the version's rows by the primary key
and test every text of it (six languages of a 1,000-KPI plan: 12,000 tsvectors per search),
or read the index for every version of every plan. This index is over (plan_id, version,
tsv) — `btree_gin` lets a GIN index hold plain columns — so one index scan finds exactly the
matching texts of one version. `fastupdate = off`: rows are written once per version and
searched many times, so they go straight into the index rather than into a pending list that
every search would scan until the next vacuum. SQLite (which searches with FTS5 and leaves the
table empty) gets the same index as a plain one, so both schemas stay alike.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # A trusted extension (PostgreSQL 13+): a database owner may create it. Extensions
        # belong to the database, not to a schema: created in the search path's schema, it
        # would go with that schema's DROP ... CASCADE, taking the indexes of every other
        # deployment in the database with it. It goes into `public`, once; the lock (database
        # wide on purpose) keeps two deployments migrating at once from both creating it.
        op.execute("SELECT pg_advisory_xact_lock(7020108789265743465)")  # "btree_gin"
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA public")
    op.create_index(
        "ix_search_texts_scope",
        "search_texts",
        ["plan_id", "version", "tsv"],
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    )
    op.drop_index("ix_search_texts_tsv", table_name="search_texts")


def downgrade() -> None:
    op.create_index("ix_search_texts_tsv", "search_texts", ["tsv"], postgresql_using="gin")
    op.drop_index("ix_search_texts_scope", table_name="search_texts")
    # btree_gin stays: other objects may use it, and it costs nothing unused.
