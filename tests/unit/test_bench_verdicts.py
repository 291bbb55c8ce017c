"""Issue 14's one table (`./dev bench issue14`): each check judged against its target, a
check without a figure said so rather than passed, and the count of targets met."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import subprocess
import uuid
from collections.abc import Awaitable, Callable

import pytest
from bench import dashboard, dashboard_http, machine_probe, soak, soak_aged
from bench.loadgen import Load
from bench.soak import soak_verdicts
from bench.soak_runs import summary
from bench.verdicts import Verdict, run_all, table


def test_the_soak_s_checks_are_judged_against_the_issue_s_targets() -> None:
    at_the_line = soak_verdicts((0.90, 100.0, 0.05), 10, 3)
    assert [v.met for v in at_the_line] == [True, True, True]
    assert "median of 3 runs" in at_the_line[0].target
    beyond = soak_verdicts((0.89, 100.1, 0.051), 10, 1)
    assert [v.said for v in beyond] == ["NOT met"] * 3
    assert "median" not in beyond[0].target


def test_a_check_without_a_figure_is_neither_met_nor_missed() -> None:
    """A soak under 3 minutes has no memory growth (minute 2 to the last)."""
    found = soak_verdicts((1.2, 20.0, math.nan), 2, 1)
    assert [v.said for v in found] == ["met", "met", "no figure"]


def test_the_suite_runs_each_benchmark_in_turn_and_counts_the_targets_met(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ran: list[str] = []

    def bench(name: str, *verdicts: Verdict) -> tuple[str, Callable[[], Awaitable[list[Verdict]]]]:
        async def run() -> list[Verdict]:
            ran.append(name)
            return list(verdicts)

        return name, run

    suite = [
        bench("latest", Verdict("small: >= 1.5x PostGraphile", "6,617 req/s", "3,716", True)),
        bench("soak", *soak_verdicts((0.73, 18.5, 0.042), 10, 1)),
    ]
    found = asyncio.run(run_all(suite))
    assert ran == ["latest", "soak"]
    assert len(found) == 4
    printed = capsys.readouterr().out
    assert "3 of 4 met" in printed
    assert printed.count("NOT met") == 1


def test_the_table_says_when_it_started_and_what_each_target_was_measured_against(
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = dt.datetime(2026, 12, 7, 12, 58, tzinfo=dt.UTC)
    table(
        [Verdict("full tree, latest: >= 50% of trivial", "12,437 req/s", "trivial 23,779", True)],
        started,
    )
    printed = capsys.readouterr().out
    assert "2026-12-07 12:58 to " in printed
    assert "1 of 1 met" in printed
    assert "trivial 23,779" in printed


def test_the_dashboard_is_judged_at_every_size_and_its_growth_at_the_largest() -> None:
    first, last = dashboard.SIZES[0], dashboard.SIZES[-1]
    assert [v.met for v in dashboard._verdicts(first, 12.0, 3.0, 12.0)] == [True]
    slow = dashboard._verdicts(last, 50.1, 3.0, 12.0)
    assert [v.said for v in slow] == ["NOT met", "NOT met"]  # over 50 ms, and 4.2x the first's
    grown = dashboard._verdicts(last, 15.1, 3.0, 12.0)
    assert [v.said for v in grown] == ["met", "NOT met"]  # 1.26x
    assert [v.met for v in dashboard._verdicts(last, 15.0, 3.0, 12.0)] == [True, True]


def _loads(rate: float, failures: int = 0) -> list[Load]:
    return [Load(rate, int(rate), failures, 1.0, "wrk") for _ in range(3)]


def test_the_dashboard_under_writes_is_met_only_with_its_writes_and_without_failures() -> None:
    found = {"trivial": _loads(20_000), "dashboard": _loads(12_000), "with batches": _loads(6_000)}
    assert [v.met for v in dashboard_http.report(found, [8, 8, 7])] == [True]  # 30% of trivial
    assert [v.met for v in dashboard_http.report(found, [8, 0, 7])] == [False]  # writes stopped
    failing = {**found, "with batches": _loads(6_000, failures=3)}
    assert [v.met for v in dashboard_http.report(failing, [8, 8, 7])] == [False]
    slow = {**found, "with batches": _loads(4_000)}  # 20% of trivial
    assert [v.said for v in dashboard_http.report(slow, [8, 8, 7])] == ["NOT met"]


def test_repeated_soaks_are_judged_by_their_medians() -> None:
    medians = summary([(1.24, 23.2, 0.024), (1.31, 22.0, 0.032), (0.73, 18.5, 0.042)])
    assert medians == (1.24, 22.0, 0.032)
    assert [v.met for v in soak_verdicts(medians, 10, 3)] == [True, True, True]


def test_the_soak_s_control_says_how_much_slower_the_machine_ran_its_last_minute() -> None:
    """Each minute's probe is the median of those taken in it — one failed (nan) left out —:
    10 ms in the first minute, 12.5 in the last (the machine slower), whatever one sample
    said."""
    state = soak.State(deadline=0.0, started=0.0, latest_version=1, first_version=1)
    state.probes = [(7.5, 10.0), (22.5, 9.0), (37.5, 10.0), (52.5, 30.0), (59.0, math.nan)]
    state.probes += [(67.5, 11.0), (127.5, 12.0), (142.5, 13.0), (157.5, 12.5)]
    assert soak.machine(state) == 1.25
    state.cpu = [0.0, 6.0]
    assert soak._control(state, 0, 30_000).split() == ["200", "µs", "10.00", "ms"]
    assert "nan µs" in soak._control(state, 1, 30_000)  # the minute's end not sampled
    found = soak_verdicts((0.80, 20.0, 0.03), 3, 1, soak.machine(state))
    assert found[0].baseline == "minute 1; probe's work took +25%"
    assert found[0].said == "NOT met"  # judged as the issue words it, the control beside it
    assert soak_verdicts((0.80, 20.0, 0.03), 3, 1)[0].baseline == "minute 1"
    state.probes = state.probes[:4]  # one minute: no first and last to compare
    assert math.isnan(soak.machine(state))


def test_repeated_soaks_print_each_run_s_machine_beside_its_throughput(
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary([(0.84, 23.2, 0.024), (1.1, 22.0, 0.032)], [1.2, math.nan])
    printed = capsys.readouterr().out
    assert "run 1: 84% (probe's work took +20%), 23.2 ms" in printed
    assert "run 2: 110%, 22.0 ms" in printed


def test_a_probe_that_stalls_is_killed_and_counts_as_no_figure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = f"stalled-probe-{uuid.uuid4().hex}"
    monkeypatch.setattr(machine_probe, "_WORK", f"import time; time.sleep(60)  # {marker}")
    monkeypatch.setattr(machine_probe, "TIMEOUT", 0.5)
    assert math.isnan(asyncio.run(machine_probe.probe_ms()))
    left = subprocess.run(["pgrep", "-f", marker], capture_output=True, check=False)
    assert left.returncode == 1, left.stdout  # none left running
    monkeypatch.setattr(machine_probe, "_WORK", "print('not a figure')")
    assert math.isnan(asyncio.run(machine_probe.probe_ms()))


def _aged_rounds(*aged: float, failed: int = 0) -> list[soak_aged.Round]:
    young = soak_aged.Turn(rate=4_000.0, cpu=250.0)
    return [(young, soak_aged.Turn(4_000.0 * r, 250.0, failed)) for r in aged]


def test_the_aged_soak_is_judged_by_the_median_of_its_interleaved_rounds() -> None:
    """One round's ratio is as much the machine's as the server's: the median decides, and the
    rounds' range is printed beside it."""
    found = soak_aged.verdict(_aged_rounds(0.80, 0.90, 1.10))
    assert (found.figure, found.met) == ("90%", True)
    assert "same rounds (80% to 110%)" in found.baseline
    assert "3 interleaved rounds" in found.target
    missed = soak_aged.verdict(_aged_rounds(0.89, 1.20, 0.70, 0.88, 0.95))
    assert (missed.figure, missed.said) == ("89%", "NOT met")


