"""The HTTP metrics kept in plain lists (`entrypoints.http_metrics`) expose what
prometheus_client's labelled Counter and Histogram exposed for the same requests: names, help,
labels, series order, bucket bounds (a duration equal to a bound counts in that bound's bucket),
counts and sums — so dashboards and alerts on `/metrics` read them as before."""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from planapi.entrypoints.http_metrics import (
    LATENCY,
    LATENCY_HELP,
    REQUESTS,
    REQUESTS_HELP,
    HttpStats,
)
from planapi.entrypoints.metrics import LATENCY_BUCKETS, Metrics


def _prometheus_client(observed: list[tuple[str, str, int, float]]) -> bytes:
    registry = CollectorRegistry()
    requests = Counter(REQUESTS, REQUESTS_HELP, ["route", "method", "status"], registry=registry)
    latency = Histogram(
        LATENCY, LATENCY_HELP, ["route", "method"], buckets=LATENCY_BUCKETS, registry=registry
    )
    for route, method, status, elapsed in observed:
        requests.labels(route, method, str(status)).inc()
        latency.labels(route, method).observe(elapsed)
    return generate_latest(registry)


def test_the_exposition_is_prometheus_client_s_for_the_same_requests() -> None:
    pick = random.Random(14)
    on_bounds = [*LATENCY_BUCKETS, 0.0, 31.0, 1e-9]  # each bound itself, and beyond the last
    observed = [
        (
            pick.choice(["/graphql", "/healthz", "other"]),
            pick.choice(["GET", "POST", "other"]),
            pick.choice([200, 304, 404, 429, 500]),
            pick.choice(on_bounds) if n % 3 else pick.random() * 40,
        )
        for n in range(3_000)
    ]
    registry = CollectorRegistry()
    stats = HttpStats(LATENCY_BUCKETS)
    registry.register(stats)
    for given in observed:
        stats.observe(*given)
    assert generate_latest(registry) == _prometheus_client(observed)


def test_the_app_s_metrics_count_requests_in_the_plain_lists() -> None:
    metrics = Metrics()
    metrics.observe_http("/graphql", "POST", 200, 0.0025)
    metrics.observe_http("/graphql", "POST", 200, 0.003)
    text = metrics.exposition().decode()
    series = '{method="POST",route="/graphql"'
    assert f'planapi_http_requests_total{series},status="200"}} 2.0' in text
    assert f'planapi_http_request_duration_seconds_bucket{{le="0.0025",{series[1:]}}} 1.0' in text
    assert f'planapi_http_request_duration_seconds_bucket{{le="0.005",{series[1:]}}} 2.0' in text
    assert f"planapi_http_request_duration_seconds_count{series}}} 2.0" in text
    assert f"planapi_http_request_duration_seconds_sum{series}}} 0.0055" in text


def test_the_registry_refuses_another_collector_of_the_same_names() -> None:
    """As it did when they were prometheus_client's Counter and Histogram: two collectors
    exposing one name would make /metrics ambiguous."""
    registry = CollectorRegistry()
    registry.register(HttpStats(LATENCY_BUCKETS))
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Counter(REQUESTS, "another", registry=registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Histogram(LATENCY, "another", registry=registry)
