"""How fast the machine itself runs Python, sampled during a long benchmark: the soak's control.

On a shared 2-core machine the soak's first minute alone has run 45% apart between two quiet
runs of the same code (docs/performance.md, 2026-12-07 09:24), and the trivial endpoint 18-24k
req/s within one day, with no steal time to show for it. The soak's own curve cannot tell a
server that slowed from a machine that did. So, while it runs:

- `probe_ms`, every few seconds (`soak.PROBE_EVERY`): a fresh process runs a fixed piece of
  pure-Python work (dict, str, int and list operations, as a request's own work is) and
  reports the CPU time it took — CPU time, not wall time, so that waiting behind the soak's
  own processes does not count, while a slower core (its frequency, a busy sibling thread, a
  neighbour on the host, the soak's own pressure on the caches) does. The median of REPS
  repetitions; one sample under load still swings by a third, so the soak takes the median
  of each minute's;
- `cpu_seconds`, as each minute ends: the server's CPU time so far (`/proc/PID/stat`), so that
  each minute's CPU per request shows whether the server's own work per request grew. (Read
  just after each minute's end, a few ms late, and beside the minute's one `/metrics` scrape:
  both too small to matter beside a minute's ~300,000 requests.)

Both are reported beside the soak's checks, which stay as issue 14 words them.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

REPS = 5
# Seconds a probe may take (it takes well under one): one stalled or left behind is killed.
TIMEOUT = 10
# About 10 ms of CPU per repetition on the 2-core machines of docs/performance.md.
_WORK = """
import statistics, time
def work():
    kept = {}
    for n in range(50_000):
        key = f"k{n % 997}"
        kept[key] = kept.get(key, 0) + n
        if n % 7 == 0:
            kept.pop(key)
    return sorted(kept.items())[:10]
spent = []
for _ in range(REPS):
    started = time.process_time()
    work()
    spent.append(time.process_time() - started)
print(statistics.median(spent) * 1000)
"""


async def probe_ms() -> float:
    """CPU milliseconds the fixed work took now (median of REPS); nan if the probe failed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _WORK.replace("REPS", str(REPS)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), TIMEOUT)
        return float(out)
    except (TimeoutError, ValueError):
        return float("nan")
    finally:  # timed out, or the soak cancelled: no probe outlives its turn
        if process.returncode is None:
            process.kill()
            await process.wait()


def cpu_seconds(pid: int) -> float:
    """The process's user and system CPU time so far (nan once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    # After the command's closing parenthesis: state is field 3, utime 14 and stime 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