def test_the_aged_soak_is_not_met_with_a_failed_request_nor_judged_without_a_round() -> None:
    in_a_round = soak_aged.verdict(_aged_rounds(1.0, 1.0, 1.0, failed=1))
    assert (in_a_round.figure, in_a_round.met) == ("100%", False)
    assert "3 requests failed" in in_a_round.baseline
    while_aging = soak_aged.verdict(_aged_rounds(1.0), failed_before=2)
    assert while_aging.met is False
    assert "2 requests failed" in while_aging.baseline
    idle = soak_aged.Turn(rate=0.0, cpu=math.nan)
    nothing = soak_aged.verdict([(idle, soak_aged.Turn(4_000.0, 250.0))])
    assert (nothing.said, nothing.baseline) == ("no figure", "young server, same rounds (no round)")


def test_a_turn_counts_only_its_successful_requests_and_forgets_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server answering errors fast must not look faster; a 9-minute turn's millions of
    requests are not kept after their count."""

    def clients(port: int, state: soak.State, admin: str) -> list[Awaitable[None]]:
        async def client() -> None:
            state.done.extend(
                [("version", 0.0, 0.001, True)] * 3 + [("version", 0.0, 0.001, False)]
            )

        return [client()]

    monkeypatch.setattr(soak_aged, "_clients", clients)
    monkeypatch.setattr(soak_aged, "cpu_seconds", lambda pid: 1.0)
    clock = iter([100.0, 101.0])  # the turn's start, then its end: one second
    monkeypatch.setattr(soak_aged.time, "perf_counter", lambda: next(clock))
    state = soak.State(deadline=0.0, started=0.0, latest_version=1, first_version=1)
    server = soak_aged.Server("young", 1, 1, "token", state)
    turn = asyncio.run(soak_aged.drive(server, 0.0))
    assert turn.failed == 1
    assert state.done == []
    assert turn.rate == 3.0  # three answered in one second; the failed one not counted
    assert math.isnan(turn.probe)


def test_version_count_prints_each_load_s_median_beside_the_other_count_s() -> None:
    """Three processes per count: the median of each, and many over few."""
    from bench import version_count

    def figures(scale: float) -> dict[str, float]:
        return dict.fromkeys(version_count.LOADS, 10.0 * scale)

    found = {
        version_count.FEW: [figures(1.0), figures(1.2), figures(0.9)],
        version_count.MANY: [figures(1.1), figures(5.0), figures(1.21)],
    }
    lines = version_count.table(found)
    assert len(lines) == 1 + len(version_count.LOADS)
    spread = next(line for line in lines if "newest 1,000" in line)
    assert "10.0 µs" in spread  # the median of 10, 12 and 9
    assert "12.1 µs" in spread  # of 11, 50 and 12.1: not the outlier
    assert "121%" in spread
    calls = next(line for line in lines if "calls: every version" in line)
    assert "µs" not in calls


def test_the_soak_names_the_version_cache_s_bounds_as_the_server_reports_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A server started with other bounds than the defaults is reported with its own."""
    minute = {
        "versions": 3_000.0,
        "versions bound": 4_096.0,
        "versions bytes": 54 * 2.0**20,
        "versions bytes bound": 128 * 2.0**20,
    }
    soak._bounded([minute, minute, minute])
    said = capsys.readouterr().out
    assert "versions 3,000 -> 3,000 (of 4,096; 54 -> 54 MiB by their count, of 128)" in said


def test_a_measurement_in_a_fresh_process_hands_back_what_it_printed_or_its_error() -> None:
    from bench.common import ROOT, measured_apart

    src = str(ROOT / "src")
    assert measured_apart(src, "asyncio", "sleep(0, {'a': [1.5, 2]})") == {"a": [1.5, 2]}
    with pytest.raises(RuntimeError, match="not JSON serializable"):
        measured_apart(src, "asyncio", "sleep(0, object())")
