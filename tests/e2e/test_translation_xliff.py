"""Translators' XLIFF 2.0 files, over GraphQL and plain HTTP: export a language, translate it in
a CAT tool, import it back as one amendment; a file that cannot be taken whole records nothing
and names each unit; hostile XML (entities, DTDs) is refused before anything is expanded."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from planapi.config import Settings
from tests.e2e.conftest import GraphQL, bearer, issue_token
from tests.e2e.queries import update
from tests.e2e.test_translations import declare, translate

Amend = Callable[..., Awaitable[dict[str, Any]]]

NS = "urn:oasis:names:tc:xliff:document:2.0"
PRIORITY = "priority-affordable-connectivity"
EXPORT = "query($id: ID!, $lang: String!) { plan(id: $id) { translationsXliff(lang: $lang) } }"
IMPORT = """
mutation Import($input: ImportTranslationsXliffInput!) {
  importTranslationsXliff(input: $input) {
    __typename
    ... on TranslationsImported { imported plan { version } amendment { actor authority
      changes { __typename ... on TextTranslated { nodeId field lang text } } } }
    ... on ValidationFailed { problems { path message } }
    ... on VersionConflict { expectedVersion actualVersion }
  }
}
"""
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xliff [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="en" trgLang="ar">
 <file id="f"><unit id=":title"><segment state="translated"><source>x</source>
 <target>&lol3;</target></segment></unit></file></xliff>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE xliff [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="en" trgLang="ar">
 <file id="f"><unit id=":title"><segment state="translated"><source>x</source>
 <target>&secret;</target></segment></unit></file></xliff>"""


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def units(document: str) -> dict[str, tuple[str | None, str | None, str | None]]:
    """Each unit's (state, source, target) by unit id."""
    root = ET.fromstring(document)
    out = {}
    for unit in root.iter(_q("unit")):
        segment = unit.find(_q("segment"))
        assert segment is not None
        source, target = segment.find(_q("source")), segment.find(_q("target"))
        out[unit.get("id", "")] = (
            segment.get("state"),
            source.text if source is not None else None,
            target.text if target is not None else None,
        )
    return out


def translated(document: str, targets: dict[str, str], state: str = "translated") -> str:
    """`document` with these units' targets filled in and marked `state`, as a CAT tool would."""
    ET.register_namespace("", NS)
    root = ET.fromstring(document)
    for unit in root.iter(_q("unit")):
        if unit.get("id") in targets:
            segment = unit.find(_q("segment"))
            assert segment is not None
            target = segment.find(_q("target"))
            if target is None:
                target = ET.SubElement(segment, _q("target"))
            target.text = targets[unit.get("id", "")]
            segment.set("state", state)
            segment.attrib.pop("subState", None)
    return ET.tostring(root, encoding="unicode")


async def _export(graphql: GraphQL, baku: str, lang: str) -> str:
    body = await graphql(EXPORT, id=baku, lang=lang)
    assert "errors" not in body, body
    document: str = body["data"]["plan"]["translationsXliff"]
    return document


async def _import(graphql: GraphQL, baku: str, version: int, xliff: str, **extra: Any) -> Any:
    given = {
        "planId": baku,
        "expectedVersion": version,
        "xliff": xliff,
        "authority": "BDT",
        "rationale": "Translation delivered by the translation service",
        **extra,
    }
    body = await graphql(IMPORT, input=given)
    assert "errors" not in body, body
    return body["data"]["importTranslationsXliff"]


async def _version(graphql: GraphQL, baku: str) -> int:
    body = await graphql("query($id: ID!) { plan(id: $id) { version } }", id=baku)
    version: int = body["data"]["plan"]["version"]
    return version


async def test_an_arabic_file_round_trips_through_an_amendment(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, declare("en", "ar", "zh"), translate(PRIORITY, "title", "ar", "قديم"))
    exported = await _export(graphql, baku, "ar")
    root = ET.fromstring(exported)
    assert (root.tag, root.get("version")) == (_q("xliff"), "2.0")
    assert (root.get("srcLang"), root.get("trgLang")) == ("en", "ar")
    before = units(exported)
    assert before[f"{PRIORITY}:title"][0::2] == ("translated", "قديم")
    assert before["term-outputs:description"][0::2] == ("initial", None)
    edits = {
        ":title": "خطة عمل باكو",
        "term-outputs:title": "المخرجات <والنتائج> & ما بعدها",
        "term-outputs:description": "ما يقدمه مكتب تنمية الاتصالات.",
    }
    edited = translated(exported, edits)
    result = await _import(graphql, baku, 2, edited)

    assert result["__typename"] == "TranslationsImported", result
    assert result["imported"] == 3  # the unchanged priority title is not recorded again
    assert result["plan"]["version"] == 3
    assert result["amendment"]["actor"] == "e2e-tester"
    assert result["amendment"]["authority"] == "BDT"
    assert units(await _export(graphql, baku, "ar")) == units(edited)
    read = await graphql(
        """query($id: ID!) { plan(id: $id, lang: "ar") { title
             node(nodeId: "term-outputs") { title } } }""",
        id=baku,
    )
    assert read["data"]["plan"]["title"] == "خطة عمل باكو"
    assert read["data"]["plan"]["node"]["title"] == edits["term-outputs:title"]


