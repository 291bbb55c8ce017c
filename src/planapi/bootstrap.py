"""The one place that picks concrete adapters and wires them into the use cases."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.clock import SystemClock
from planapi.adapters.current_readings import SqlTotalSeries
from planapi.adapters.database import (
    deployment_engine,
    local_file,
    migrates_itself,
    seeds_itself,
)
from planapi.adapters.event_store import SqlEventStore
from planapi.adapters.execution_store import SqlExecutionStore
from planapi.adapters.failures import quiet_lost_waiters
from planapi.adapters.feeds import SqlEventLog, SqlReadingLog
from planapi.adapters.heads import SqlHeads
from planapi.adapters.merkle_log import LogRecomputation, SqlMerkleLog
from planapi.adapters.migrations import pending, upgrade
from planapi.adapters.notify import notifier_for
from planapi.adapters.proposal_store import SqlProposalLog
from planapi.adapters.readings_store import SqlReadingStore
from planapi.adapters.relay_positions import SqlRelayPositions
from planapi.adapters.search_index import search_index
from planapi.adapters.signing_keys import load_past_keys, load_signer
from planapi.adapters.snapshot_key import load_or_create_key
from planapi.adapters.snapshots import SqlSnapshotStore, UnkeyedSnapshotStore
from planapi.adapters.token_store import SqlTokenStore
from planapi.application.access import Role
from planapi.application.authn import Authenticator
from planapi.application.execution import ExecutionService
from planapi.application.feed import EventFeed
from planapi.application.heads_tracker import HeadsTracker
from planapi.application.live import (
    PLAN_EVENTS,
    READING_BATCHES,
    LiveUpdates,
    NotifyingEventStore,
    NotifyingReadingStore,
)
from planapi.application.plans import PlanService
from planapi.application.ports import BearerVerifier, Clock, Notifier
from planapi.application.proposals import ProposalService
from planapi.application.reading_summary import CurrentReadings
from planapi.application.readings import ReadingService
from planapi.application.search import SearchService
from planapi.application.tokens import TokenService
from planapi.application.transparency import LogSettings, Transparency
from planapi.config import Settings
from planapi.domain.nodes import Node, NodeKind


class NotMigratedError(RuntimeError):
    """The database schema is older than the code: run `planapi migrate`."""


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    plans: PlanService
    readings: ReadingService
    notifier: Notifier
    feed: EventFeed
    live: LiveUpdates
    # Each plan's latest version and batch, and the logs' heads, in memory: what "latest"
    # resolves to and what cached answers are keyed by (started by the server's lifespan).
    heads: HeadsTracker | None = None

    # Who is calling (docs/security.md): API tokens, OIDC bearer JWTs, anonymous callers.
    tokens: TokenService | None = None
    authenticator: Authenticator | None = None
    # The Merkle logs: proofs, checkpoints, and the follower that keeps them.
    transparency: Transparency | None = None
    # Whether the server seeds the demo plan into an empty database at start (the backend's
    # call: see adapters/database.py).
    seed_when_empty: bool = False
    # Execution records of operational plans.
    execution: ExecutionService | None = None
    # Amendments drafted, reviewed and adopted (issue 17).
    proposals: ProposalService | None = None
    search: SearchService | None = None  # full-text search of plan versions (issue 18)

    def warm(self) -> None:
        """Build, in the background, the summaries of current readings of the plans that have
        readings (the heads must have been read): a first dashboard read then does not pay for
        it, and reads that come meanwhile wait for their plan's build (reading_summary.py)."""
        if self.heads is not None and self.readings.current is not None:
            self.readings.current.warm(self.heads.plans_with_readings(), self._kpis)

    async def _kpis(self, plan_id: str) -> list[Node]:
        found = await self.plans.plan(plan_id)
        if found is None:
            return []
        return [node for node in found.state.walk() if node.kind is NodeKind.KPI]

    async def close(self) -> None:
        if self.readings.current is not None:
            await self.readings.current.close()
        if self.heads is not None:
            await self.heads.close()
        await self.notifier.close()
        await self.engine.dispose()


def engine_for(settings: Settings) -> AsyncEngine:
    return deployment_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        schema=settings.database_schema,
    )


async def ensure_schema(engine: AsyncEngine) -> None:
    """A database that migrates itself is brought up to date; any other must already be (the
    app refuses to run against an outdated schema)."""
    if migrates_itself(engine):
        await upgrade(engine)
        return
    current, head = await pending(engine)
    if current != head:
        raise NotMigratedError(
            f"the database is at migration {current or 'none'}, the code needs {head}: "
            "run `planapi migrate` first"
        )


async def migrated_engine(settings: Settings) -> AsyncEngine:
    """The engine, once the schema is up to date (closed again if it is not)."""
    engine = engine_for(settings)
    try:
        await ensure_schema(engine)
    except BaseException:
        await engine.dispose()
        raise
    return engine


