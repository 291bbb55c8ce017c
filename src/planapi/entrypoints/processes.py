"""Child processes as bench/ and tests/ both run them: on a free port, stopped with SIGTERM,
then SIGKILL.

It lives in the package because both import `planapi` and neither may import the other."""

from __future__ import annotations

import signal
import socket
import subprocess
from typing import Any


def free_port() -> int:
    """A port nothing listens on now, for a child process to serve on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def terminate(
    process: subprocess.Popen[Any], timeout: float = 10, signum: int = signal.SIGTERM
) -> int | None:
    """Send `signum` (nothing if it has exited), then SIGKILL if it still runs after `timeout`
    seconds; its exit status, or None when it had to be killed."""
    process.send_signal(signum)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None
