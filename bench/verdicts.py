"""Issue 14's targets as one table: `./dev bench issue14` runs `latest`, `dashboard`,
`dashboard_http` and `soak` one after another (about an hour with `BENCH_SOAK_RUNS=3`), each
printing its own figures as it goes, then every target's verdict together — the issue asks for
the whole suite in one command and one table. Each benchmark's `main` returns its `Verdict`s
and, run by name alone, prints its own figures as before.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Verdict:
    """One target of issue 14: what it asks, the figure found, the same run's baseline or peer
    it is measured against, and whether it is met (None: the run has no figure)."""

    target: str
    figure: str
    baseline: str
    met: bool | None

    @property
    def said(self) -> str:
        return said(self.met)


def said(met: bool | None) -> str:
    """A verdict as the tables print it."""
    return "no figure" if met is None else "met" if met else "NOT met"


Suite = Sequence[tuple[str, Callable[[], Awaitable[list[Verdict]]]]]


def table(verdicts: list[Verdict], started: dt.datetime) -> None:
    """Every verdict in one table, with the machine and the time it ran."""
    met = sum(1 for verdict in verdicts if verdict.met)
    missed = sum(1 for verdict in verdicts if verdict.met is False)
    unknown = len(verdicts) - met - missed
    print(
        f"\nissue 14, every target — {started:%Y-%m-%d %H:%M} to "
        f"{dt.datetime.now(dt.UTC):%H:%M} UTC, {os.cpu_count()} cores, "
        f"{_cpu()}, CPython {platform.python_version()}: "
        f"{met} of {len(verdicts)} met, {missed} not met"
        + (f", {unknown} without a figure" if unknown else "")
    )
    wide = max([len(verdict.target) for verdict in verdicts] + [6])
    print(f"  {'target':<{wide}} {'figure':>14}  {'against (same run)':<32} verdict")
    for verdict in verdicts:
        print(
            f"  {verdict.target:<{wide}} {verdict.figure:>14}  {verdict.baseline:<32} "
            f"{verdict.said}"
        )


def _cpu() -> str:
    """The processor's model, as the machine names it: figures differ twofold between
    machines, so the table says which it ran on."""
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    named = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return named[0] if named else platform.machine()


async def run_all(suite: Suite) -> list[Verdict]:
    """Each benchmark of `suite` in turn, then the table of all their verdicts."""
    started = dt.datetime.now(dt.UTC)
    found: list[Verdict] = []
    for name, run in suite:
        print(f"\n== {name}")
        found += await run()
    table(found, started)
    return found
