"""Documents in the plan's languages: `?lang=` or Accept-Language picks it, the plan's texts and
the document's own words (headings, labels, dates) come in it, and Arabic pages run right to
left — asserted in Chromium's DOM, with a screenshot in tests/artifacts/document-ar.png."""

from __future__ import annotations

import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import GraphQL
from tests.e2e.test_audit_browser import (
    ARTIFACTS,
    BROWSER_TIMEOUT,
    CHROMIUM_FLAGS,
    PLAN,
    Server,
    browse,
    chromium,
    dom,
    graphql,
    server,
    squash,
)
from tests.e2e.test_translations import declare, translate

__all__ = ["server"]  # the browser tests' `planapi serve`, one for this module too

Amend = Callable[..., Awaitable[dict[str, Any]]]
PRIORITY = "priority-affordable-connectivity"
AR_TITLE = "التوصيل الميسور التكلفة"
ZH_TITLE = "可负担的连通性"
CHANGES = [
    declare("en", "ar", "zh", "fr"),
    translate(PRIORITY, "title", "ar", AR_TITLE),
    translate(PRIORITY, "title", "zh", ZH_TITLE),
    translate(PRIORITY, "title", "fr", "Connectivité abordable"),
    translate(None, "title", "ar", "خطة عمل باكو"),
]


async def _document(client: httpx.AsyncClient, **params: str) -> httpx.Response:
    headers = {"accept-language": params.pop("accept")} if "accept" in params else {}
    return await client.get(f"/plans/{PLAN}/document", params=params, headers=headers)


async def test_a_document_in_each_language_has_its_texts_words_and_dates(
    client: httpx.AsyncClient, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, *CHANGES, effectiveFrom="2026-12-01")

    arabic = await _document(client, format="html", lang="ar")
    assert arabic.status_code == 200
    assert arabic.headers["content-language"] == "ar"
    assert "Accept-Language" in arabic.headers["vary"]
    assert '<html lang="ar" dir="rtl">' in arabic.text
    assert AR_TITLE in arabic.text
    assert "خطة عمل باكو" in arabic.text
    assert "نافذ اعتباراً من 1 ديسمبر 2026" in arabic.text  # "Effective from", dated in Arabic
    assert "الصيغة 2" in arabic.text  # "Version 2"

    chinese = await _document(client, format="markdown", accept="zh-Hans-CN,zh;q=0.9,en;q=0.5")
    assert chinese.headers["content-language"] == "zh"
    assert ZH_TITLE in chinese.text
    assert "2026年12月1日" in chinese.text
    assert "版本 2" in chinese.text

    french = await _document(client, format="json", lang="fr", accept="zh")
    body = french.json()
    assert body["lang"] == "fr"  # ?lang= wins over Accept-Language
    shown = [b for b in body["blocks"] if b.get("nodeId") == PRIORITY]
    assert shown[0]["text"] == "Connectivité abordable"

    english = await _document(client, format="html", accept="de-DE,de;q=0.9")
    assert '<html lang="en" dir="ltr">' in english.text
    assert "Affordable connectivity" in english.text

    refused = await _document(client, lang="klingon")
    assert refused.status_code == 400
    assert "lang" in refused.json()["message"]

    diff = await client.get(f"/plans/{PLAN}/diff", params={"from": 1, "to": 2, "lang": "ru"})
    assert diff.status_code == 200
    assert "Изменения с версии 1 по версию 2" in diff.text  # noqa: RUF001


async def test_the_graphql_answer_ignores_accept_language(
    client: httpx.AsyncClient, graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, *CHANGES)
    query = f'{{ plan(id: "{baku}") {{ lang node(nodeId: "{PRIORITY}") {{ title }} }} }}'
    response = await client.post(
        "/graphql", json={"query": query}, headers={"accept-language": "ar"}
    )
    assert response.json()["data"]["plan"] == {
        "lang": "en",
        "node": {"title": "Affordable connectivity"},
    }


# ------------------------------------------------------------------------------ in Chromium


@pytest.fixture(scope="module")
def arabic_page(server: Server, tmp_path_factory: pytest.TempPathFactory) -> str:
    given = {
        "planId": PLAN,
        "expectedVersion": 1,
        "authority": "BDT",
        "rationale": "The Arabic version of the priorities",
        "changes": CHANGES,
    }
    from tests.e2e.queries import AMEND

    result = graphql(server, AMEND, input=given)["amendPlan"]
    assert result["__typename"] == "AmendmentApplied", result
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "document-ar.png"
    screenshot.unlink(missing_ok=True)
    signed_in = server.url.replace("http://", f"http://browser:{server.auditor}@")
    url = f"{signed_in}/plans/{PLAN}/document?format=html&lang=ar"
    profiles = tmp_path_factory.mktemp("chromium-documents")
    dumped = _chromium(url, profiles / "dom", "--dump-dom")
    _chromium(url, profiles / "shot", f"--screenshot={screenshot}")
    assert screenshot.stat().st_size > 10_000  # a page drawn, not a blank
    return dumped


def _chromium(url: str, profile: Path, flag: str) -> str:
    command = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1000,1400"]
    done = subprocess.run(
        [*command, flag, url], capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_chromium_lays_the_arabic_document_out_right_to_left(arabic_page: str) -> None:
    page = dom(arabic_page)
    (root,) = page.find_all("html")
    assert root.attrs["lang"] == "ar"
    assert root.attrs["dir"] == "rtl"
    title = squash(page.find_all("h1")[0].text)
    assert title.startswith("خطة عمل باكو")
    headings = [squash(h.text) for level in ("h2", "h3", "h4") for h in page.find_all(level)]
    assert AR_TITLE in headings
    header = squash(page.find_all("header")[0].text)
    assert "الصيغة 2" in header  # "Version 2"


def test_the_audit_page_says_which_language_an_amendment_translated(
    arabic_page: str, server: Server, tmp_path_factory: pytest.TempPathFactory
) -> None:
    printed = browse(
        server,
        tmp_path_factory.mktemp("chromium-audit"),
        audit=({"plan": PLAN}, "--dump-dom"),
    )
    page = dom(printed["audit"])
    rows = {
        row.attrs["data-version"]: squash(row.text)
        for row in page.by_id("timeline-rows").find_all("tr")
    }
    # The plan's title and the priority's in Arabic; the priority's alone in Chinese and French.
    assert "1 languages declared, 2 translated into ar, 1 translated into zh" in rows["2"]
    assert "1 translated into fr" in rows["2"]
