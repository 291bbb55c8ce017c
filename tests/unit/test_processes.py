"""The child-process helper bench/ and tests/ share: a process that stops on SIGTERM gives its
exit status; one that ignores it is killed once the timeout has passed, never left running."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from planapi.entrypoints.processes import terminate

IGNORES_SIGTERM = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


@contextmanager
def _started(code: str) -> Iterator[subprocess.Popen[bytes]]:
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE) as process:
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"  # its handler is in place
        yield process


def test_a_process_that_stops_on_sigterm_gives_its_status() -> None:
    with _started("import time\nprint('ready', flush=True)\ntime.sleep(60)\n") as process:
        assert terminate(process, timeout=10) == -signal.SIGTERM


def test_a_process_that_ignores_sigterm_is_killed_after_the_timeout() -> None:
    with _started(IGNORES_SIGTERM) as process:
        started = time.monotonic()
        assert terminate(process, timeout=0.5) is None
        assert time.monotonic() - started >= 0.5
        assert process.returncode == -signal.SIGKILL


def test_a_process_that_has_exited_is_left_alone() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert terminate(process) == 0
