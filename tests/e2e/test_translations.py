"""The plan in the six UN languages over HTTP: translations as amendments, reads in a language,
stale translations after a source edit, and what each language's reader is told it got."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from planapi.config import Settings
from tests.e2e.conftest import GraphQL
from tests.e2e.queries import add, update
from tests.e2e.test_response_cache import view_of

Amend = Callable[..., Awaitable[dict[str, Any]]]

PRIORITY = "priority-affordable-connectivity"
TERM = "term-outputs"
AR_TITLE = "التوصيل الميسور التكلفة"
ZH_TITLE = "可负担的连通性"
FR_TITLE = "Connectivité abordable"


def declare(source: str, *languages: str) -> dict[str, object]:
    return {"declareLanguages": {"source": source, "languages": list(languages)}}


def translate(node_id: str | None, field: str, lang: str, text: str) -> dict[str, object]:
    return {"setTranslation": {"nodeId": node_id, "field": field, "lang": lang, "text": text}}


NODE_IN = """
query($id: ID!, $lang: String) { plan(id: $id, lang: $lang) {
  id lang title sourceLanguage languages
  node(nodeId: "%s") {
    id nodeId title description lang fallbackFields staleFields
    translations { field lang text stale sourceText version }
  }
} }
"""


async def _published(amend: Amend, baku: str) -> dict[str, Any]:
    result = await amend(
        baku,
        1,
        declare("en", "ar", "zh-Hans", "fr"),
        translate(PRIORITY, "title", "ar", AR_TITLE),
        translate(PRIORITY, "title", "zh", ZH_TITLE),
        translate(PRIORITY, "title", "fr", FR_TITLE),
        translate(None, "title", "fr", "Plan d'action de Bakou"),
        rationale="Translations of the priorities, as published by the Conference",
    )
    assert result["__typename"] == "AmendmentApplied", result
    return result


async def test_a_translation_is_an_amendment_with_its_actor_and_rationale(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    result = await _published(amend, baku)

    amendment = result["amendment"]
    assert amendment["version"] == 2
    assert amendment["actor"] == "e2e-tester"
    assert amendment["rationale"].startswith("Translations")
    body = await graphql(
        """query($id: ID!) { plan(id: $id) { amendment { changes { __typename
             ... on LanguagesDeclared { source languages }
             ... on TextTranslated { nodeId field lang text sourceText } } } } }""",
        id=baku,
    )
    changes = body["data"]["plan"]["amendment"]["changes"]
    assert changes[0] == {
        "__typename": "LanguagesDeclared",
        "source": "en",
        "languages": ["ar", "zh", "en", "fr"],
    }
    assert changes[1] == {
        "__typename": "TextTranslated",
        "nodeId": PRIORITY,
        "field": "title",
        "lang": "ar",
        "text": AR_TITLE,
        "sourceText": "Affordable connectivity",
    }


async def test_each_language_reads_its_own_texts_under_its_own_ids(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await _published(amend, baku)

    read: dict[str | None, dict[str, Any]] = {}
    for lang in (None, "ar", "zh-Hans", "fr"):
        body = await graphql(NODE_IN % PRIORITY, id=baku, lang=lang)
        assert "errors" not in body, body
        read[lang] = body["data"]["plan"]

    assert read[None]["node"]["title"] == "Affordable connectivity"
    assert read["ar"]["node"]["title"] == AR_TITLE
    assert read["zh-Hans"]["node"]["title"] == ZH_TITLE
    assert read["fr"]["node"]["title"] == FR_TITLE
    assert read["fr"]["title"] == "Plan d'action de Bakou"
    assert read["ar"]["title"] == read[None]["title"]  # the plan's title untranslated in Arabic
    assert [read[k]["lang"] for k in read] == ["en", "ar", "zh", "fr"]
    assert [read[k]["node"]["lang"] for k in read] == ["en", "ar", "zh", "fr"]
    assert read[None]["id"] == f"Plan:{baku}:2"
    assert read["ar"]["id"] == f"Plan:{baku}:2:ar"
    node_ids = {read[k]["node"]["id"] for k in read}
    assert len(node_ids) == 4  # a client cache never mixes two languages
    assert read["zh-Hans"]["node"]["id"].endswith(f":{PRIORITY}:zh")
    # The description has no translation yet: served in English, and said so.
    assert read["ar"]["node"]["description"] == read[None]["node"]["description"]
    assert read["ar"]["node"]["fallbackFields"] == ["description"]
    assert read[None]["node"]["fallbackFields"] == []
    assert read["ar"]["languages"] == ["ar", "zh", "en", "fr"]
    assert {(t["lang"], t["field"]) for t in read[None]["node"]["translations"]} == {
        ("ar", "title"),
        ("zh", "title"),
        ("fr", "title"),
    }

    again = await graphql(
        "query($id: ID!) { node(id: $id) { id ... on Priority { title } } }",
        id=read["ar"]["node"]["id"],
    )
    assert again["data"]["node"] == {"id": read["ar"]["node"]["id"], "title": AR_TITLE}


async def test_a_source_edit_marks_translations_stale_until_revised(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await _published(amend, baku)
    await amend(baku, 2, update(PRIORITY, title="Affordable and meaningful connectivity"))

    body = await graphql(NODE_IN % PRIORITY, id=baku, lang="ar")
    node = body["data"]["plan"]["node"]
    assert node["title"] == AR_TITLE  # shown, not dropped
    assert node["staleFields"] == ["title"]
    stale = {t["lang"]: t["stale"] for t in node["translations"]}
    assert stale == {"ar": True, "zh": True, "fr": True}

    status = await graphql(
        "query($id: ID!) { plan(id: $id) { translationStatus { lang translated missing stale } } }",
        id=baku,
    )
    by_lang = {s["lang"]: s for s in status["data"]["plan"]["translationStatus"]}
    assert by_lang["ar"]["stale"] == 1
    assert by_lang["ar"]["translated"] == 0
    assert by_lang["fr"]["translated"] == 1
    assert by_lang["fr"]["stale"] == 1

    await amend(baku, 3, translate(PRIORITY, "title", "ar", "التوصيل الميسور والمجدي"))
    body = await graphql(NODE_IN % PRIORITY, id=baku, lang="ar")
    assert body["data"]["plan"]["node"]["staleFields"] == []
    assert body["data"]["plan"]["node"]["title"] == "التوصيل الميسور والمجدي"
    source = await graphql(NODE_IN % PRIORITY, id=baku, lang=None)
    assert source["data"]["plan"]["node"]["title"] == "Affordable and meaningful connectivity"


async def test_regional_initiative_texts_translate_one_expected_result_at_a_time(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await amend(
        baku,
        1,
        declare("en", "zh", "ru"),
        add(
            "REGIONAL_INITIATIVE",
            "Digital inclusion",
            id="ri-asp-1",
            region="ASIA_PACIFIC",
            objective="Connect the unconnected",
            expectedResults=["More schools online", "Lower prices"],
        ),
    )
    await amend(
        baku,
        2,
        translate("ri-asp-1", "objective", "zh", "连接未连接者"),
        translate("ri-asp-1", "expectedResults[1]", "zh", "更低的价格"),
        translate("ri-asp-1", "expectedResults[0]", "ru", "Больше школ в сети"),
    )
    body = await graphql(
        """query($id: ID!, $lang: String) { plan(id: $id, lang: $lang) {
             regionalInitiatives { objective expectedResults fallbackFields } } }""",
        id=baku,
        lang="zh",
    )
    (initiative,) = body["data"]["plan"]["regionalInitiatives"]
    assert initiative == {
        "objective": "连接未连接者",
        "expectedResults": ["More schools online", "更低的价格"],
        "fallbackFields": ["title", "expectedResults[0]"],
    }


async def test_bad_translations_are_refused_naming_the_field(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    result = await amend(
        baku,
        1,
        declare("en", "ar", "xx"),
        translate(PRIORITY, "title", "ar", "x"),
        translate(PRIORITY, "title", "en", "Affordable"),
        translate(PRIORITY, "unit", "ar", "x"),
        translate(PRIORITY, "objective", "ar", "x"),
        translate("no-such-node", "title", "ar", "x"),
        translate(PRIORITY, "title", "es", "Conectividad"),
    )
    assert result["__typename"] == "ValidationFailed"
    problems = {p["path"]: p["message"] for p in result["problems"]}
    assert "must be one of" in problems["changes[0].declareLanguages.languages[1]"]
    assert "source language" in problems["changes[2].setTranslation.lang"]
    assert "not a text field" in problems["changes[3].setTranslation.field"]
    assert "has no such text" in problems["changes[4].setTranslation.field"]
    assert "no node" in problems["changes[5].setTranslation.nodeId"]
    assert "not published in 'es'" in problems["changes[6].setTranslation.lang"]

    body = await graphql(NODE_IN % PRIORITY, id=baku, lang="klingon")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "lang" in body["errors"][0]["message"] or body["errors"][0]["extensions"]


PINNED_IN = """query Pinned($id: ID!, $version: Int!, $lang: String) {
  plan(id: $id, version: $version, lang: $lang) { id lang priorities { title } }
}"""


async def test_each_language_has_its_own_cached_answer_and_etag(
    client: httpx.AsyncClient, amend: Amend, baku: str
) -> None:
    await _published(amend, baku)
    cache = view_of(client).caching.cache
    assert cache is not None

    answers = {}
    for lang in ("ar", "zh", "fr", None):
        sent = {"query": PINNED_IN, "variables": {"id": baku, "version": 2, "lang": lang}}
        answers[lang] = await client.post("/graphql", json=sent)
    assert len({a.headers["etag"] for a in answers.values()}) == 4
    assert answers["zh"].json()["data"]["plan"]["priorities"][0]["title"] == ZH_TITLE
    assert answers["ar"].json()["data"]["plan"]["id"] == f"Plan:{baku}:2:ar"

    hits = cache.stats.hits
    sent = {"query": PINNED_IN, "variables": {"id": baku, "version": 2, "lang": "ar"}}
    again = await client.post("/graphql", json=sent, headers={"accept-language": "fr"})
    assert again.content == answers["ar"].content  # Accept-Language changes nothing
    assert cache.stats.hits == hits + 1


LOCALIZED_TREE = """query($id: ID!, $lang: String) { plan(id: $id, lang: $lang) {
  id lang title fallbackFields
  sections { id title description lang fallbackFields staleFields
             translations { field lang text stale } children { id title } }
  terms { id title description lang }
  priorities { id title description lang outcomes { id title } }
} }"""


async def test_a_tree_in_another_language_is_read_by_the_compiled_executor(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every text and every additive field of a translated read is a plain field without
    arguments: the compiled closures answer it exactly as graphql-core would, and graphql-core
    itself completes only the few fields above them."""
    from planapi.api.schema import build_schema
    from planapi.api.types.context import Context
    from planapi.application.access import system
    from planapi.bootstrap import bootstrap
    from planapi.entrypoints.seeding import CREATE_PLAN, seed_input
    from tests.e2e.queries import AMEND
    from tests.e2e.test_fast_execution import _both

    services = await bootstrap(settings)
    try:
        schema = build_schema()
        context = Context(plans=services.plans, readings=services.readings, principal=system("t"))
        await schema.execute(CREATE_PLAN, {"input": seed_input("baku")}, context_value=context)
        changes = [
            declare("en", "ar", "zh"),
            translate(PRIORITY, "title", "ar", AR_TITLE),
            translate(PRIORITY, "title", "zh", ZH_TITLE),
            translate("section-1", "title", "ar", "مقدمة"),
        ]
        given = {"planId": "baku-2026", "expectedVersion": 1, "authority": "TDAG"}
        given |= {"rationale": "Translations", "changes": changes}
        amended = await schema.execute(AMEND, {"input": given}, context_value=context)
        assert amended.data is not None
        assert amended.data["amendPlan"]["__typename"] == "AmendmentApplied", amended
        for lang, title in (("ar", AR_TITLE), ("zh", ZH_TITLE)):
            calls: list[int] = []
            variables = {"id": "baku-2026", "lang": lang}
            fast, plain = await _both(services, monkeypatch, LOCALIZED_TREE, variables, calls)
            assert fast == plain
            assert title in json.loads(fast)["data"]["plan"]["priorities"][0]["title"]
            assert calls[0] * 10 < calls[1], calls
    finally:
        await services.close()


async def test_the_diff_between_two_versions_lists_translations_new_and_revised(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await _published(amend, baku)
    await amend(baku, 2, translate(PRIORITY, "title", "fr", "Connectivité à un prix abordable"))
    query = """query($id: ID!, $from: Int!, $to: Int!) {
      planDiff(id: $id, fromVersion: $from, toVersion: $to) {
        changed { node { nodeId } } translated { nodeId field lang before after } } }"""

    first = (await graphql(query, id=baku, **{"from": 1, "to": 2}))["data"]["planDiff"]
    assert first["changed"] == []  # no source text changed
    assert {(t["nodeId"], t["lang"], t["before"]) for t in first["translated"]} == {
        (PRIORITY, "ar", None),
        (PRIORITY, "zh", None),
        (PRIORITY, "fr", None),
        (None, "fr", None),
    }
    revised = (await graphql(query, id=baku, **{"from": 2, "to": 3}))["data"]["planDiff"]
    assert revised["translated"] == [
        {
            "nodeId": PRIORITY,
            "field": "title",
            "lang": "fr",
            "before": FR_TITLE,
            "after": "Connectivité à un prix abordable",
        }
    ]
