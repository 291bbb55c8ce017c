"""Prometheus metrics at `/metrics`: HTTP requests, GraphQL operations by name and outcome, events
appended, readings ingested, the version cache and the database pool.

Each app has a registry of its own (tests build many apps in one process). Counters count what
this process did: with several replicas, Prometheus sums them. Run one uvicorn worker per
container and scale with replicas, so each scrape sees one whole process.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator, Iterable
from contextlib import suppress
from importlib.metadata import PackageNotFoundError, version
from typing import Any, cast

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from planapi.api.types.outcomes import user_errors
from planapi.application.held_versions import HeldVersions
from planapi.application.ports import EventStore, ReadingStore, Recorded
from planapi.bootstrap import Services
from planapi.entrypoints.http_metrics import HttpStats

# Seconds: a cached read takes a millisecond, a large ingest or a cold fold several seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# Operation names come from clients: only so many distinct ones become label values.
MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")


# The `_created` timestamp series double what is scraped and say nothing a counter reset does not.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    def __init__(self, services: Callable[[], Services | None] = lambda: None) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._declare_http()
        self._declare_graphql()
        self._declare_writes()
        self.registry.register(ServicesCollector(services))
        self._operation_names: set[str] = set()
        # Operations' labelled children by their raw labels: `labels()` costs more than the
        # update itself.
        self._children: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    def _declare_http(self) -> None:
        # Kept in plain lists, read at scrape time: observed on every response (http_metrics).
        self.http = HttpStats(LATENCY_BUCKETS)
        self.registry.register(self.http)
        self.observe_http = self.http.observe

    def _declare_graphql(self) -> None:
        self.operations = Counter(
            "planapi_graphql_operations",
            "GraphQL operations by name, type and outcome: success, user_error (the answer is "
            "a union error member such as VersionConflict) or error (GraphQL errors).",
            ["operation", "type", "outcome"],
            registry=self.registry,
        )
        self.operation_latency = Histogram(
            "planapi_graphql_operation_duration_seconds",
            "Time to parse, validate and execute a GraphQL operation, by name and type.",
            ["operation", "type"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def _declare_writes(self) -> None:
        self.events_appended = Counter(
            "planapi_events_appended",
            "Events (plan versions) this process appended to the log.",
            registry=self.registry,
        )
        self.readings_ingested = Counter(
            "planapi_readings_ingested",
            "Readings in batches this process accepted: stored, or duplicate of one stored.",
            ["outcome"],
            registry=self.registry,
        )
        self.reading_batches = Counter(
            "planapi_reading_batches",
            "Reading batches accepted: new, or replayed (a retry with a known idempotency key).",
            ["outcome"],
            registry=self.registry,
        )

    def operation_label(self, name: str | None) -> str:
        if name is None:
            return "anonymous"
        if not _NAME.match(name):
            return "invalid"
        if name not in self._operation_names:
            if len(self._operation_names) >= MAX_OPERATION_NAMES:
                return "other"
            self._operation_names.add(name)
        return name

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    async def endpoint(self, request: Request) -> Response:
        return Response(self.exposition(), media_type=CONTENT_TYPE_LATEST)

    def instrument(self, services: Services) -> None:
        """Count what the process's use cases write, whichever entry point they are used from."""
        plans = services.plans
        if not isinstance(plans.events, _CountingEvents):
            plans.events = cast(EventStore, _CountingEvents(plans.events, self))
        readings = services.readings
        if not isinstance(readings.store, _CountingReadings):
            readings.store = cast(ReadingStore, _CountingReadings(readings.store, self))

    def observe_operation(self, name: str | None, kind: str, outcome: str, elapsed: float) -> None:
        """One GraphQL operation ended: `outcome` success, user_error or error."""
        found = self._children.get((name, kind, outcome))
        if found is None:
            label = self.operation_label(name)
            found = (
                self.operations.labels(label, kind, outcome),
                self.operation_latency.labels(label, kind),
            )
            if len(self._children) < MAX_OPERATION_NAMES * 8:
                self._children[(name, kind, outcome)] = found
        found[0].inc()
        found[1].observe(elapsed)

    def extension(self) -> type[SchemaExtension]:
        """A strawberry extension class (one instance per operation) reporting to these metrics."""
        metrics = self

        class GraphQLMetrics(SchemaExtension):
            # The view's direct path (`api.runtime.direct`) reports through this, without the
            # extension, for the operations it runs itself.
            observes_operations = staticmethod(metrics.observe_operation)

            def on_operation(self) -> Generator[None, None, None]:
                noted: list[str] = []
                token = user_errors.set(noted)
                started = time.perf_counter()
                try:
                    yield
                finally:
                    elapsed = time.perf_counter() - started
                    with suppress(ValueError):  # reset from another context: nothing to undo
                        user_errors.reset(token)
                    context = self.execution_context
                    try:
                        kind = context.operation_type.value
                    except Exception:  # nothing parsed, or no such operation in the document
                        kind = "unknown"
                    # A subscription's result is its stream of events, with no errors of its own.
                    errors = getattr(context.result, "errors", None)
                    if context.pre_execution_errors or errors:
                        outcome = "error"
                    elif noted:
                        outcome = "user_error"
                    else:
                        outcome = "success"
                    metrics.observe_operation(context.operation_name, kind, outcome, elapsed)

        return GraphQLMetrics


