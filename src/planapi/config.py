"""Settings: one typed object, read from the environment (`PLANAPI_…`), checked at start."""

from __future__ import annotations

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
    model_config = SettingsConfigDict(env_prefix="PLANAPI_", extra="ignore")

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
