"""The door's limits as the settings give them: body sizes, the token buckets, what anonymous
callers may do, and what each operation of a batch costs (see entrypoints.security)."""

from __future__ import annotations

from starlette.types import Scope

from planapi.api.runtime.batching import Batching
from planapi.application.access import Principal, Role
from planapi.config import Settings
from planapi.entrypoints.ratelimit import TokenBuckets
from planapi.entrypoints.security import Limits


def limits(settings: Settings) -> Limits:
    rate = settings.rate_limit_per_second
    return Limits(
        max_graphql_bytes=settings.max_graphql_bytes,
        max_ingest_bytes=settings.max_ingest_bytes,
        rate=TokenBuckets(rate, settings.rate_limit_burst) if rate > 0 else None,
        anonymous_grants=anonymous_grants(settings),
        graphql_bytes_by_role={
            role: getattr(settings, f"max_graphql_bytes_{role.value}") or settings.max_graphql_bytes
            for role in Role
        },
    )


def batching(settings: Settings, door: Limits) -> Batching:
    """Batches: each operation beyond the first takes a request from the caller's bucket."""
    rate = door.rate

    def charge(scope: Scope, count: int) -> float | None:
        principal = scope.get("state", {}).get("principal")
        if rate is None or not isinstance(principal, Principal):
            return None
        decision = rate.take(principal.rate_key, count)
        return None if decision.allowed else decision.retry_after

    return Batching(settings.max_batch, charge)


def anonymous_grants(settings: Settings) -> Role | None:
    return None if settings.anonymous_role == "none" else Role(settings.anonymous_role)
