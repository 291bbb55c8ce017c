"""`planapi serve` as a process: it refuses bad settings with a message, on SIGTERM it lets
the requests in flight finish before it exits 0, and its answers name no server software."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import environment, run, serving

BAD_SETTINGS = {
    "unknown database scheme": (
        "PLANAPI_DATABASE_URL",
        "mysql://db.example/planapi",
        "PLANAPI_DATABASE_URL: Value error, unsupported database URL scheme 'mysql': use "
        "sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host:port/db",
    ),
    "not an integer": (
        "PLANAPI_DB_POOL_SIZE",
        "ten",
        "PLANAPI_DB_POOL_SIZE: Input should be a valid integer",
    ),
    "integer out of range": (
        "PLANAPI_PORT",
        "70000",
        "PLANAPI_PORT: Input should be less than or equal to 65535",
    ),
    "unknown log format": ("PLANAPI_LOG_FORMAT", "xml", "PLANAPI_LOG_FORMAT: Input should be"),
}


@pytest.mark.parametrize(("variable", "value", "message"), BAD_SETTINGS.values(), ids=BAD_SETTINGS)
def test_a_bad_setting_stops_serve_with_a_clear_message(
    variable: str, value: str, message: str
) -> None:
    done = run(["serve"], environment(**{variable: value}))
    assert done.returncode == 1
    assert f"planapi: bad setting: {message}" in done.stderr
    assert "Traceback" not in done.stderr


def test_every_command_that_reads_settings_checks_them_first() -> None:
    for command in (["migrate"], ["relay"], ["verify"]):
        done = run(command, environment(PLANAPI_DATABASE_URL="oracle://db/planapi"))
        assert done.returncode == 1, command
        assert "bad setting: PLANAPI_DATABASE_URL: Value error, unsupported" in done.stderr


def test_tracing_without_opentelemetry_installed_stops_serve_with_a_message() -> None:
    # As if the `tracing` extra were not installed: importing opentelemetry fails.
    code = (
        "import sys; sys.modules['opentelemetry'] = None; "
        "from planapi.entrypoints.cli import main; sys.exit(main(['serve', '--port', '1']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=environment(PLANAPI_TRACING="otlp"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "PLANAPI_TRACING=otlp needs OpenTelemetry, which is not installed" in done.stderr
    assert "pip install 'planapi[tracing]'" in done.stderr


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    return status, body


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2 :]
    return out


def test_sigterm_lets_the_request_in_flight_finish_then_exits_0(tmp_path: Path) -> None:
    env = environment(
        PLANAPI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'planapi.db'}",
        PLANAPI_SHUTDOWN_TIMEOUT="20",
    )
    body = json.dumps(
        {"query": "query Plans { plans { planId version } }", "operationName": "Plans"}
    ).encode()
    with serving(env, tmp_path / "api.log") as api:
        assert api.port is not None
        sock = socket.create_connection(("127.0.0.1", api.port), timeout=20)
        head = (
            f"POST /graphql HTTP/1.1\r\nHost: planapi\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        # The request is in flight: headers in, the body still on its way.
        sock.sendall(head + body[:7])
        time.sleep(0.3)

        api.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert api.process.poll() is None, "exited with a request in flight"
        with pytest.raises(ConnectionRefusedError):  # no new connections while draining
            socket.create_connection(("127.0.0.1", api.port), timeout=2).close()

        sock.sendall(body[7:])
        status, answer = _read_response(sock)
        sock.close()

        assert status == 200
        assert json.loads(answer)["data"]["plans"][0]["planId"] == "baku-2026"
        assert api.process.wait(20) == 0
    assert "Application shutdown complete" in api.output()


@pytest.mark.parametrize(("level", "written"), [("info", True), ("warning", False)])
def test_access_lines_are_written_at_info_and_not_above(
    tmp_path: Path, level: str, written: bool
) -> None:
    env = environment(
        PLANAPI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'planapi.db'}",
        PLANAPI_LOG_LEVEL=level,
    )
    with serving(env, tmp_path / "api.log") as api:
        assert api.port is not None
        sock = socket.create_connection(("127.0.0.1", api.port), timeout=20)
        sock.sendall(b"GET /healthz?probe=access HTTP/1.1\r\nHost: planapi\r\n\r\n")
        status, _ = _read_response(sock)
        sock.close()
        assert status == 200
        api.process.send_signal(signal.SIGTERM)
        assert api.process.wait(20) == 0
    assert ('"GET /healthz?probe=access HTTP/1.1" 200' in api.output()) is written


def test_a_served_answer_carries_its_date_and_names_no_server_software(tmp_path: Path) -> None:
    env = environment(PLANAPI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'planapi.db'}")
    with serving(env, tmp_path / "api.log") as api:
        assert api.port is not None
        sock = socket.create_connection(("127.0.0.1", api.port), timeout=20)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: planapi\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        sock.close()
    head = received.partition(b"\r\n\r\n")[0].lower().split(b"\r\n")
    names = {line.partition(b":")[0] for line in head[1:]}
    assert head[0].startswith(b"http/1.1 200")
    assert b"date" in names
    assert b"server" not in names