async def test_a_chinese_file_over_http_and_a_stale_translation_marked_for_review(
    client: httpx.AsyncClient, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, declare("en", "zh"), translate(PRIORITY, "title", "zh", "可负担的连通性"))
    await amend(baku, 2, update(PRIORITY, title="Affordable, meaningful connectivity"))
    response = await client.get(f"/plans/{baku}/translations", params={"lang": "zh-Hans"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xliff+xml")
    assert response.headers["content-disposition"].endswith('-v3-zh.xlf"')
    root = ET.fromstring(response.text)
    unit = next(u for u in root.iter(_q("unit")) if u.get("id") == f"{PRIORITY}:title")
    segment = unit.find(_q("segment"))
    assert segment is not None
    assert (segment.get("state"), segment.get("subState")) == ("initial", "planapi:stale")
    assert segment.findtext(_q("target")) == "可负担的连通性"
    assert segment.findtext(_q("source")) == "Affordable, meaningful connectivity"
    notes = {n.get("category"): n.text for n in unit.iter(_q("note"))}
    assert "Affordable connectivity" in (notes["stale"] or "")

    edited = translated(response.text, {f"{PRIORITY}:title": "可负担且有意义的连通性"}, "final")
    posted = await client.post(
        f"/plans/{baku}/translations",
        params={"expectedVersion": 3, "authority": "BDT", "rationale": "Chinese revised"},
        content=edited.encode(),
        headers={"content-type": "application/xliff+xml"},
    )
    assert posted.status_code == 200, posted.text
    assert posted.json() == {"planId": baku, "version": 4, "imported": 1}
    again = await client.get(f"/plans/{baku}/translations", params={"lang": "zh"})
    assert units(again.text)[f"{PRIORITY}:title"] == (
        "translated",
        "Affordable, meaningful connectivity",
        "可负担且有意义的连通性",
    )
    po = await client.get(f"/plans/{baku}/translations", params={"lang": "zh", "format": "po"})
    assert po.headers["content-type"].startswith("text/x-gettext-translation")
    assert "可负担且有意义的连通性" in po.text


async def test_a_file_with_bad_units_records_nothing_and_names_each(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, declare("en", "fr"))
    exported = await _export(graphql, baku, "fr")
    ids = list(units(exported))
    edited = translated(exported, {uid: f"Texte {i}" for i, uid in enumerate(ids[:5])})
    root = ET.fromstring(edited)
    listed = list(root.iter(_q("unit")))
    listed[1].set("id", "no-such-node:title")
    source = listed[2].find(f"{_q('segment')}/{_q('source')}")
    assert source is not None
    source.text = "A source text that was never there"
    target = listed[3].find(f"{_q('segment')}/{_q('target')}")
    assert target is not None
    ET.SubElement(target, _q("pc"), {"id": "b1"}).text = "gras"
    segment = listed[4].find(_q("segment"))
    assert segment is not None
    segment.set("state", "approved")
    result = await _import(graphql, baku, 2, ET.tostring(root, encoding="unicode"))

    assert result["__typename"] == "ValidationFailed", result
    problems = {p["path"]: p["message"] for p in result["problems"]}
    assert set(problems) == {"units[1].id", "units[2].source", "units[3].target", "units[4].state"}
    assert "'no-such-node:title'" in problems["units[1].id"]
    assert f"{ids[3]!r}" in problems["units[3].target"]
    assert "<pc>" in problems["units[3].target"]
    assert await _version(graphql, baku) == 2  # not even the good unit 0 was recorded

    conflict = await _import(graphql, baku, 1, edited)
    # Read against the version it names (where French was not yet declared), or a conflict.
    assert conflict["__typename"] in {"VersionConflict", "ValidationFailed"}
    mismatch = await _import(graphql, baku, 2, edited, lang="ar")
    assert mismatch["problems"][0]["path"] == "lang"


async def test_a_file_for_another_plan_language_or_format_is_refused(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, declare("en", "fr"))
    exported = await _export(graphql, baku, "fr")
    cases = {
        "xliff.trgLang": exported.replace('trgLang="fr"', 'trgLang="ru"'),
        "xliff.srcLang": exported.replace('srcLang="en"', 'srcLang="fr"'),
        "xliff.version": exported.replace('version="2.0"', 'version="2.1"', 1),
        "xliff": exported.replace(NS, "urn:oasis:names:tc:xliff:document:1.2"),
    }
    for path, document in cases.items():
        result = await _import(graphql, baku, 2, document)
        assert result["__typename"] == "ValidationFailed", (path, result)
        assert [p["path"] for p in result["problems"]] == [path]
    garbage = await _import(graphql, baku, 2, "<xliff")
    assert garbage["problems"][0]["path"] == "xliff"
    untouched = await _import(graphql, baku, 2, exported)  # nothing translated
    assert untouched["problems"][0]["path"] == "xliff"
    assert await _version(graphql, baku) == 2


async def test_entity_expansion_and_external_entities_are_refused(
    client: httpx.AsyncClient, graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, declare("en", "ar"))
    for hostile in (BILLION_LAUGHS, EXTERNAL):
        response = await client.post(
            f"/plans/{baku}/translations",
            params={"expectedVersion": 2, "authority": "BDT", "rationale": "hostile"},
            content=hostile.encode(),
            headers={"content-type": "application/xliff+xml"},
        )
        assert response.status_code == 422, response.text
        problem = response.json()["problems"][0]
        assert problem["path"] == "xliff"
        assert "DTD" in problem["message"]
        result = await _import(graphql, baku, 2, hostile)
        assert result["problems"][0]["path"] == "xliff"
    assert await _version(graphql, baku) == 2


async def test_importing_over_http_needs_the_right_to_amend(
    client: httpx.AsyncClient, settings: Settings, baku: str
) -> None:
    reader = bearer(await issue_token(settings, "a-reader", "reader"))
    exported = await client.get(
        f"/plans/{baku}/translations", params={"lang": "fr"}, headers=reader
    )
    assert exported.status_code == 200
    forbidden = await client.post(
        f"/plans/{baku}/translations",
        params={"expectedVersion": 1, "authority": "BDT", "rationale": "x"},
        content=exported.content,
        headers={**reader, "content-type": "application/xliff+xml"},
    )
    assert forbidden.status_code == 403
    anonymous = await client.post(
        f"/plans/{baku}/translations",
        params={"expectedVersion": 1, "authority": "BDT", "rationale": "x"},
        content=exported.content,
        headers={"authorization": "", "content-type": "application/xliff+xml"},
    )
    assert anonymous.status_code == 401
    refused = await client.post(
        f"/plans/{baku}/translations",
        params={"expectedVersion": 1, "authority": "BDT", "rationale": "x"},
        content=b"{}",
        headers={"content-type": "application/json"},
    )
    assert refused.status_code == 415
    missing = await client.get(f"/plans/{baku}/translations", params={"lang": "de"})
    assert missing.status_code == 400
    nowhere = await client.get("/plans/no-such-plan/translations", params={"lang": "fr"})
    assert nowhere.status_code == 404


async def test_a_unit_the_amendment_refuses_is_named_by_its_unit(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, declare("en", "es"))
    exported = await _export(graphql, baku, "es")
    first, second = list(units(exported))[:2]
    edited = translated(exported, {first: "Plan de Bakú", second: "x" * 100_001})
    result = await _import(graphql, baku, 2, edited)
    assert result["__typename"] == "ValidationFailed", result
    [problem] = result["problems"]
    assert problem["path"] == "units[1].target"
    assert problem["message"].startswith(f"unit {second!r}: must be at most")
    assert await _version(graphql, baku) == 2


async def test_a_surrogate_cp_is_a_problem_of_its_unit_not_a_server_error(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, declare("en", "fr"))
    exported = await _export(graphql, baku, "fr")
    first = next(iter(units(exported)))
    edited = translated(exported, {first: "a@b"}).replace("a@b", 'a<cp hex="D800"/>b', 1)
    result = await _import(graphql, baku, 2, edited)
    assert result["__typename"] == "ValidationFailed", result
    [problem] = result["problems"]
    assert problem["path"] == "units[0].target"
    assert "surrogate" in problem["message"]
    assert await _version(graphql, baku) == 2