class ServicesCollector(Collector):
    """Read at scrape time: the version cache's counters and the database pool's state."""

    def __init__(self, services: Callable[[], Services | None]) -> None:
        self.services = services
        try:
            self.version = version("planapi")
        except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
            self.version = "unknown"

    def collect(self) -> Iterable[Metric]:
        info = GaugeMetricFamily("planapi_build_info", "The running planapi.", labels=["version"])
        info.add_metric([self.version], 1)
        yield info
        services = self.services()
        if services is None:
            return
        yield from _version_cache(services.plans.versions)
        pool: Any = services.engine.pool
        if hasattr(pool, "checkedout") and hasattr(pool, "size"):
            yield GaugeMetricFamily(
                "planapi_db_pool_in_use",
                "Database connections checked out of the pool.",
                value=pool.checkedout(),
            )
            yield GaugeMetricFamily(
                "planapi_db_pool_size", "Connections the pool keeps open.", value=pool.size()
            )
            if hasattr(pool, "overflow"):
                yield GaugeMetricFamily(
                    "planapi_db_pool_overflow",
                    "Connections open beyond the pool size (negative: unused room in the pool).",
                    value=pool.overflow(),
                )


def _version_cache(cache: HeldVersions) -> Iterable[Metric]:
    yield CounterMetricFamily(
        "planapi_version_cache_hits",
        "Reads of a plan version answered from memory (versions never change).",
        value=cache.hits,
    )
    yield CounterMetricFamily(
        "planapi_version_cache_misses",
        "Reads of a plan version that had to fold events from storage.",
        value=cache.misses,
    )
    yield GaugeMetricFamily(
        "planapi_version_cache_entries", "Plan versions held in memory.", value=len(cache)
    )
    yield GaugeMetricFamily(
        "planapi_version_cache_capacity", "Plan versions memory may hold.", value=cache.capacity
    )
    yield GaugeMetricFamily(
        "planapi_version_cache_bytes",
        "Memory the plan versions held keep alive, each shared node counted once.",
        value=cache.bytes,
    )
    yield GaugeMetricFamily(
        "planapi_version_cache_max_bytes",
        "Memory the plan versions held may keep alive.",
        value=cache.max_bytes,
    )
    yield CounterMetricFamily(
        "planapi_version_cache_evictions",
        "Plan versions dropped to keep within the count or the bytes.",
        value=cache.evictions,
    )
    yield CounterMetricFamily(
        "planapi_version_cache_refused",
        "Plan versions not kept: larger alone than the bytes the versions held may keep alive.",
        value=cache.refused,
    )


class _CountingEvents:
    """The event store, counting the events it appends."""

    def __init__(self, inner: EventStore, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def append(self, *args: Any, **kwargs: Any) -> Recorded:
        recorded = await self._inner.append(*args, **kwargs)
        self._metrics.events_appended.inc()
        return recorded

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _CountingReadings:
    """The reading store, counting the readings of the batches it accepts."""

    def __init__(self, inner: ReadingStore, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def record(self, *args: Any, **kwargs: Any) -> Any:
        outcome = await self._inner.record(*args, **kwargs)
        metrics = self._metrics
        if outcome.replayed:
            metrics.reading_batches.labels("replayed").inc()
        else:
            metrics.reading_batches.labels("new").inc()
            metrics.readings_ingested.labels("stored").inc(outcome.stored)
            metrics.readings_ingested.labels("duplicate").inc(outcome.duplicates)
        return outcome

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class HttpMetricsMiddleware:
    """Counts and times HTTP requests by the route that answered them (its template, so
    `/unknown/paths` all count as `other` and cannot grow the label set)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            route = getattr(scope.get("route"), "path", None) or "other"
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self.metrics.observe_http(route, method, status, time.perf_counter() - started)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
