"""The storage schema as SQLAlchemy Core tables; alembic migrations create exactly this."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Dialect,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    cast,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC in and out, on SQLite too (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    }
)

# SQLite only gives an auto-increment to INTEGER PRIMARY KEY columns.
Position = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("position", Position, Identity(), primary_key=True),
    Column("stream_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", Text, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    Column("meta", JSON, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("prev_hash", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    UniqueConstraint("stream_id", "version"),
    Index(None, "stream_id", "recorded_at"),
    sqlite_autoincrement=True,
)
# An event row as its hash chain covers it: data and meta as the text they were stored as
# (canonical), never re-encoded. What the feeds hand on and what the Merkle log's leaves are.
EVENT_AS_CHAINED = (
    events.c.position,
    events.c.stream_id,
    events.c.version,
    events.c.type,
    events.c.schema_version,
    events.c.recorded_at,
    cast(events.c.data, Text).label("data"),
    cast(events.c.meta, Text).label("meta"),
    events.c.prev_hash,
)

# Which versions touched which node: a projection of the log (rebuildable from it), written in
# the same statement as the event, so a node's history never needs a replay.
event_nodes = Table(
    "event_nodes",
    metadata,
    Column("stream_id", Text, nullable=False),
    Column("node_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("stream_id", "node_id", "version"),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("stream_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("schema_version", Integer, nullable=False),
    # Format 1's state as JSON; JSON null from format 2 on, whose state is `payload`.
    Column("state", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # The chain hash of `version` in the log, and an HMAC-SHA256 (key outside the database)
    # over stream, version, chain hash and the state's bytes; null before migration 0007.
    Column("chain_hash", LargeBinary, nullable=True),
    Column("seal", LargeBinary, nullable=True),
    # Format 2 on: the state as MessagePack (adapters/snapshot_format.py); null before 0014.
    Column("payload", LargeBinary, nullable=True),
    PrimaryKeyConstraint("stream_id", "version"),
)

# One row per accepted batch of readings, hash-chained in order; the readings of a batch are
# covered by its hash through their content hashes.
reading_batches = Table(
    "reading_batches",
    metadata,
    Column("id", Position, Identity(), primary_key=True),
    Column("plan_id", Text, nullable=False),
    Column("idempotency_key", Text, nullable=True),
    Column("request_hash", LargeBinary, nullable=False),
    Column("actor", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("stored", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("prev_hash", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    UniqueConstraint("idempotency_key"),
    sqlite_autoincrement=True,
)

readings = Table(
    "readings",
    metadata,
    Column("id", Position, Identity(), primary_key=True),
    # No foreign key: a per-row check would halve bulk ingestion, and the hash chain already
    # proves every reading belongs to the batch that recorded it (`verify`).
    Column("batch_id", Position, nullable=False),
    Column("plan_id", Text, nullable=False),
    Column("kpi_id", Text, nullable=False),
    Column("series", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("status", Text, nullable=False),
    # Decimals as their exact text ("2.50" keeps its scale), the same on both backends.
    Column("value", Text, nullable=True),
    Column("numerator", Text, nullable=True),
    Column("denominator", Text, nullable=True),
    Column("text", Text, nullable=True),
    Column("source", Text, nullable=True),
    Column("source_reading_id", Text, nullable=True),
    Column("note", Text, nullable=True),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("content_hash", LargeBinary, nullable=False),
    Index(None, "plan_id", "kpi_id", "series", "period_start"),
    Index(None, "plan_id", "series", "batch_id"),  # the summary of current readings
    Index(None, "source", "source_reading_id"),
    sqlite_autoincrement=True,
)

# The idempotency keys of plan commands (createPlan, amendPlan), per plan and caller: which
# version a key produced and a hash of the request that came with it. Written in the same
# transaction as the event append.
command_keys = Table(
    "command_keys",
    metadata,
    Column("stream_id", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("idempotency_key", Text, nullable=False),
    Column("request_hash", LargeBinary, nullable=False),
    Column("version", Integer, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("stream_id", "actor", "idempotency_key"),
)

# Where each relay (`planapi relay`) has published the log up to: the last position whose
# publication the broker acknowledged. Updated in place; not part of the record.
relay_positions = Table(
    "relay_positions",
    metadata,
    Column("name", Text, nullable=False),
    Column("position", BigInteger, nullable=False),
    PrimaryKeyConstraint("name"),
)

# API tokens (`planapi tokens`): the secret is never stored, only its SHA-256. Not part of the
# record: revoking and noting the last use update rows in place.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("plans", JSON, nullable=True),  # an integrator's scope; null: any
    Column("kpis", JSON, nullable=True),
    Column("token_hash", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
    # Authority grants for proposals (["review:TDAG", "adopt:WTDC"]); null before 0012: none.
    Column("grants", JSON, nullable=True),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("token_hash"),
    # One active token per name, so `revoke NAME` and the actor it records are unambiguous.
    Index(
        "ix_api_tokens_active_name",
        "name",
        unique=True,
        postgresql_where=text("revoked_at IS NULL"),
        sqlite_where=text("revoked_at IS NULL"),
    ),
)

# The Merkle logs (docs/security.md, "Proofs"): one per origin ("events", "readings"). A leaf is
# numbered in commit order and names the row it covers (`ref`: an event position or a batch id);
# `log_nodes` keeps every complete subtree above the leaves, so a proof reads O(log n) rows.
log_leaves = Table(
    "log_leaves",
    metadata,
    Column("log", Text, nullable=False),
    Column("leaf", BigInteger, nullable=False),
    Column("ref", BigInteger, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    PrimaryKeyConstraint("log", "leaf"),
    UniqueConstraint("log", "ref"),
)

log_nodes = Table(
    "log_nodes",
    metadata,
    Column("log", Text, nullable=False),
    Column("level", Integer, nullable=False),
    Column("idx", BigInteger, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    PrimaryKeyConstraint("log", "level", "idx"),
)

# The operator's copy of each signed checkpoint; witnesses keep theirs outside the database.
log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("log", Text, nullable=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("log", "tree_size"),
)

# Execution records of operational plans (migration 0010): facts sent by integrations, each
# idempotent by its key within the plan, hash-chained per plan in id order.
execution_records = Table(
    "execution_records",
    metadata,
    Column("id", Position, Identity(), primary_key=True),
    Column("plan_id", Text, nullable=False),
    Column("record_key", Text, nullable=False),
    Column("activity_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("status", Text, nullable=True),
    Column("milestone_key", Text, nullable=True),
    Column("year", Integer, nullable=True),
    Column("source", Text, nullable=True),
    Column("amount", Text, nullable=True),  # CHF as exact text, the same on both backends
    Column("actor", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("prev_hash", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    UniqueConstraint("plan_id", "record_key"),
    sqlite_autoincrement=True,
)


# The search index's texts (migration 0012): derived from plan versions, deletable at will.
# One GIN index over the version and its tsvectors (0013, btree_gin): a search reads only the
# matching texts of one version.
search_texts = Table(
    "search_texts",
    metadata,
    Column("plan_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("lang", Text, nullable=False),
    Column("node_id", Text, nullable=False),
    Column("field", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("tsv", Text().with_variant(TSVECTOR(), "postgresql"), nullable=True),
    PrimaryKeyConstraint("plan_id", "version", "lang", "node_id", "field"),
    Index(
        "ix_search_texts_scope",
        "plan_id",
        "version",
        "tsv",
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    ),
)
