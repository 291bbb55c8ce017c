"""The HTTP requests' counter and latency histogram (`planapi_http_requests`,
`planapi_http_request_duration_seconds`), kept in plain lists and read at scrape time.

Every response observes both — the response cache's hits too, ~14,000 instructions a request
with prometheus_client's labelled `Counter` and `Histogram` (a lock and a `float` box per value,
a loop over the bounds: docs/performance.md). Here one dictionary lookup finds a request's
series, and an update is two additions and a bisection. The exposition is what those metrics
exposed: the same names, help, labels and series order, and a bucket's `le` counting what took
at most its bound (a cumulative count, `+Inf` equal to `_count`).

Updated without a lock: every observation is made on the event loop's thread (the ASGI layers;
the app serves one loop per process, and nothing it runs in other threads — parsing in
`asyncio.to_thread`, the OIDC keys' fetch — observes a request), and a scrape reads on that same
thread (`/metrics` is an `async` endpoint). An update therefore never interleaves with another,
nor with a scrape.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

REQUESTS = "planapi_http_requests"
REQUESTS_HELP = "HTTP requests answered, by route template, method and status."
LATENCY = "planapi_http_request_duration_seconds"
LATENCY_HELP = "Time to answer an HTTP request, by route template and method."


class _Timings:
    """One (route, method)'s histogram: how many took at most each bound (not cumulative:
    each observation counted in its first bucket), and their sum."""

    __slots__ = ("buckets", "sum")

    def __init__(self, bounds: int) -> None:
        self.buckets = [0] * bounds
        self.sum = 0.0


class HttpStats(Collector):
    """The two metrics, by labels; `observe` is called for every HTTP response."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = (*bounds, math.inf)
        self._les = [floatToGoString(bound) for bound in self.bounds]  # type: ignore[no-untyped-call]
        # (route, method, status) -> [count] and its (route, method) timings: one lookup a
        # request. Routes are templates and methods a fixed set, so the keys are bounded.
        self._series: dict[tuple[str, str, int], tuple[list[int], _Timings]] = {}
        self._counts: dict[tuple[str, str, str], list[int]] = {}  # in the order first seen
        self._timings: dict[tuple[str, str], _Timings] = {}

    def observe(self, route: str, method: str, status: int, elapsed: float) -> None:
        found = self._series.get((route, method, status))
        if found is None:
            found = self._series[(route, method, status)] = self._new(route, method, status)
        found[0][0] += 1
        timings = found[1]
        timings.buckets[bisect_left(self.bounds, elapsed)] += 1
        timings.sum += elapsed

    def _new(self, route: str, method: str, status: int) -> tuple[list[int], _Timings]:
        count = self._counts.setdefault((route, method, str(status)), [0])
        timings = self._timings.get((route, method))
        if timings is None:
            timings = self._timings[(route, method)] = _Timings(len(self.bounds))
        return count, timings

    def describe(self) -> Iterable[Metric]:
        """The two names, for the registry to refuse another collector of either (as it did
        when they were prometheus_client's own Counter and Histogram)."""
        yield CounterMetricFamily(REQUESTS, REQUESTS_HELP, labels=["route", "method", "status"])
        yield HistogramMetricFamily(LATENCY, LATENCY_HELP, labels=["route", "method"])

    def collect(self) -> Iterable[Metric]:
        requests = CounterMetricFamily(
            REQUESTS, REQUESTS_HELP, labels=["route", "method", "status"]
        )
        for labels, count in self._counts.items():
            requests.add_metric(list(labels), count[0])
        yield requests
        latency = HistogramMetricFamily(LATENCY, LATENCY_HELP, labels=["route", "method"])
        for pair, timings in self._timings.items():
            total, buckets = 0, []
            for le, seen in zip(self._les, timings.buckets, strict=True):
                total += seen
                buckets.append((le, total))
            latency.add_metric(list(pair), buckets, timings.sum)
        yield latency
