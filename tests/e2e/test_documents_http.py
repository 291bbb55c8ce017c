"""Documents over HTTP (GET /plans/{id}/document and /diff) and from `planapi export`: version 1 of
baku-2026 is the draft word for word, the header vouches for the version, diffs are marked."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from planapi.config import Settings
from tests.e2e.cli import planapi as export
from tests.e2e.conftest import GraphQL
from tests.e2e.queries import add, link, move, remove, unlink, update
from tests.html_text import Nesting, Text
from tests.unit.test_seed_document import HEADING_NUMBER, _draft_lines, _draft_path

Amend = Callable[..., Awaitable[dict[str, Any]]]

CONNECTIVITY = "priority-affordable-connectivity"
DIGITAL = "priority-digital-transformation"
MARKDOWN_MARKER = re.compile(r"^(?:#+|>|-)\s+")

HEADER = """
query Header($id: ID!, $version: Int, $asOf: DateTime) {
  plan(id: $id, version: $version, asOf: $asOf) {
    version recordedAt hash
    amendment { version actor authority rationale reference effectiveFrom recordedAt hash }
  }
}
"""


@pytest.fixture
def draft() -> list[str]:
    path = _draft_path()
    if path is None:
        pytest.skip("the Baku draft is not here (see tests/unit/test_seed_document.py)")
    return _draft_lines(path.read_text(encoding="utf-8"))


def normalised(line: str) -> str:
    """An exported line as the draft would spell it: no Markdown markers, no section number."""
    line = line.strip()
    while MARKDOWN_MARKER.match(line):
        line = MARKDOWN_MARKER.sub("", line, count=1)
    return HEADING_NUMBER.sub("", line).strip()


def assert_draft_reproduced(draft: list[str], lines: list[str]) -> None:
    exported = [normalised(line) for line in lines]
    missing = [line for line in draft if line not in exported]
    assert missing == [], "draft lines missing from the export"
    # ...and in the order of the draft: each one found after the one before it.
    at = 0
    for line in draft:
        at = exported.index(line, at) + 1


async def document(client: httpx.AsyncClient, plan_id: str, **params: Any) -> httpx.Response:
    return await client.get(f"/plans/{plan_id}/document", params=params)


async def header(graphql: GraphQL, plan_id: str, **arguments: Any) -> dict[str, Any]:
    body = await graphql(HEADER, id=plan_id, **arguments)
    assert "errors" not in body, body
    plan: dict[str, Any] = body["data"]["plan"]
    return plan


async def cli(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *argv: str
) -> str:
    out = tmp_path / f"export-{uuid.uuid4().hex}.txt"
    code = await asyncio.to_thread(
        export(settings, monkeypatch, "export", *argv, "--output", str(out))
    )
    assert code == 0
    return out.read_text(encoding="utf-8")


# -- version 1 is the draft --------------------------------------------------------------------
async def test_version_1_in_markdown_is_the_draft_word_for_word(
    client: httpx.AsyncClient, baku: str, draft: list[str]
) -> None:
    response = await document(client, baku, version=1)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert_draft_reproduced(draft, response.text.splitlines())
    lines = response.text.splitlines()
    assert lines[0] == "# Baku Action Plan 2026-2029"
    assert "## 1 Introduction" in lines
    assert "### 3.3 Outputs" in lines
    assert "- Model policies and strategies" in lines


async def test_version_1_in_html_is_the_draft_word_for_word_in_a_well_formed_page(
    client: httpx.AsyncClient, baku: str, draft: list[str]
) -> None:
    response = await document(client, baku, version=1, format="html")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text.startswith("<!doctype html>")
    Nesting.check(response.text)
    assert_draft_reproduced(draft, Text.of(response.text))


async def test_planapi_export_writes_the_same_document_as_http(
    client: httpx.AsyncClient,
    baku: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    draft: list[str],
) -> None:
    for fmt in ("markdown", "html", "json"):
        served = await document(client, baku, version=1, format=fmt)
        written = await cli(
            settings, monkeypatch, tmp_path, baku, "--version", "1", "--format", fmt
        )
        assert written == served.text, fmt


async def test_planapi_export_prints_the_latest_version_by_default(
    client: httpx.AsyncClient,
    baku: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    draft: list[str],
) -> None:
    code = await asyncio.to_thread(export(settings, monkeypatch, "export", baku))

    printed = capsys.readouterr().out
    assert code == 0
    assert printed == (await document(client, baku)).text
    assert printed.splitlines()[2].startswith("> Version 1, recorded ")
    assert_draft_reproduced(draft, printed.splitlines())


# -- the header vouches for the version --------------------------------------------------------
@pytest.fixture
async def walked(amend: Amend, baku: str) -> list[dict[str, Any]]:
    """Versions 2-4, apart in time so an instant can fall between two of them."""
    steps = [
        (add("OUTCOME", "Broadband for all", id="outcome-broadband", parentId=CONNECTIVITY), {}),
        (
            update("output-toolkits", title="Toolkits and guidelines"),
            {"reference": "TDAG-27/4", "effectiveFrom": "2027-07-01", "authority": "COUNCIL"},
        ),
        # The seed links each output to every priority: link one to the new outcome.
        (link("output-toolkits", "outcome-broadband"), {}),
    ]
    applied = []
    for version, (change, extra) in enumerate(steps, start=1):
        await asyncio.sleep(0.01)
        result = await amend(baku, version, change, rationale=f"step {version + 1}", **extra)
        assert result["__typename"] == "AmendmentApplied", result
        applied.append(result["amendment"])
    return applied


async def test_the_json_header_is_the_version_graphql_reports(
    client: httpx.AsyncClient, graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    for version in (1, 3):
        response = await document(client, baku, version=version, format="json")
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        plan = await header(graphql, baku, version=version)
        amendment = plan["amendment"]

        assert body["planId"] == baku
        assert body["version"] == plan["version"] == version
        assert dt.datetime.fromisoformat(body["recordedAt"]) == dt.datetime.fromisoformat(
            plan["recordedAt"]
        )
        assert body["hash"] == plan["hash"] == amendment["hash"]
        assert body["amendment"] == {
            "version": version,
            "actor": amendment["actor"],
            "authority": amendment["authority"],
            "rationale": amendment["rationale"],
            "reference": amendment["reference"],
            "effectiveFrom": amendment["effectiveFrom"],
        }
        assert body["fromVersion"] is None
        assert body["blocks"]
        assert all(set(b) <= {"type", "text", "level", "nodeId", "mark"} for b in body["blocks"])
    assert body["amendment"]["actor"] == "e2e-tester"
    assert (body["amendment"]["authority"], body["amendment"]["rationale"]) == ("COUNCIL", "step 3")
    assert (body["amendment"]["reference"], body["amendment"]["effectiveFrom"]) == (
        "TDAG-27/4",
        "2027-07-01",
    )


async def test_the_markdown_header_names_version_time_hash_and_amendment(
    client: httpx.AsyncClient, graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    plan = await header(graphql, baku, version=3)

    lines = (await document(client, baku, version=3)).text.splitlines()

    recorded = dt.datetime.fromisoformat(plan["recordedAt"]).isoformat()
    assert lines[2:6] == [
        f"> Version 3, recorded {recorded}  ",
        f"> Hash (SHA-256 chain head): {plan['hash']}  ",
        "> Amendment 3 by e2e-tester — COUNCIL: step 3 (TDAG-27/4)  ",
        "> Effective from 2027-07-01  ",
    ]
    assert "- Toolkits and guidelines" in lines
    latest = (await document(client, baku)).text.splitlines()
    assert latest[2].startswith("> Version 4, recorded ")


async def test_as_of_picks_the_version_graphql_picks(
    client: httpx.AsyncClient, graphql: GraphQL, baku: str, walked: list[dict[str, Any]]
) -> None:
    second, third = (dt.datetime.fromisoformat(walked[i]["recordedAt"]) for i in (0, 1))
    instants = [
        second + (third - second) / 2,  # between versions 2 and 3
        third,  # exactly at version 3
        (second + (third - second) / 2).astimezone(dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime(2999, 1, 1, tzinfo=dt.UTC),
    ]
    for instant in instants:
        plan = await header(graphql, baku, asOf=instant.isoformat())
        body = (await document(client, baku, asOf=instant.isoformat(), format="json")).json()
        assert (body["version"], body["hash"]) == (plan["version"], plan["hash"]), instant
    assert [
        (await document(client, baku, asOf=i.isoformat(), format="json")).json()["version"]
        for i in instants
    ] == [2, 3, 2, 4]


async def test_as_of_from_the_command_line_matches_http(
    client: httpx.AsyncClient,
    baku: str,
    walked: list[dict[str, Any]],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    instant = walked[1]["recordedAt"]

    written = await cli(settings, monkeypatch, tmp_path, baku, "--as-of", instant)

    assert written == (await document(client, baku, asOf=instant)).text
    assert "> Version 3, recorded " in written


ERRORS: dict[str, tuple[str, dict[str, Any], int]] = {
    "an unknown plan": ("/plans/no-such-plan/document", {}, 404),
    "an unknown plan, by version": ("/plans/no-such-plan/document", {"version": 1}, 404),
    "a version beyond the latest": ("/plans/baku-2026/document", {"version": 2}, 404),
    "an instant before the plan existed": (
        "/plans/baku-2026/document",
        {"asOf": "2000-01-01T00:00:00Z"},
        404,
    ),
    "version 0": ("/plans/baku-2026/document", {"version": 0}, 400),
    "a version that is no number": ("/plans/baku-2026/document", {"version": "two"}, 400),
    "a bad format": ("/plans/baku-2026/document", {"format": "pdf"}, 400),
    "an instant without a UTC offset": (
        "/plans/baku-2026/document",
        {"asOf": "2027-03-01T12:00:00"},
        400,
    ),
    "an instant that is no instant": ("/plans/baku-2026/document", {"asOf": "yesterday"}, 400),
    "both version and asOf": (
        "/plans/baku-2026/document",
        {"version": 1, "asOf": "2999-01-01T00:00:00Z"},
        400,
    ),
    "a diff without to": ("/plans/baku-2026/diff", {"from": 1}, 400),
    "a diff without from": ("/plans/baku-2026/diff", {"to": 1}, 400),
    "a diff in a bad format": ("/plans/baku-2026/diff", {"from": 1, "to": 1, "format": "x"}, 400),
    "a diff of an unknown plan": ("/plans/no-such-plan/diff", {"from": 1, "to": 1}, 404),
    "a diff to a version beyond the latest": ("/plans/baku-2026/diff", {"from": 1, "to": 9}, 404),
}


async def test_bad_requests_are_refused_with_a_status_and_a_reason(
    client: httpx.AsyncClient, baku: str
) -> None:
    for case, (path, params, status) in ERRORS.items():
        response = await client.get(path, params=params)
        assert response.status_code == status, (case, response.text)
        body = response.json()
        assert body["error"] == ("not_found" if status == 404 else "bad_request"), case
        assert body["message"], case


# -- the whole plan, in order --------------------------------------------------------------------
HOSTILE = "<script>alert(1)</script>"


async def test_every_kind_renders_under_its_section_in_order_and_html_escapes(
    client: httpx.AsyncClient, amend: Amend, baku: str
) -> None:
    result = await amend(
        baku,
        1,
        add("OUTCOME", "Broadband for all", id="o-1", parentId=CONNECTIVITY, code="1.1"),
        add(
            "KPI",
            "Individuals using the Internet",
            id="k-1",
            parentId="o-1",
            code="1.1.1",
            unit="%",
            measure="PERCENTAGE",
            direction="INCREASE",
            baseline={"period": "2025", "value": "67.5"},
            targets=[{"period": "2027", "value": "75"}, {"period": "2029", "value": "80"}],
            dimensions=[{"name": "sex", "values": ["female", "male"]}],
        ),
        add(
            "REGIONAL_INITIATIVE",
            "Digital infrastructure",
            id="ri-afr",
            code="AFR1",
            region="AFRICA",
        ),
        add("REGIONAL_INITIATIVE", "Cybersecurity", id="ri-eur", code="EUR1", region="EUROPE"),
        add("PROJECT", "Giga", id="proj-1", parentId="ri-afr", code="P1"),
        add("RESOLUTION", "Telecommunication development", id="res-37", number="37"),
        add("STUDY_GROUP", "Enabling environment", id="sg-1", code="SG1"),
        add("QUESTION", "Broadband access", id="q-1", parentId="sg-1", code="1/1"),
        add("QUESTION", "Smart cities", id="q-2", parentId="sg-1", code="2/1"),
        add("OUTPUT", HOSTILE, id="output-hostile", description=f"{HOSTILE} & more"),
        link("output-toolkits", "o-1"),
        link("ri-afr", CONNECTIVITY, "CONTRIBUTES_TO"),
        link("res-37", DIGITAL, "RELATES_TO"),
    )
    assert result["__typename"] == "AmendmentApplied", result

    text = (await document(client, baku)).text
    html = (await document(client, baku, format="html")).text

    lines = [line for line in text.splitlines() if line]

    def section(start: str, end: str) -> list[str]:
        return lines[lines.index(start) + 1 : lines.index(end)]

    assert section("#### Affordable connectivity", "#### Digital transformation") == [
        "This priority seeks to foster access to internet and digital communication services—such "
        "as mobile data, broadband, or voice services—at a cost that is reasonable and sustainable "
        "for individuals or households, relative to their income, without causing financial "
        "hardship. Under this priority, BDT will continue providing assistance to Member States in "
        "the development of digital infrastructure and services, expanding broadband access and "
        "coverage, and ensuring emergency telecommunications and disaster risk resilience.",
        "Outcomes and Key Performance Indictors (KPIs) to be filled in later.",
        # As seeded, every output serves every priority.
        "- Outputs serving it: O3 Convening Platforms, O4 Learning frameworks, O1 Model policies "
        "and strategies, O5 Provision of Data, O6 Technical interventions, O2 Toolkits",
        "##### Outcome 1.1 Broadband for all",
        "- Outputs serving it: O2 Toolkits",
        "###### KPI 1.1.1 Individuals using the Internet",
        "- Unit: %",
        "- Measure: percentage",
        "- Direction: increase",
        "- Baseline (2025): 67.5",
        "- Target (2027): 75",
        "- Target (2029): 80",
        "- Disaggregated by sex: female, male",
    ]
    assert section("## 4 Regional initiatives", "## 5 Resolutions") == [
        "To be added later.",
        "### Africa",
        "#### AFR1 Digital infrastructure",
        "- Contributes to: 1 Affordable connectivity",
        "##### Project P1 Giga",
        "### Europe",
        "#### EUR1 Cybersecurity",
    ]
    assert section("## 5 Resolutions", "## 6 Study groups") == [
        "To be added once agreed at WTDC.",
        "- Resolution 37: Telecommunication development",
    ]
    assert section("## 6 Study groups", "## 7 Linkages and mapping") == [
        "To be added once agreed at WTDC.",
        "### SG1 Enabling environment",
        "- Question 1/1 Broadband access",
        "- Question 2/1 Smart cities",
    ]
    linkages = lines[lines.index("## 7 Linkages and mapping") + 2 :]
    seeded = [line for line in linkages if re.fullmatch(r"- O\d .* serves \d [A-Z].*", line)]
    assert len(seeded) == 30
    assert sorted(set(linkages) - set(seeded)) == [
        "- AFR1 Digital infrastructure contributes to 1 Affordable connectivity",
        "- O2 Toolkits serves 1.1 Broadband for all",
        "- Telecommunication development relates to 2 Digital transformation",
    ]
    # Each seeded output says which priorities it serves (all five): not what this checks.
    outputs = [
        line
        for line in section("### 3.3 Outputs", "### 3.4 Enablers")
        if not line.startswith("  - Serves: ")
    ]
    shown = HOSTILE.replace("<", "\\<")  # CommonMark shows \\< as "<" instead of opening HTML
    assert outputs[-3:] == [
        "- Technical interventions",
        f"- {shown}",
        f"  {shown} & more",
    ], "Markdown shows the text as written, never as HTML; the description stays in its item"
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    Nesting.check(html)
    seen = Text.of(html)
    assert seen.count(HOSTILE) == 1
    assert f"{HOSTILE} & more" in seen


# -- diffs ------------------------------------------------------------------------------------
@pytest.fixture
async def changed(amend: Amend, baku: str) -> int:
    """Version 2 adds, removes, changes, moves and links; version 3 unlinks. Returns 3."""
    second = await amend(
        baku,
        1,
        add("OUTCOME", "Broadband for all", id="o-1", parentId=CONNECTIVITY, code="1.1"),
        add("OUTCOME", "Digital skills", id="o-2", parentId=DIGITAL, code="2.1"),
        remove("term-partnerships"),
        update("output-toolkits", title="Toolkits and guidelines"),
        move("enabler-openness", None, 0),
        link("output-toolkits", "o-1"),  # the seed linked it to every priority already
    )
    assert second["__typename"] == "AmendmentApplied", second
    third = await amend(baku, 2, unlink("output-toolkits", "o-1"), move("o-2", CONNECTIVITY))
    assert third["__typename"] == "AmendmentApplied", third
    return 3


async def test_a_diff_marks_what_was_added_removed_changed_moved_and_linked(
    client: httpx.AsyncClient, baku: str, changed: int
) -> None:
    response = await client.get(f"/plans/{baku}/diff", params={"from": 1, "to": 2})

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    lines = response.text.splitlines()
    assert lines[2].startswith("> Changes from version 1 to version 2, recorded ")
    assert lines[4].startswith("> Amendment 2 by e2e-tester — TDAG: Agreed at TDAG")
    assert [line for line in lines[lines.index("## Added") :] if line] == [
        "## Added",
        "- [+] outcome 1.1 Broadband for all (under 1 Affordable connectivity)",
        "- [+] outcome 2.1 Digital skills (under 2 Digital transformation)",
        "## Removed",
        "- [-] term Partnerships",
        "## Changed",
        "- [~] output O2 Toolkits and guidelines",
        "  - [-] title: Toolkits",
        "  - [+] title: Toolkits and guidelines",
        "## Moved",
        "- [~] enabler E3 Openness: from the plan #32 to the plan #1",
        "## Links added",
        "- [+] O2 Toolkits and guidelines serves 1.1 Broadband for all",
    ]


async def test_a_diff_in_html_uses_ins_and_del_and_json_marks_each_block(
    client: httpx.AsyncClient, baku: str, changed: int
) -> None:
    html = (
        await client.get(f"/plans/{baku}/diff", params={"from": 2, "to": 3, "format": "html"})
    ).text
    body = (
        await client.get(f"/plans/{baku}/diff", params={"from": 2, "to": 3, "format": "json"})
    ).json()

    Nesting.check(html)
    assert "<del>O2 Toolkits and guidelines serves 1.1 Broadband for all</del>" in html
    assert (
        '<span class="changed">outcome 2.1 Digital skills (under 1 Affordable connectivity): '
        "from 2 Digital transformation #1 to 1 Affordable connectivity #2</span>" in html
    )
    assert (body["fromVersion"], body["version"]) == (2, 3)
    assert {
        "type": "item",
        "text": "O2 Toolkits and guidelines serves 1.1 Broadband for all",
        "level": 0,
        "nodeId": "output-toolkits",
        "mark": "removed",
    } in body["blocks"]
    added = (
        await client.get(f"/plans/{baku}/diff", params={"from": 1, "to": 2, "format": "html"})
    ).text
    assert "<ins>outcome 1.1 Broadband for all (under 1 Affordable connectivity)</ins>" in added
    assert "<del>term Partnerships</del>" in added
    assert "<del>title: Toolkits</del>" in added
    assert "<ins>title: Toolkits and guidelines</ins>" in added


async def test_a_diff_of_a_version_with_itself_says_they_are_identical(
    client: httpx.AsyncClient, baku: str, changed: int
) -> None:
    response = await client.get(f"/plans/{baku}/diff", params={"from": 2, "to": 2})

    assert response.status_code == 200
    assert response.text.splitlines()[-1] == "The two versions are identical."


async def test_a_diff_taken_backwards_shows_the_way_back(
    client: httpx.AsyncClient, baku: str, changed: int
) -> None:
    response = await client.get(f"/plans/{baku}/diff", params={"from": 3, "to": 1})

    assert response.status_code == 200
    lines = response.text.splitlines()
    assert lines[2].startswith("> Changes from version 3 to version 1, recorded ")
    assert lines[4].startswith("> Amendment 1 by ")
    assert "- [-] outcome 1.1 Broadband for all (under 1 Affordable connectivity)" in lines
    assert "- [-] outcome 2.1 Digital skills (under 1 Affordable connectivity)" in lines
    assert "- [+] term Partnerships" in lines
    assert "  - [-] title: Toolkits and guidelines" in lines
    assert "  - [+] title: Toolkits" in lines
    assert "- [~] enabler E3 Openness: from the plan #1 to the plan #32" in lines
    assert "## Links added" not in lines, "the link came and went between 1 and 3"


async def test_planapi_export_diff_matches_http(
    client: httpx.AsyncClient,
    baku: str,
    changed: int,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for fmt in ("markdown", "json"):
        served = await client.get(f"/plans/{baku}/diff", params={"from": 1, "to": 3, "format": fmt})
        written = await cli(
            settings, monkeypatch, tmp_path, baku, "--diff", "1", "3", "--format", fmt
        )
        assert written == served.text, fmt
    assert json.loads(written)["fromVersion"] == 1


EXPORT_ERRORS: dict[str, tuple[list[str], str]] = {
    "an unknown plan": (["no-such-plan"], "has no such version"),
    "a version beyond the latest": (["baku-2026", "--version", "9"], "has no such version"),
    "an instant without a UTC offset": (["baku-2026", "--as-of", "2027-01-01T00:00"], "asOf"),
    "an instant that is no instant": (["baku-2026", "--as-of", "soon"], "not an ISO 8601"),
    "a diff to a version beyond the latest": (["baku-2026", "--diff", "1", "9"], "no version 9"),
    "a diff of an unknown plan": (["no-such-plan", "--diff", "1", "1"], "no-such-plan"),
}


async def test_planapi_export_refuses_what_http_refuses_and_says_why(
    baku: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for case, (argv, reason) in EXPORT_ERRORS.items():
        with pytest.raises(SystemExit) as refused:
            await asyncio.to_thread(export(settings, monkeypatch, "export", *argv))
        message = str(refused.value.code)
        assert message.startswith("planapi: "), (case, message)
        assert reason in message, (case, message)
