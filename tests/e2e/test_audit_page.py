"""The auditor page at `/audit`, without a browser: the HTML's structure, its assets, the rule
that data is never inserted as markup, and its GraphQL documents against the schema."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from graphql import parse, validate

from planapi.api.schema import build_schema
from planapi.config import Settings
from planapi.entrypoints.asgi import create_app

STATIC = resources.files("planapi") / "entrypoints" / "static" / "audit"


class Page(HTMLParser):
    """The elements of a page as (tag, attributes), in document order."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def by_id(self, element_id: str) -> tuple[str, dict[str, str]]:
        found = [e for e in self.elements if e[1].get("id") == element_id]
        assert len(found) == 1, f"expected one #{element_id}, found {len(found)}"
        return found[0]

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.elements if name == tag]


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app without its lifespan: the page and its assets need no database. Anonymous
    callers may audit here (a public deployment); tests/security covers the page's access."""
    app = create_app(
        Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", anonymous_role="auditor"
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://planapi") as client:
        yield client


async def test_the_page_is_html_with_labelled_controls_and_live_results(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/audit")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    page = Page(response.text)
    assert "<h1>Plan audit</h1>" in response.text
    assert [attrs["id"] for attrs in page.all("h2")] == [
        "plan-heading",
        "timeline-heading",
        "diff-heading",
        "proposals-heading",
        "verify-heading",
        "checkpoint-heading",
    ]
    labels = {attrs.get("for") for attrs in page.all("label")}
    assert "plan-select" in labels
    assert page.by_id("plan-select")[0] == "select"
    for button in ("verify-button", "timeline-more", "selection-clear"):
        tag, attrs = page.by_id(button)
        assert (tag, attrs.get("type")) == ("button", "button")
    regions = ("plan-summary", "timeline-status", "selection", "diff-status", "proposals")
    for region in (*regions, "verify-result"):
        assert page.by_id(region)[1].get("aria-live") == "polite", region
    assert page.by_id("page-errors")[1].get("role") == "alert"


async def test_the_script_and_stylesheet_are_served_where_the_page_points(
    http: httpx.AsyncClient,
) -> None:
    page = Page((await http.get("/audit")).text)
    scripts = [attrs["src"] for attrs in page.all("script")]
    styles = [attrs["href"] for attrs in page.all("link") if attrs.get("rel") == "stylesheet"]
    assert len(scripts) == 1, "one external script, nothing inline"
    assert len(styles) == 1
    for reference in [*scripts, *styles]:
        assert not re.match(r"^[a-z]+:|^//", reference), f"{reference} must be served here"

    script = await http.get(urljoin("http://planapi/audit", scripts[0]))
    style = await http.get(urljoin("http://planapi/audit", styles[0]))

    assert script.status_code == 200
    assert script.headers["content-type"].split(";")[0] in {
        "text/javascript",
        "application/javascript",
    }
    assert "verifyIntegrity" in script.text
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")


async def test_a_trailing_slash_redirects_to_the_page_keeping_the_query(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/audit/?plan=baku-2026&from=1&to=2")

    assert response.status_code in {307, 308}
    assert response.headers["location"].endswith("/audit?plan=baku-2026&from=1&to=2")


def test_the_script_never_inserts_markup() -> None:
    """Everything the page shows from the server goes in as text."""
    script = (STATIC / "audit.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, f"audit.js must not use {sink}"
    assert "new Function" not in script


def test_the_page_ships_inside_the_package() -> None:
    """Hatch puts everything under src/planapi in the wheel: the page must live there."""
    for name in ("index.html", "audit.js", "audit.css"):
        assert (STATIC / name).is_file(), name


def test_the_page_s_graphql_documents_are_valid_against_the_schema() -> None:
    script = (STATIC / "audit.js").read_text(encoding="utf-8")
    literals = re.findall(r"`((?:query|fragment)\b[^`]*)`", script)
    fragments = "\n".join(text for text in literals if text.startswith("fragment"))
    queries = [text for text in literals if text.startswith("query")]
    names = {re.match(r"query (\w+)", text).group(1) for text in queries}  # type: ignore[union-attr]
    assert names == {"AuditPlans", "AuditPlan", "AuditDiff", "AuditProposals", "AuditVerify"}
    schema = build_schema()._schema

    for text in queries:
        document = parse(text.replace("${NODE_FIELDS}", fragments))
        assert validate(schema, document) == [], text
