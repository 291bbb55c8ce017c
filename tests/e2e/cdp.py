"""Headless Chromium driven over the DevTools protocol: for pages a test must click in, not
only load (`--dump-dom` suffices for those, see test_audit_browser.py).

`offline=True` gives the browser no network beyond 127.0.0.1: every other host name resolves
to nothing and every proxied request goes to a closed port.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from planapi.entrypoints.processes import terminate
from tests.e2e.test_audit_browser import CHROMIUM_FLAGS

# test_audit_browser's flags, less virtual time (this browser waits on real events instead).
FLAGS = [
    *(flag for flag in CHROMIUM_FLAGS if not flag.startswith("--virtual-time-budget")),
    "--remote-debugging-port=0",
]
OFFLINE = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
]


class Page:
    """One tab: send commands, keep every event (console, log, network) for later asserts."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == ident:
                assert "error" not in message, message
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        answer = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        assert "exceptionDetails" not in answer, answer
        return answer["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Poll `expression` until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        body = self.evaluate("document.body && document.body.innerText.slice(0, 500)")
        raise AssertionError(f"timed out waiting for {expression!r}; page shows: {body!r}")

    def messages(self, *methods: str) -> list[dict[str, Any]]:
        self.send("Runtime.evaluate", expression="0")  # drain what arrived so far
        return [e["params"] for e in self.events if e.get("method") in methods]


@contextmanager
def browser(binary: str, profile: Path, *, offline: bool) -> Iterator[Page]:
    """Chromium with one blank tab, console/log/network events enabled; stopped afterwards."""
    process = subprocess.Popen(
        [
            binary,
            *FLAGS,
            *(OFFLINE if offline else []),
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
        tab = next(t for t in targets if t["type"] == "page")
        with connect(tab["webSocketDebuggerUrl"], max_size=None) as socket:
            page = Page(socket)
            for domain in ("Page", "Runtime", "Log", "Network"):
                page.send(f"{domain}.enable")
            yield page
    finally:
        terminate(process)
