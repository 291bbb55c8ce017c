"""Settings: one typed object, read from the environment (`PLANAPI_…`), checked at start."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from planapi.domain.events import Authority

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
        "planapi",
        min_length=1,
        description="The `actor` of what the service writes itself (seeding); API writes record "
        "the caller.",
    )
    snapshot_interval: int = Field(100, ge=1, description="Store a snapshot every K versions.")
    snapshot_key_file: str | None = Field(
        None,
        description="File holding the key that seals snapshots (hex, 32+ bytes; made with "
        "mode 0600 if absent). Unset: `snapshot.key` beside a SQLite database; on PostgreSQL "
        "snapshots are off.",
    )
    version_cache_size: int = Field(512, ge=0, description="Reconstructed versions kept in memory.")
    version_cache_bytes: int = Field(
        64 * 1024 * 1024,
        ge=0,
        description="Memory the reconstructed versions kept may hold, their shared nodes counted "
        "once; 0: none kept.",
    )
    max_readings_per_batch: int = Field(10_000, ge=1, description="Readings per batch, at most.")
    max_ingest_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Largest body POST /ingest/readings accepts."
    )
    db_pool_size: int = Field(10, ge=1)
    db_max_overflow: int = Field(
        10, ge=0, description="PostgreSQL connections a process may open beyond the pool size."
    )
    # Speed (docs/performance.md).
    response_cache_bytes: int = Field(
        64 * 1024 * 1024, ge=0, description="Memory for cached GraphQL answers; 0: no cache."
    )
    response_cache_hit_layer: bool = Field(
        True,
        description="Answer the response cache's hits in one layer in front of the middleware "
        "(entrypoints/hit_layer.py); false: through every layer.",
    )
    prepared_requests_bytes: int = Field(
        2 * 1024 * 1024,
        ge=0,
        description="Memory for GraphQL request bodies kept parsed, so a repeated query is not "
        "parsed, keyed and planned again; 0: none kept.",
    )
    response_gzip: bool = Field(
        True,
        description="gzip GraphQL answers of 1400 bytes or more for clients whose "
        "Accept-Encoding takes it, a stored answer's once (api/runtime/compression.py); "
        "false: always identity.",
    )
    trusted_documents_file: str = Field(
        "schema/trusted-documents.json", description="The trusted documents (persisted queries)."
    )
    trusted_documents_only: bool = Field(
        False, description="Refuse every GraphQL document that is not a trusted one."
    )
    workers: int = Field(1, ge=1, description="`planapi serve` worker processes (--workers).")
    max_query_depth: int = Field(15, ge=2)
    max_query_tokens: int = Field(5_000, ge=100)
    # Per role, never over PLANAPI_MAX_QUERY_TOKENS (unset: that one). GraphiQL's
    # introspection query is 183 tokens, the largest document this repository sends 231.
    max_query_tokens_anonymous: int | None = Field(2_000, ge=100)
    max_query_tokens_reader: int | None = Field(None, ge=100)
    max_query_tokens_auditor: int | None = Field(None, ge=100)
    max_query_tokens_editor: int | None = Field(None, ge=100)
    max_query_tokens_integrator: int | None = Field(None, ge=100)
    max_query_tokens_admin: int | None = Field(None, ge=100)
    max_query_aliases: int = Field(30, ge=1)
    max_query_selections: int = Field(
        2_000, ge=50, description="Fields, spreads and inline fragments, fragments expanded."
    )
    max_query_field_pairs: int = Field(
        500, ge=10, description="Same-named fields (and fragments) in one selection, paired."
    )
    # Access control and request limits (docs/security.md).
    anonymous_role: Literal["none", "reader", "auditor"] = Field(
        "reader", description="What callers without credentials may do (read-only; none: off)."
    )
    token_cache_seconds: float = Field(
        5, ge=0, le=300, description="A revoked API token is refused within this many seconds."
    )
    oidc_issuer: str | None = Field(None, description="Accept bearer JWTs from this issuer.")
    oidc_audience: str | None = Field(None, description="The `aud` JWTs must name.")
    oidc_jwks_url: str | None = Field(None, description="The issuer's JWKS (https).")
    oidc_jwks_file: str | None = Field(None, description="Or the JWKS as a file.")
    oidc_algorithms: str = Field(
        "RS256,PS256,ES256,EdDSA", description="Accepted JWT algorithms, comma-separated."
    )
    oidc_roles_claim: str = Field("roles", description="Claim (dotted path) naming planapi roles.")
    oidc_role_prefix: str = Field("", description="Prefix of role names in that claim.")
    oidc_name_claim: str = Field("sub", description="Claim recorded as `actor`.")
    oidc_plans_claim: str = Field("planapi_plans", description="An integrator's plans.")
    oidc_kpis_claim: str = Field("planapi_kpis", description="An integrator's KPIs.")
    oidc_grants_claim: str = Field(
        "planapi_grants", description="Authority grants for proposals (review:TDAG, adopt:WTDC)."
    )
    proposal_authorities: str = Field(
        "",
        description="Authorities whose amendments must go through proposals, comma-separated "
        "(WTDC,COUNCIL); amendPlan under them is refused, naming proposeAmendment. Default: none.",
    )
    oidc_leeway: float = Field(30, ge=0, le=300, description="Seconds of clock skew allowed.")
    oidc_jwks_cache_seconds: float = Field(300, ge=1, description="Re-read the JWKS this often.")
    max_graphql_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="Largest body POST /graphql accepts."
    )
    # Per role, never over PLANAPI_MAX_GRAPHQL_BYTES (unset: that). Callers who cannot write
    # never need big bodies, and anonymous ones are many and unknown; an editor's 1,000
    # changes fit 2 MiB, an integrator's 10,000 readings with sources and notes ~3 MB.
    max_graphql_bytes_anonymous: int | None = Field(64 * 1024, ge=1024)
    max_graphql_bytes_reader: int | None = Field(1024 * 1024, ge=1024)
    max_graphql_bytes_auditor: int | None = Field(1024 * 1024, ge=1024)
    max_graphql_bytes_editor: int | None = Field(2 * 1024 * 1024, ge=1024)
    max_graphql_bytes_integrator: int | None = Field(None, ge=1024)
    max_graphql_bytes_admin: int | None = Field(None, ge=1024)
    max_query_cost_anonymous: int = Field(250_000, ge=1, description="Query cost budgets.")
    max_query_cost_reader: int = Field(1_000_000, ge=1)
    max_query_cost_auditor: int = Field(1_000_000, ge=1)
    max_query_cost_editor: int = Field(1_000_000, ge=1)
    max_query_cost_integrator: int = Field(1_000_000, ge=1)
    max_query_cost_admin: int = Field(1_000_000, ge=1)
    rate_limit_per_second: float = Field(
        20, ge=0, description="Requests per second per token (anonymous: per address); 0: off."
    )
    rate_limit_burst: int = Field(100, ge=1, description="Requests a caller may send at once.")
    max_subscriptions_per_connection: int = Field(20, ge=1)
    graphiql: bool = Field(True, description="Serve GraphiQL at /graphql.")
    # Browsers on other origins (docs/security.md) and batches (docs/graphql-over-http.md).
    cors_origins: str = Field(
        "",
        description="Origins whose pages may call the API, comma-separated "
        "(https://app.example.org,http://localhost:3000; * for any); empty: same origin only.",
    )
    max_batch: int = Field(
        10, ge=0, le=1000, description="Operations in one batched POST /graphql; 0: no batches."
    )
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
    # The Merkle logs and their signed checkpoints (docs/security.md, "Proofs").
    log_origin: str = Field(
        "planapi.local",
        pattern=r"^[^\s+]+$",
        description="The logs' origins are ORIGIN/events and ORIGIN/readings; also the key name.",
    )
    log_signing_key_file: str | None = Field(
        None, description="The checkpoint signing key (`planapi keys create`); none: no signing."
    )
    log_signing_key: str | None = Field(
        None, description="Or the key itself (PRIVATE+KEY+…), e.g. from a secret store."
    )
    log_past_keys: str = Field(
        "", description="Earlier verifier keys (name+hash+key), comma-separated: still listed."
    )
    checkpoint_every: int = Field(1_000, ge=1, description="Sign once this many leaves are new.")
    checkpoint_seconds: float = Field(
        60, gt=0, description="Or once an unsigned leaf is this many seconds old."
    )
    log_follow_interval: float = Field(
        1.0, ge=0, description="Seconds between rounds of the log follower in `serve`; 0: off."
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

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for entry in (part.strip() for part in value.split(",")):
            if not entry or entry == "*":
                continue
            url = urlsplit(entry)
            if url.scheme not in {"http", "https"} or not url.hostname or url.path not in {"", "/"}:
                raise ValueError(
                    f"{entry!r} is not an origin: write scheme://host[:port], e.g. "
                    "https://app.example.org or http://localhost:3000"
                )
        return value

    @field_validator("proposal_authorities")
    @classmethod
    def _authorities(cls, value: str) -> str:
        known = {authority.value for authority in Authority}
        unknown = {a.strip().upper() for a in value.split(",") if a.strip()} - known
        if unknown:
            raise ValueError(f"unknown authorities {sorted(unknown)}: use {sorted(known)}")
        return value

    @property
    def proposal_authority_set(self) -> frozenset[Authority]:
        return frozenset(
            Authority(a.strip().upper()) for a in self.proposal_authorities.split(",") if a.strip()
        )

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        if self.oidc_issuer is None:
            return self
        if not self.oidc_audience:
            raise ValueError("PLANAPI_OIDC_AUDIENCE is required with PLANAPI_OIDC_ISSUER")
        if (self.oidc_jwks_url is None) == (self.oidc_jwks_file is None):
            raise ValueError(
                "give one of PLANAPI_OIDC_JWKS_URL and PLANAPI_OIDC_JWKS_FILE with "
                "PLANAPI_OIDC_ISSUER"
            )
        url = urlsplit(self.oidc_jwks_url or "https://set")
        local = url.hostname in {"localhost", "127.0.0.1", "::1"}
        if url.scheme != "https" and not (url.scheme == "http" and local):
            raise ValueError("PLANAPI_OIDC_JWKS_URL must be https (plain http only on loopback)")
        weak = {"none", "HS256", "HS384", "HS512"} & set(self.algorithm_list)
        if weak or not self.algorithm_list:
            raise ValueError(
                f"PLANAPI_OIDC_ALGORITHMS: refused {', '.join(sorted(weak)) or 'an empty list'}"
            )
        return self

    @property
    def algorithm_list(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.oidc_algorithms.split(",") if a.strip())
