"""HTTP load: `wrk` (Debian's package, installed with apt-get when missing) or, without it, an
asyncio load generator over raw keep-alive connections (much cheaper per request than an HTTP
client library, so it measures the server, not itself)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    requests: int
    failures: int  # non-2xx/3xx answers and socket errors
    p50_ms: float
    tool: str


def ensure_wrk() -> str | None:
    """wrk's path; installs Debian's package when missing and this is root with apt-get."""
    if os.environ.get("BENCH_NO_WRK"):  # force the asyncio generator
        return None
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True, env=env
        )
    return shutil.which("wrk")


def _lua(body: bytes | None, headers: dict[str, str]) -> str:
    lines = []
    if body is not None:
        lines.append('wrk.method = "POST"')
        text = body.decode().replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'wrk.body = "{text}"')
    for name, value in headers.items():
        lines.append(f'wrk.headers["{name}"] = "{value}"')
    return "\n".join(lines) + "\n"


def run_wrk(
    wrk: str,
    url: str,
    seconds: float,
    connections: int,
    body: bytes | None,
    headers: dict[str, str],
    threads: int = 2,
) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(body, headers))
    try:
        done = subprocess.run(
            [
                wrk,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "--timeout",
                "30s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    total = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failures = int(bad[1]) if bad else 0
    if errors:
        failures += sum(int(errors[i]) for i in range(1, 5))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p50_ms = float(p50[1]) * scale[p50[2]] if p50 else 0.0
    return Load(rps, total, failures, p50_ms, "wrk")


async def _one_connection(
    host: str,
    port: int,
    request: Callable[[int], bytes],
    deadline: float,
    latencies: list[float],
    counts: list[int],
    answer: Callable[[int, bytes], None] | None,
    index: int,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request(index))
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length) if length else b""
            latencies.append(time.perf_counter() - started)
            counts[0] += 1
            if status >= 400:
                counts[1] += 1
            elif answer is not None:
                answer(index, body)
    finally:
        writer.close()


async def run_asyncio(
    url: str,
    seconds: float,
    connections: int,
    body: bytes | Callable[[int], bytes] | None,
    headers: dict[str, str],
    answer: Callable[[int, bytes], None] | None = None,
) -> Load:
    """`body` may be a function of the connection's index (stateful clients, e.g. amendments);
    `answer(index, body)` sees each successful response."""
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())

    def request(index: int) -> bytes:
        given = body(index) if callable(body) else body
        if given is None:
            return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()
        return (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Length: {len(given)}\r\n\r\n"
        ).encode() + given

    latencies: list[float] = []
    counts = [0, 0]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _one_connection(host, port, request, deadline, latencies, counts, answer, index)
            for index in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else 0.0
    return Load(counts[0] / elapsed, counts[0], counts[1], p50, "asyncio")


def load(
    url: str,
    seconds: float,
    connections: int = 10,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Load:
    given = {"Content-Type": "application/json", **(headers or {})} if body else headers or {}
    wrk = ensure_wrk()
    if wrk is not None:
        return run_wrk(wrk, url, seconds, connections, body, given)
    return asyncio.run(run_asyncio(url, seconds, connections, body, given))
