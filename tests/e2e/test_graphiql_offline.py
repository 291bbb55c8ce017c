"""GraphiQL with no network beyond this server, in headless Chromium: the page loads, runs a
query, shows the answer, and breaks none of its Content-Security-Policy.

Needs Debian's `chromium`: skipped without it, except in CI (CI=true), where .ci/run installs it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from tests.e2e.cdp import browser
from tests.e2e.test_audit_browser import chromium
from tests.processes import Process, environment, serving

QUERY = '{ plan(id: "baku-2026") { version title } }'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    chromium()
    workdir = tmp_path_factory.mktemp("graphiql")
    env = environment(PLANAPI_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'planapi.db'}")
    with serving(env, workdir / "server.log") as running:
        yield running


def test_the_page_allows_nothing_from_elsewhere(server: Process) -> None:
    page = httpx.get(f"{server.url}/graphql", headers={"accept": "text/html"}, timeout=10)
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "unpkg.com" not in page.text
    assert "<script>" not in page.text
    for path in ("vendor/graphiql.min.js", "vendor/react.production.min.js", "graphiql-page.js"):
        asset = httpx.get(f"{server.url}/graphiql/static/{path}", timeout=10)
        assert asset.status_code == 200, path
        assert asset.headers["content-type"].startswith("text/javascript")


def test_graphiql_runs_a_query_offline(server: Process, tmp_path: Path) -> None:
    with browser(chromium(), tmp_path / "profile", offline=True) as page:
        page.send("Page.navigate", url=f"{server.url}/graphql?{urlencode({'q': QUERY})}")
        page.wait_for("!!document.querySelector('.graphiql-execute-button')")
        # The schema arrived (introspection over fetch): the docs button is usable.
        page.wait_for("!document.body.innerText.includes('Loading…')")
        page.evaluate("document.querySelector('.graphiql-execute-button').click()")
        shown = page.wait_for(
            "(() => { const cm = document.querySelector('.result-window .CodeMirror');"
            " const text = cm && cm.CodeMirror.getValue();"
            " return text && text.includes('version') ? text : null })()"
        )
        answer = json.loads(shown)
        assert answer["data"]["plan"]["version"] == 1
        assert "Baku" in answer["data"]["plan"]["title"]

        requests = [m["request"]["url"] for m in page.messages("Network.requestWillBeSent")]
        web = [u for u in requests if urlsplit(u).scheme in {"http", "https", "ws", "wss"}]
        assert any(u.endswith("/graphiql/static/vendor/graphiql.min.js") for u in web), web
        elsewhere = [u for u in web if urlsplit(u).hostname != "127.0.0.1"]
        assert not elsewhere, elsewhere
        assert not [u for u in requests if u.startswith("data:text/javascript")]
        logged = page.messages("Log.entryAdded")
        violations = [
            e["entry"]["text"] for e in logged if "Content Security" in e["entry"]["text"]
        ]
        assert not violations, violations
        errors = page.messages("Runtime.exceptionThrown")
        assert not errors, errors

        # Subscriptions: the policy lets the page open graphql-ws to this same server.
        socket = (
            "new Promise((done) => { const url = location.href.replace(/^http/, 'ws')"
            ".split('?')[0]; const ws = new WebSocket(url, 'graphql-transport-ws');"
            " ws.onopen = () => { ws.close(); done(true) }; ws.onerror = () => done(false) })"
        )
        assert page.evaluate(socket) is True

        # The policy is in force: an injected inline script does not run, and says why.
        injected = (
            "(() => { const s = document.createElement('script');"
            " s.textContent = 'window.injected = true'; document.body.appendChild(s);"
            " return window.injected === true })()"
        )
        assert page.evaluate(injected) is False
        logged = page.messages("Log.entryAdded")
        assert any("Content Security" in e["entry"]["text"] for e in logged), logged
