"""Translators' PO files over HTTP: export a language, translate it in a PO tool, import it back
as one amendment; a file that cannot be taken whole records nothing and names each entry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import polib

from tests.e2e.conftest import GraphQL
from tests.e2e.queries import update
from tests.e2e.test_translations import declare, translate

Amend = Callable[..., Awaitable[dict[str, Any]]]

PRIORITY = "priority-affordable-connectivity"
EXPORT = "query($id: ID!, $lang: String!) { plan(id: $id) { version translationsPo(lang: $lang) } }"
IMPORT = """
mutation Import($input: ImportTranslationsInput!) {
  importTranslations(input: $input) {
    __typename
    ... on TranslationsImported { imported plan { version } amendment { rationale changes {
      __typename ... on TextTranslated { nodeId field lang text } } } }
    ... on ValidationFailed { problems { path message } }
    ... on VersionConflict { expectedVersion actualVersion }
  }
}
"""


async def _export(graphql: GraphQL, baku: str, lang: str) -> polib.POFile:
    body = await graphql(EXPORT, id=baku, lang=lang)
    assert "errors" not in body, body
    return polib.pofile(body["data"]["plan"]["translationsPo"])


async def _import(graphql: GraphQL, baku: str, version: int, lang: str, po: str) -> Any:
    given = {
        "planId": baku,
        "expectedVersion": version,
        "lang": lang,
        "po": po,
        "authority": "BDT",
        "rationale": "Arabic translation delivered by the translation service",
    }
    body = await graphql(IMPORT, input=given)
    assert "errors" not in body, body
    return body["data"]["importTranslations"]


async def test_a_translated_po_file_becomes_one_amendment(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, declare("en", "ar", "zh"), translate(PRIORITY, "title", "ar", "قديم"))
    catalog = await _export(graphql, baku, "ar")
    assert catalog.metadata["Language"] == "ar"
    by_context = {entry.msgctxt: entry for entry in catalog}
    assert by_context[f"{PRIORITY}#title"].msgstr == "قديم"
    assert by_context["#title"].msgid  # the plan's own title
    assert by_context["term-outputs#description"].msgstr == ""

    by_context["term-outputs#title"].msgstr = "المخرجات"
    by_context["term-outputs#description"].msgstr = "ما يقدمه مكتب تنمية الاتصالات."
    by_context["#title"].msgstr = "خطة عمل باكو"
    fuzzy = by_context["term-outputs#description"]
    result = await _import(graphql, baku, 2, "ar", str(catalog))

    assert result["__typename"] == "TranslationsImported", result
    assert result["imported"] == 3  # the unchanged priority title is not recorded again
    assert result["plan"]["version"] == 3
    assert {c["field"] for c in result["amendment"]["changes"]} == {"title", "description"}
    read = await graphql(
        """query($id: ID!) { plan(id: $id, lang: "ar") { title
             node(nodeId: "term-outputs") { title description } } }""",
        id=baku,
    )
    assert read["data"]["plan"]["title"] == "خطة عمل باكو"
    assert read["data"]["plan"]["node"]["description"] == fuzzy.msgstr


async def test_a_stale_translation_is_exported_fuzzy(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, declare("en", "zh"), translate(PRIORITY, "title", "zh", "可负担的连通性"))
    await amend(baku, 2, update(PRIORITY, title="Affordable, meaningful connectivity"))
    catalog = await _export(graphql, baku, "zh")
    entry = next(e for e in catalog if e.msgctxt == f"{PRIORITY}#title")
    assert "fuzzy" in entry.flags
    assert entry.previous_msgid == "Affordable connectivity"
    assert entry.msgid == "Affordable, meaningful connectivity"


async def test_a_file_with_bad_entries_records_nothing_and_names_each(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(baku, 1, declare("en", "fr"))
    catalog = await _export(graphql, baku, "fr")
    entries = list(catalog)
    entries[1].msgstr = "Bonne traduction"
    entries[2].msgctxt = "no-such-node#title"
    entries[2].msgstr = "Perdu"
    entries[3].msgid = "A source text that was never there"
    entries[3].msgstr = "Ancien"
    result = await _import(graphql, baku, 2, "fr", str(catalog))
    assert result["__typename"] == "ValidationFailed"
    paths = {p["path"] for p in result["problems"]}
    assert paths == {"entries[2].msgctxt", "entries[3].msgid"}
    version = await graphql("query($id: ID!) { plan(id: $id) { version } }", id=baku)
    assert version["data"]["plan"]["version"] == 2

    conflict = await _import(graphql, baku, 1, "fr", str(catalog))
    assert conflict["__typename"] in {"VersionConflict", "ValidationFailed"}
    garbage = await _import(graphql, baku, 2, "fr", 'msgid "unterminated')
    assert garbage["__typename"] == "ValidationFailed"
    assert garbage["problems"][0]["path"] == "po"
    german = await _import(graphql, baku, 2, "de", str(catalog))
    assert german["problems"][0]["path"] == "lang"
