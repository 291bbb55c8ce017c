"""Real `planapi` processes for tests: started on a free port, waited for, always stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from planapi.entrypoints.processes import free_port, terminate

PLANAPI = str(Path(sys.executable).with_name("planapi"))
# Where a test keeps the admin token it issued for a deployment (see `with_admin_token`); not a
# setting, so the server ignores it.
TOKEN_VARIABLE = "TEST_ADMIN_TOKEN"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without any PLANAPI_ setting, plus `settings`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PLANAPI_")}
    return {**clean, **settings}


@dataclass
class Process:
    process: subprocess.Popen[bytes]
    log: Path
    port: int | None = None
    token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        """What a request needs to act as the deployment's admin token (none: anonymous)."""
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"planapi exited with {self.process.returncode}:\n{self.output()}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"planapi did not answer /healthz in {timeout} s:\n{self.output()}")

    def stop(self, signum: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        code = terminate(self.process, timeout, signum)
        if code is None:
            raise AssertionError(f"planapi ignored signal {signum}:\n{self.output()}")
        return code


@contextmanager
def planapi(
    args: Sequence[str],
    env: Mapping[str, str],
    log: Path,
    *,
    port: int | None = None,
    command: Sequence[str] | None = None,
) -> Iterator[Process]:
    """Run `planapi ARGS` (or `command`) with `env`, its output in `log`; killed if still running
    when the block ends."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            list(command) if command is not None else [PLANAPI, *args],
            env=dict(env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    running = Process(process, log, port, env.get(TOKEN_VARIABLE))
    try:
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@contextmanager
def serving(env: Mapping[str, str], log: Path, *extra: str) -> Iterator[Process]:
    """`planapi serve` on a free port, healthy before the block starts."""
    port = free_port()
    with planapi(["serve", "--port", str(port), *extra], env, log, port=port) as running:
        running.wait_healthy()
        yield running


def run(args: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PLANAPI, *args], env=dict(env), capture_output=True, text=True, timeout=60, check=False
    )


def issue_token(env: Mapping[str, str], name: str, role: str, *options: str) -> str:
    """`planapi tokens create` against the deployment of `env`; the secret it printed."""
    done = run(["tokens", "create", "--name", name, "--role", role, *options], env)
    assert done.returncode == 0, done.stderr
    [secret] = [line for line in done.stdout.splitlines() if line.startswith("planapi_")]
    return secret


def with_admin_token(env: Mapping[str, str], name: str = "tests-admin") -> dict[str, str]:
    """`env`, plus an admin token of its (migrated) database that `Process.headers` sends."""
    return {**env, TOKEN_VARIABLE: issue_token(env, name, "admin")}
