"""Wiring of the GraphQL response cache and trusted documents, and their metrics."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from planapi.api.runtime.cache_hits import ResponseCaching
from planapi.api.runtime.graphql_http import CachingGraphQL
from planapi.api.runtime.response_cache import ByteLru, CacheStats
from planapi.api.runtime.stored_answers import Shape
from planapi.api.runtime.trusted import DocumentStore
from planapi.application.heads_tracker import HeadsTracker
from planapi.config import Settings


def response_caching(settings: Settings, heads: Callable[[], HeadsTracker]) -> ResponseCaching:
    cache: ByteLru[bytes, Shape] | None = (
        ByteLru(settings.response_cache_bytes) if settings.response_cache_bytes > 0 else None
    )
    documents = DocumentStore.from_file(
        Path(settings.trusted_documents_file), only_trusted=settings.trusted_documents_only
    )
    return ResponseCaching(
        cache=cache,
        documents=documents,
        heads=heads,
        max_tokens=settings.max_query_tokens,
        max_selections=settings.max_query_selections,
        max_field_pairs=settings.max_query_field_pairs,
        memo_bytes=settings.prepared_requests_bytes,
        gzip=settings.response_gzip,
    )


class ResponseCacheCollector(Collector):
    def __init__(self, view: CachingGraphQL) -> None:
        self.view = view

    def collect(self) -> Iterable[Metric]:
        cache = self.view.caching.cache
        stats = cache.stats if cache is not None else None
        yield CounterMetricFamily(
            "planapi_response_cache_hits",
            "GraphQL answers served from the response cache.",
            value=stats.hits if stats else 0,
        )
        yield CounterMetricFamily(
            "planapi_response_cache_misses",
            "Cacheable GraphQL queries not found in the response cache (executed, or answered "
            "by a concurrent execution of the same key: _coalesced).",
            value=stats.misses if stats else 0,
        )
        yield from _flights(self.view)
        yield from _prepared(self.view)
        yield from _dropped(stats)
        requests = CounterMetricFamily(
            "planapi_graphql_http_requests",
            "GraphQL HTTP requests by how the cache met them: not_modified (304), uncacheable "
            "(mutations, subscriptions, batches), refused (persisted-query and trusted-document "
            "errors).",
            labels=["outcome"],
        )
        for outcome in ("not_modified", "uncacheable", "refused"):
            requests.add_metric([outcome], self.view.counters[outcome])
        yield requests
        yield GaugeMetricFamily(
            "planapi_response_cache_bytes",
            "Bytes the response cache holds.",
            value=cache.bytes if cache else 0,
        )
        yield GaugeMetricFamily(
            "planapi_response_cache_max_bytes",
            "Bytes the response cache may hold (PLANAPI_RESPONSE_CACHE_BYTES).",
            value=cache.max_bytes if cache else 0,
        )
        yield GaugeMetricFamily(
            "planapi_response_cache_entries",
            "Answers the response cache holds.",
            value=len(cache) if cache else 0,
        )


def _prepared(view: CachingGraphQL) -> Iterable[Metric]:
    memo = view.preparer.memo
    yield GaugeMetricFamily(
        "planapi_prepared_requests",
        "Request bodies whose parsed form the server keeps, so a repeated query is not read "
        "again (a memo bounded in bytes: api/runtime/preparing.py).",
        value=len(memo),
    )
    yield GaugeMetricFamily(
        "planapi_prepared_requests_bytes",
        "Bytes the memo of parsed request bodies holds (at most PLANAPI_PREPARED_REQUESTS_BYTES).",
        value=memo.bytes,
    )


def _flights(view: CachingGraphQL) -> Iterable[Metric]:
    flights = view.flights.stats
    yield CounterMetricFamily(
        "planapi_response_cache_coalesced",
        "Misses answered by another request's execution of the same key under way (single "
        "flight), not executed again; included in the misses.",
        value=flights.coalesced,
    )
    yield CounterMetricFamily(
        "planapi_response_cache_flight_fallbacks",
        "Misses that waited for another request's execution of the same key, which failed, "
        "answered with errors or was cancelled: executed on their own.",
        value=flights.fell_back,
    )


class HeadsCollector(Collector):
    def __init__(self, view: CachingGraphQL) -> None:
        self.view = view

    def collect(self) -> Iterable[Metric]:
        try:
            catch_ups = self.view.caching.heads().catch_ups
        except (KeyError, AssertionError):  # before the lifespan started
            catch_ups = 0
        yield CounterMetricFamily(
            "planapi_heads_catch_ups",
            "Reads of what was committed since the in-memory heads (on notifications, on the "
            "safety poll, for a PlanAPI-Consistent-With token ahead of them).",
            value=catch_ups,
        )


def register_metrics(registry: CollectorRegistry, view: CachingGraphQL) -> None:
    registry.register(ResponseCacheCollector(view))
    registry.register(HeadsCollector(view))


_DROPPED = (
    ("evictions", "Answers dropped to keep the cache within its bytes."),
    (
        "superseded",
        "Answers dropped when one of the same query and role at newer heads was kept: nothing "
        "could ask for them again.",
    ),
)


def _dropped(stats: CacheStats | None) -> Iterable[Metric]:
    for name, description in _DROPPED:
        value = getattr(stats, name) if stats else 0
        yield CounterMetricFamily(f"planapi_response_cache_{name}", description, value=value)