async def bootstrap(settings: Settings) -> Services:
    log_settings = log_settings_for(settings)
    quiet_lost_waiters(asyncio.get_running_loop())
    engine = await migrated_engine(settings)
    clock = SystemClock()
    # Writers announce each commit (after it) through the notifier; subscribers wake and read.
    notifier = notifier_for(settings.database_url, (PLAN_EVENTS, READING_BATCHES))
    event_store = SqlEventStore(engine, clock)
    heads = HeadsTracker(SqlHeads(engine), notifier)
    plans = PlanService(
        NotifyingEventStore(event_store, notifier),
        snapshot_store(engine, clock, settings),
        default_actor=settings.default_actor,
        snapshot_interval=settings.snapshot_interval,
        cache_size=settings.version_cache_size,
        cache_bytes=settings.version_cache_bytes,
        heads=heads,
        clock=clock,
    )
    readings = ReadingService(
        NotifyingReadingStore(SqlReadingStore(engine, clock), notifier),
        plans,
        max_batch=settings.max_readings_per_batch,
        current=CurrentReadings(SqlTotalSeries(engine)),
    )
    tokens = TokenService(SqlTokenStore(engine), clock, cache_seconds=settings.token_cache_seconds)
    authenticator = authenticator_for(settings, tokens)
    log = SqlEventLog(engine)
    live = LiveUpdates(event_store, log, SqlReadingLog(engine), notifier)
    return Services(
        settings,
        engine,
        plans,
        readings,
        notifier=notifier,
        feed=EventFeed(log),
        live=live,
        tokens=tokens,
        authenticator=authenticator,
        heads=heads,
        transparency=Transparency(
            SqlMerkleLog(engine), LogRecomputation(engine), clock, log_settings
        ),
        seed_when_empty=seeds_itself(engine),
        execution=ExecutionService(SqlExecutionStore(engine, clock), plans),
        proposals=proposal_service(plans, event_store, notifier, settings),
        search=SearchService(plans, search_index(engine)),
    )


@dataclass
class RelayServices:
    """What `planapi relay` reads: the event log, its own positions and lock, the Merkle logs."""

    engine: AsyncEngine
    events: SqlEventStore
    positions: SqlRelayPositions
    tree: SqlMerkleLog
    batches: SqlReadingLog

    async def close(self) -> None:
        await self.engine.dispose()


async def bootstrap_relay(settings: Settings) -> RelayServices:
    """The relay's adapters, wired here like the server's, on a schema that is up to date."""
    engine = await migrated_engine(settings)
    return RelayServices(
        engine,
        SqlEventStore(engine, SystemClock()),
        SqlRelayPositions(engine),
        SqlMerkleLog(engine),
        SqlReadingLog(engine),
    )


def log_settings_for(settings: Settings) -> LogSettings:
    """Read before anything opens: a bad key stops the start with the setting named."""
    return LogSettings(
        origin_base=settings.log_origin,
        every=settings.checkpoint_every,
        seconds=settings.checkpoint_seconds,
        signer=load_signer(settings.log_signing_key_file, settings.log_signing_key),
        past_keys=load_past_keys(settings.log_past_keys),
    )


def snapshot_key_path(settings: Settings) -> Path | None:
    """PLANAPI_SNAPSHOT_KEY_FILE; for a SQLite file database, `snapshot.key` beside it."""
    if settings.snapshot_key_file:
        return Path(settings.snapshot_key_file)
    database = local_file(settings.database_url)
    return None if database is None else database.parent / "snapshot.key"


def snapshot_store(engine: AsyncEngine, clock: Clock, settings: Settings) -> SqlSnapshotStore:
    path = snapshot_key_path(settings)
    if path is None:
        logging.getLogger("planapi.snapshots").warning(
            "no PLANAPI_SNAPSHOT_KEY_FILE: snapshots are off, every version is folded from "
            "the events, so cold reads of large plans decode their whole log; give every "
            "process the same key file (docs/security.md)"
        )
        return UnkeyedSnapshotStore(engine, clock)
    return SqlSnapshotStore(engine, clock, load_or_create_key(path))


def authenticator_for(settings: Settings, tokens: TokenService) -> Authenticator:
    """Credentials to principals: API tokens, OIDC JWTs when configured, anonymous callers."""
    anonymous = None if settings.anonymous_role == "none" else Role(settings.anonymous_role)
    return Authenticator(tokens, oidc_verifier(settings), anonymous_grants=anonymous)


def proposal_service(
    plans: PlanService, events: SqlEventStore, notifier: Notifier, settings: Settings
) -> ProposalService:
    """Proposals in the plans' log, announced like amendments (docs/architecture.md)."""
    return ProposalService(plans, SqlProposalLog(events), notifier, settings.proposal_authority_set)


def oidc_verifier(settings: Settings) -> BearerVerifier | None:
    """The JWT verifier when an issuer is configured (the settings checked it is complete)."""
    if settings.oidc_issuer is None:
        return None
    from planapi.adapters.oidc import JwtVerifier, OidcSettings

    assert settings.oidc_audience is not None
    return JwtVerifier(
        OidcSettings(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            jwks_url=settings.oidc_jwks_url,
            jwks_file=Path(settings.oidc_jwks_file) if settings.oidc_jwks_file else None,
            algorithms=settings.algorithm_list,
            roles_claim=settings.oidc_roles_claim,
            role_prefix=settings.oidc_role_prefix,
            name_claim=settings.oidc_name_claim,
            plans_claim=settings.oidc_plans_claim,
            kpis_claim=settings.oidc_kpis_claim,
            grants_claim=settings.oidc_grants_claim,
            leeway=settings.oidc_leeway,
            jwks_cache_seconds=settings.oidc_jwks_cache_seconds,
        )
    )
