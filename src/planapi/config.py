"""Settings: one typed object, read from the environment (`PLANAPI_…`), checked at start."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class Settings(BaseSettings):
    # An empty variable means "the default", as in the env.example templates.
    model_config = SettingsConfigDict(env_prefix="PLANAPI_", extra="ignore", env_ignore_empty=True)

    database_url: str = Field(
        "sqlite+aiosqlite:///var/planapi.db",
        description="sqlite+aiosqlite:///path.db (default) or postgresql+asyncpg://user@host/db",
    )
    database_schema: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$",
        description="PostgreSQL only: the schema to use instead of `public`.",
    )
    default_actor: str = Field(
        "planapi", min_length=1, description="Recorded as `actor` until access control exists."
    )
    snapshot_interval: int = Field(100, ge=1, description="Store a snapshot every K versions.")
    version_cache_size: int = Field(512, ge=0, description="Reconstructed versions kept in memory.")
    max_readings_per_batch: int = Field(10_000, ge=1, description="Readings per batch, at most.")
    max_ingest_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Largest body POST /ingest/readings accepts."
    )
    db_pool_size: int = Field(10, ge=1)
    max_query_depth: int = Field(15, ge=2)
    max_query_tokens: int = Field(5_000, ge=100)
    max_query_aliases: int = Field(30, ge=1)
    graphiql: bool = Field(True, description="Serve GraphiQL at /graphql.")
    # Running the process (see docs/deployment.md).
    host: str = Field("127.0.0.1", min_length=1, description="`planapi serve` binds this address.")
    port: int = Field(8000, ge=1, le=65535, description="`planapi serve` listens on this port.")
    shutdown_timeout: int = Field(
        30, ge=1, description="Seconds in-flight requests get to finish after SIGTERM."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="text for people; json: one JSON object per line, for collectors."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    metrics: bool = Field(True, description="Serve Prometheus metrics at /metrics.")
    tracing: Literal["off", "console", "otlp"] = Field(
        "off", description="OpenTelemetry spans per GraphQL operation (needs planapi[tracing])."
    )
    # The relay (`planapi relay`): the event log, in order, to NATS JetStream.
    nats_url: str = Field("nats://127.0.0.1:4222", pattern=r"^(nats|tls)://")
    relay_name: str = Field(
        "default", pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Whose position is stored."
    )
    relay_stream: str = Field("PLANAPI_EVENTS", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    relay_subject_prefix: str = Field(
        "planapi.events", pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$"
    )
    relay_batch_size: int = Field(500, ge=1, le=10_000)
    relay_poll_interval: float = Field(0.5, gt=0, description="Seconds between looks when idle.")
    relay_duplicate_window: float = Field(
        120, ge=1, description="Seconds JetStream remembers message ids to drop re-publishes."
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        scheme, sep, rest = url.partition("://")
        if not sep or scheme not in _DRIVERS:
            raise ValueError(
                f"unsupported database URL scheme {scheme!r}: use "
                "sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host:port/db"
            )
        return f"{_DRIVERS[scheme]}://{rest}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
