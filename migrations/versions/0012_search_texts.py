"""The search index's texts (issue 18): one row per text of a searched plan version and language.

PostgreSQL matches them with each language's text search configuration (`tsv`, a GIN index);
Chinese, which no built-in configuration splits into words, is indexed as character bigrams
under `simple`. SQLite gets the same table for a uniform schema but searches with FTS5 in
memory (`adapters/search_sqlite.py`). The rows are derived from the events and may be deleted.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_texts",
        sa.Column("plan_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lang", sa.Text(), nullable=False),
        sa.Column("node_id", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tsv", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql")),
        sa.PrimaryKeyConstraint(
            "plan_id", "version", "lang", "node_id", "field", name="pk_search_texts"
        ),
    )
    op.create_index("ix_search_texts_tsv", "search_texts", ["tsv"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_search_texts_tsv", table_name="search_texts")
    op.drop_table("search_texts")
