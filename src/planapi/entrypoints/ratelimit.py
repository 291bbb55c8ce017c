"""A token bucket per caller, in this process: `burst` requests at once, then `rate` a second.

In-process by design (no shared store): with N replicas behind a load balancer a caller gets
up to N times the rate, which bounds what one token can do to one replica — the resource being
protected — and costs no network round trip per request. docs/security.md says how to size it.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until one request would be allowed

    @property
    def retry_after_header(self) -> str:
        """Whole seconds, rounded up, never 0 (RFC 9110 delay-seconds)."""
        return str(max(1, math.ceil(self.retry_after)))


class TokenBuckets:
    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_callers: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.max_callers = max_callers
        self.clock = clock
        # Least recently seen first, so the bound evicts callers long gone (whose buckets would
        # have refilled to `burst` anyway: forgetting them changes nothing).
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str, cost: float = 1.0) -> Decision:
        now = self.clock()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        self._buckets[key] = bucket
        while len(self._buckets) > self.max_callers:
            self._buckets.popitem(last=False)
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return Decision(True)
        return Decision(False, (cost - bucket.tokens) / self.rate)

    def __len__(self) -> int:
        return len(self._buckets)
