"""The soak repeated (`BENCH_SOAK_RUNS`): a pause for the machine to settle between runs, and
each run's checks with their medians. One run cannot call the soak's ratios on a machine whose
first minute differed by 45% between two quiet runs of the same code (docs/performance.md,
2026-12-07 09:24)."""

from __future__ import annotations

import math
import os
import time

from bench.soak import Checks, median_known, nan, probe_said, verdicts


def settle(limit: float = 180) -> None:
    """Waits (at most `limit` seconds) for the machine to calm down after a run: started at
    once, a second run began at a load average of 1.8 where the first had 0.4."""
    waited = 0.0
    while os.getloadavg()[0] >= 1.0 and waited < limit:
        time.sleep(5)
        waited += 5
    print(f"\n  waited {waited:.0f} s for the load average to settle: {os.getloadavg()[0]:.2f}")


def summary(runs: list[Checks], machines: list[float] | None = None) -> Checks:
    """Each run's checks, and the median of each over the runs (returned); beside each run's
    throughput, how much slower the machine ran its last minute (`soak.machine`), if known."""
    print(f"\n  {len(runs)} runs: throughput kept, version p99, RSS growth minute 2 -> last")
    slowed = machines or [nan] * len(runs)
    for n, ((kept, p99, growth), machine) in enumerate(zip(runs, slowed, strict=True), 1):
        probe = "" if math.isnan(machine) else f" ({probe_said(machine)})"
        print(f"  run {n}: {kept:.0%}{probe}, {p99:.1f} ms, {growth:+.1%}")
    column = list(zip(*runs, strict=True))
    medians = (median_known(column[0]), median_known(column[1]), median_known(column[2]))
    said = verdicts(medians)
    print(
        f"  medians: {medians[0]:.0%} (target >= 90%: {said[0]}), {medians[1]:.1f} ms (target "
        f"<= 100 ms: {said[1]}), {medians[2]:+.1%} (target <= +5%: {said[2]})"
    )
    return medians
