"""The auditor page in headless Chromium, against a real `planapi serve` on a fresh SQLite file.

The page accepts `?plan=…&from=…&to=…&verify=1`, which press the same Compare and Verify buttons
a person would; Chromium's `--dump-dom` gives the page as it stands once its requests are done
(virtual time waits for the network), and `--screenshot` writes tests/artifacts/audit.png.

Needs Debian's `chromium`: skipped without it, except in CI (CI=true), where .ci/run installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from planapi.entrypoints.processes import free_port, terminate
from tests.e2e.queries import AMEND, add, update

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PLAN = "baku-2026"
CONNECTIVITY = "priority-affordable-connectivity"
# Markup in a rationale must show as text, never become an element.
TRICKY = "Council asked for clearer output titles <b>now</b> & <script>alert(1)</script>"

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--virtual-time-budget=15000",
]
BROWSER_TIMEOUT = 30
SERVE = "import sys; from planapi.entrypoints.cli import main; sys.exit(main())"


def chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed: .ci/run installs Debian's `chromium` package")
    pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")


# ------------------------------------------------------------------------------ a tiny DOM


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def iter(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag)
            and all(e.attrs.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())
        ]

    def by_id(self, element_id: str) -> Element:
        found = self.find_all(id=element_id)
        assert len(found) == 1, f"expected one #{element_id}, found {len(found)}"
        return found[0]


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def dom(html: str) -> Element:
    builder = Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def squash(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------------------ the server


@dataclass
class Server:
    url: str
    log: Path
    token: str = ""  # an admin's, for the amendments the page then shows
    auditor: str = ""  # the page needs an auditor: the browser sends it as Basic credentials


def issue(env: dict[str, str], cwd: Path, name: str, role: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SERVE, "tokens", "create", "--name", name, "--role", role],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`planapi serve` on a temp SQLite file (it seeds the Baku draft as version 1)."""
    chromium()  # no server to start without a browser to point at it
    workdir = tmp_path_factory.mktemp("audit-server")
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PLANAPI_")}
    env |= {
        "PLANAPI_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'planapi.db'}",
        "PLANAPI_DEFAULT_ACTOR": "auditor-test",
    }
    log = workdir / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"planapi serve exited ({process.returncode}):\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"planapi serve did not come up in 30 s:\n{log.read_text()}")
            time.sleep(0.1)
        # The actor of the amendments is the token's name.
        admin = issue(env, workdir, "auditor-test", "admin")
        yield Server(url, log, admin, issue(env, workdir, "browser", "auditor"))
    finally:
        terminate(process)


def graphql(server: Server, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {server.token}"},
        timeout=10,
    )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


@pytest.fixture(scope="module")
def amended(server: Server) -> Server:
    """Version 2 adds an outcome; version 3 retitles an output."""
    changes = [
        (
            "TDAG",
            "TDAG-26 added an outcome on universal broadband",
            "TDAG-26/12",
            add("OUTCOME", "Broadband for all", id="outcome-broadband", parentId=CONNECTIVITY),
        ),
        ("COUNCIL", TRICKY, "C26/45", update("output-toolkits", title="Toolkits and guidelines")),
    ]
    for version, (authority, rationale, reference, change) in enumerate(changes, start=1):
        given = {
            "planId": PLAN,
            "expectedVersion": version,
            "authority": authority,
            "rationale": rationale,
            "reference": reference,
            "changes": [change],
        }
        result = graphql(server, AMEND, input=given)["amendPlan"]
        assert result["__typename"] == "AmendmentApplied", result
    return server


# ------------------------------------------------------------------------------ the browser


