"""A front-end on another origin, in headless Chromium, against a real `planapi serve`.

A page served from another port (tests/e2e/cross_origin/page.html) queries (POST and GET),
amends with a token and subscribes over graphql-transport-ws — all through the browser's own
CORS and WebSocket origin checks — and posts what it saw to the server that served it. The same
page from an origin not in `PLANAPI_CORS_ORIGINS` is refused at each step.

Needs Debian's `chromium`: skipped without it, except in CI (CI=true), where .ci/run installs it.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from planapi.entrypoints.processes import free_port, terminate
from tests.e2e.test_audit_browser import CHROMIUM_FLAGS, chromium
from tests.processes import Process, environment, issue_token, serving

PAGE = (Path(__file__).parent / "cross_origin" / "page.html").read_bytes()
WAIT = 40.0


@contextmanager
def page_origin() -> Iterator[tuple[str, queue.Queue[dict[str, Any]]]]:
    """An origin (another port) serving the page, and the reports its page posts back."""
    reports: queue.Queue[dict[str, Any]] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            reports.put(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", reports
    finally:
        server.shutdown()
        server.server_close()


def visit(
    origin: str, reports: queue.Queue[dict[str, Any]], api: Process, token: str, profile: Path
) -> dict[str, Any]:
    """Open the page in Chromium; the report it posted (Chromium is stopped then)."""
    url = f"{origin}/?{urlencode({'api': api.url, 'token': token})}"
    flags = [flag for flag in CHROMIUM_FLAGS if not flag.startswith("--virtual-time-budget")]
    browser = subprocess.Popen(
        [chromium(), *flags, f"--user-data-dir={profile}", "--remote-debugging-port=0", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return reports.get(timeout=WAIT)
    except queue.Empty:
        pytest.fail(f"the page at {origin} reported nothing in {WAIT:g} s")
    finally:
        terminate(browser)


@pytest.fixture(scope="module")
def allowed() -> Iterator[tuple[str, queue.Queue[dict[str, Any]]]]:
    with page_origin() as found:
        yield found


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, allowed: tuple[str, Any]
) -> Iterator[tuple[Process, str]]:
    chromium()
    workdir = tmp_path_factory.mktemp("cors")
    env = environment(
        PLANAPI_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'planapi.db'}",
        PLANAPI_CORS_ORIGINS=f"{allowed[0]},https://unused.example.org",
    )
    with serving(env, workdir / "server.log") as server:
        yield server, issue_token(env, "front-end", "editor")


def test_a_page_on_a_listed_origin_queries_amends_and_subscribes(
    api: tuple[Process, str], allowed: tuple[str, Any], tmp_path: Path
) -> None:
    server, token = api
    report = visit(*allowed, server, token, tmp_path / "profile")

    assert report["query"]["status"] == 200, report
    assert report["query"]["requestId"], "x-request-id is exposed"
    assert report["query"]["body"]["data"]["plan"]["version"] >= 1
    assert report["get"]["body"] == {"data": {"plan": {"version": 1}}}
    assert report["get"]["etag"], "ETag is exposed to the page"
    assert report["mutation"]["body"]["data"]["amendPlan"]["__typename"] == "AmendmentApplied"
    assert report["subscription"]["received"]["data"]["planAmended"]["__typename"] == (
        "PlanAmendment"
    ), report
    assert "Traceback" not in server.output()


def test_a_page_on_an_origin_not_listed_is_refused(
    api: tuple[Process, str], tmp_path: Path
) -> None:
    server, token = api
    before = httpx.post(
        f"{server.url}/graphql", json={"query": '{ plan(id: "baku-2026") { version } }'}
    ).json()["data"]["plan"]["version"]
    with page_origin() as (origin, reports):
        report = visit(origin, reports, server, token, tmp_path / "profile")

    assert "failed" in report["query"], report
    assert "failed" in report["get"], report
    assert "failed" in report["mutation"], report
    assert "failed" in report["subscription"], report
    after = httpx.post(
        f"{server.url}/graphql", json={"query": '{ plan(id: "baku-2026") { version } }'}
    ).json()["data"]["plan"]["version"]
    assert after == before, "the preflight was refused: the mutation never reached the server"