def browse(server: Server, profiles: Path, **pages: tuple[dict[str, str], str]) -> dict[str, str]:
    """Open each page in its own headless Chromium, all at once; return what each printed.

    `pages` maps a name to (URL parameters, extra flag: "--dump-dom" or "--screenshot=…").
    """
    binary = chromium()
    running = {}
    for name, (params, flag) in pages.items():
        # As a person would after the browser asked for the token: Basic, the token the password.
        signed_in = server.url.replace("http://", f"http://browser:{server.auditor}@")
        url = f"{signed_in}/audit?{urlencode(params)}"
        profile = profiles / name
        command = [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=1280,2000",
            flag,
            url,
        ]
        running[name] = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    printed = {}
    try:
        for name, process in running.items():
            try:
                out, err = process.communicate(timeout=BROWSER_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                out, err = process.communicate()
                pytest.fail(f"chromium ({name}) took over {BROWSER_TIMEOUT} s:\n{err[-2000:]}")
            assert process.returncode == 0, f"chromium ({name}) failed:\n{err[-2000:]}"
            printed[name] = out
    finally:
        for process in running.values():
            if process.poll() is None:
                process.kill()
                process.communicate()
    return printed


@pytest.fixture(scope="module")
def pages(amended: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Element]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "audit.png"
    screenshot.unlink(missing_ok=True)
    audit = {"plan": PLAN, "from": "1", "to": "3", "verify": "1"}
    printed = browse(
        amended,
        tmp_path_factory.mktemp("chromium"),
        audit=(audit, "--dump-dom"),
        screenshot=(audit, f"--screenshot={screenshot}"),
        same=({"plan": PLAN, "from": "2", "to": "2"}, "--dump-dom"),
        unknown=({"plan": "no-such-plan"}, "--dump-dom"),
    )
    return {name: dom(html) for name, html in printed.items() if name != "screenshot"}


def test_the_timeline_lists_every_amendment_newest_first(
    pages: dict[str, Element], amended: Server
) -> None:
    page = pages["audit"]
    body = page.find_all("body")[0]
    assert body.attrs.get("data-state") == "ready", squash(body.text)[:2000]
    heads = graphql(
        amended,
        "query($id: ID!) { plan(id: $id) { amendments { nodes { version hash } } } }",
        id=PLAN,
    )["plan"]["amendments"]["nodes"]

    rows = page.by_id("timeline-rows").find_all("tr")

    assert [row.attrs["data-version"] for row in rows] == ["3", "2", "1"]
    assert squash(page.by_id("timeline-status").text) == "Showing 3 of 3 amendments."
    texts = {row.attrs["data-version"]: squash(row.text) for row in rows}
    for head in heads:
        assert head["hash"] in texts[str(head["version"])]
    assert "auditor-test" in texts["3"]
    for expected in ("Council", "C26/45", "1 updated"):
        assert expected in texts["3"]
    assert "TDAG-26 added an outcome on universal broadband" in texts["2"]
    for expected in ("TDAG", "TDAG-26/12", "1 added"):
        assert expected in texts["2"]
    assert "BDT" in texts["1"]  # the seeded draft, recorded by BDT
    pressed = {
        button.attrs["data-version"]: button.attrs["aria-pressed"]
        for button in page.find_all("button", class_="compare")
    }
    assert pressed == {"3": "true", "2": "false", "1": "true"}


def test_data_is_shown_as_text_never_as_markup(pages: dict[str, Element]) -> None:
    row = pages["audit"].by_id("amendment-3")

    assert squash(TRICKY) in squash(row.text)
    assert row.find_all("b") == []
    assert row.find_all("script") == []


def test_the_diff_shows_the_added_outcome_and_the_changed_title(
    pages: dict[str, Element],
) -> None:
    page = pages["audit"]
    diff = page.by_id("diff")
    assert diff.attrs["data-state"] == "done", squash(diff.text)

    added = page.by_id("diff-added").find_all("li")
    changed = page.by_id("diff-changed")
    title = changed.find_all("li", data_field="title")

    assert squash(page.by_id("diff-title").text) == "Version 1 → version 3"
    assert squash(page.by_id("selection").text) == "Comparing version 1 with version 3."
    assert len(added) == 1
    assert squash(added[0].find_all("ins")[0].text) == (
        "Outcome: Broadband for all (outcome-broadband)"
    )
    assert "under Priority 1: Affordable connectivity" in squash(added[0].text)
    assert "output-toolkits" in squash(changed.text)
    assert len(title) == 1
    assert squash(title[0].text) == "title: Toolkits → Toolkits and guidelines"
    assert squash(title[0].find_all("del")[0].text) == "Toolkits"
    assert squash(title[0].find_all("ins")[0].text) == "Toolkits and guidelines"
    for absent in ("diff-removed", "diff-moved", "diff-links-added", "diff-links-removed"):
        assert page.find_all(id=absent) == []
    assert squash(page.by_id("diff-status").text) == (
        "From version 1 to version 3: 1 node added, 1 node changed."
    )


def test_verification_says_ok_with_the_number_of_events_checked(
    pages: dict[str, Element], amended: Server
) -> None:
    expected = graphql(
        amended, "query($id: ID!) { verifyIntegrity(planId: $id) { ok checked } }", id=PLAN
    )["verifyIntegrity"]
    assert expected["ok"] is True
    assert expected["checked"] >= 3

    verdict = pages["audit"].by_id("verify-verdict")

    assert verdict.attrs["data-ok"] == "true"
    assert squash(verdict.text) == (
        f"✔ Integrity OK. The hash chain of {PLAN} is intact: "
        f"{expected['checked']} events checked, up to version 3."
    )


def test_an_empty_diff_says_so(pages: dict[str, Element]) -> None:
    page = pages["same"]

    assert page.by_id("diff").attrs["data-state"] == "done"
    assert squash(page.by_id("diff-empty").text).startswith(
        "No differences: version 2 has the same content as version 2."
    )


def test_an_unknown_plan_is_reported_to_the_auditor(pages: dict[str, Element]) -> None:
    summary = pages["unknown"].by_id("plan-summary")

    assert summary.attrs["data-state"] == "error"
    alert = summary.find_all("p", role="alert")
    assert len(alert) == 1
    assert 'There is no plan with id "no-such-plan"' in squash(alert[0].text)


def test_the_screenshot_is_written(pages: dict[str, Element]) -> None:
    screenshot = ARTIFACTS / "audit.png"

    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000
