"""Search across a plan's texts in its languages, over HTTP on both backends: the expected node
for a query in each language, highlighted snippets, pages by cursor, filters and bad input;
and Plan.nodesPage."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.e2e.conftest import GraphQL
from tests.e2e.test_translations import declare, translate

Amend = Callable[..., Awaitable[dict[str, Any]]]

PRIORITY = "priority-affordable-connectivity"
SEARCH = """
query Search($plan: ID!, $text: String!, $lang: String, $kinds: [NodeKind!], $first: Int,
             $after: String, $version: Int) {
  search(planId: $plan, text: $text, lang: $lang, kinds: $kinds, first: $first, after: $after,
         version: $version) {
    version totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { field lang text snippet rank node { id nodeId kind title lang } } }
  }
}
"""

TEXTS = {
    "ar": ("التوصيل الميسور التكلفة", "التوصيل"),
    "zh": ("可负担的连通性", "连通"),
    "fr": ("Connectivité abordable", "abordable"),
    "ru": ("Доступная связь", "Доступная"),
    "es": ("Conectividad asequible", "asequible"),
}


async def _six_languages(amend: Amend, baku: str) -> None:
    changes = [declare("en", "ar", "zh", "fr", "ru", "es")]
    changes += [translate(PRIORITY, "title", lang, text) for lang, (text, _) in TEXTS.items()]
    changes.append(translate("term-outputs", "description", "fr", "Les produits livrés par BDT."))
    result = await amend(baku, 1, *changes)
    assert result["__typename"] == "AmendmentApplied", result


async def _search(graphql: GraphQL, baku: str, text: str, **given: Any) -> dict[str, Any]:
    body = await graphql(SEARCH, plan=baku, text=text, **given)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["search"]
    return found


async def test_a_query_in_each_language_finds_the_translated_node(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await _six_languages(amend, baku)

    for lang, (title, word) in TEXTS.items():
        found = await _search(graphql, baku, word, lang=lang)
        assert found["version"] == 2
        best = found["edges"][0]["node"]
        assert best["node"]["nodeId"] == PRIORITY, (lang, found)
        assert best["lang"] == lang
        assert best["text"] == title
        assert best["node"]["title"] == title  # the node read in the language that matched
        assert best["node"]["id"].endswith(f":{lang}")
        assert "<mark>" in best["snippet"], (lang, best["snippet"])

    english = await _search(graphql, baku, "affordable connectivity", lang="en")
    assert english["edges"][0]["node"]["node"]["nodeId"] == PRIORITY
    assert english["edges"][0]["node"]["snippet"].count("<mark>") == 2


async def test_without_lang_every_published_language_is_searched(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await _six_languages(amend, baku)
    found = await _search(graphql, baku, "可负担")
    assert [e["node"]["lang"] for e in found["edges"]] == ["zh"]
    two_characters = await _search(graphql, baku, "连通")
    assert two_characters["totalCount"] == 1
    assert two_characters["edges"][0]["node"]["snippet"] == "可负担的<mark>连通</mark>性"


async def test_pages_follow_each_other_by_cursor_and_kinds_filter(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await _six_languages(amend, baku)
    whole = await _search(graphql, baku, "ITU", lang="en", first=100)
    assert whole["totalCount"] > 3
    seen: list[tuple[str, str]] = []
    after = None
    while True:
        page = await _search(graphql, baku, "ITU", lang="en", first=2, after=after)
        seen += [(e["node"]["node"]["nodeId"], e["node"]["field"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [(e["node"]["node"]["nodeId"], e["node"]["field"]) for e in whole["edges"]]

    terms = await _search(graphql, baku, "ITU", lang="en", kinds=["TERM"], first=100)
    assert terms["totalCount"] >= 1
    assert {e["node"]["node"]["kind"] for e in terms["edges"]} == {"TERM"}
    french_term = await _search(graphql, baku, "produits", lang="fr", kinds=["TERM"])
    assert french_term["edges"][0]["node"]["node"]["nodeId"] == "term-outputs"
    assert french_term["edges"][0]["node"]["field"] == "description"


async def test_an_older_version_is_searched_as_it_stood(
    graphql: GraphQL, amend: Amend, baku: str
) -> None:
    await _six_languages(amend, baku)
    assert (await _search(graphql, baku, "abordable", version=1))["totalCount"] == 0
    assert (await _search(graphql, baku, "abordable", version=2))["totalCount"] == 1


async def test_bad_searches_are_refused_naming_the_argument(graphql: GraphQL, baku: str) -> None:
    for given, argument in (
        ({"text": "  "}, "text"),
        ({"text": "x", "lang": "de"}, "lang"),
        ({"text": "x", "first": 0}, "first"),
        ({"text": "x", "after": "nope"}, "after"),
    ):
        body = await graphql(SEARCH, plan=baku, **given)
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", body
        assert argument in str(error), body
    missing = await graphql(SEARCH, plan="no-such-plan", text="x")
    assert missing["data"]["search"] is None


NODES_PAGE = """
query Page($id: ID!, $first: Int!, $after: String, $kind: NodeKind, $parent: ID) {
  plan(id: $id) { nodesPage(first: $first, after: $after, kind: $kind, parentId: $parent) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { nodeId kind } } } }
}
"""


async def test_nodes_come_a_page_at_a_time_in_document_order(graphql: GraphQL, baku: str) -> None:
    whole = await graphql("query($id: ID!) { plan(id: $id) { nodes { nodeId } } }", id=baku)
    expected = [n["nodeId"] for n in whole["data"]["plan"]["nodes"]]
    seen: list[str] = []
    after = None
    while True:
        body = await graphql(NODES_PAGE, id=baku, first=7, after=after)
        page = body["data"]["plan"]["nodesPage"]
        assert page["totalCount"] == len(expected)
        seen += [e["node"]["nodeId"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected

    terms = await graphql(NODES_PAGE, id=baku, first=100, kind="TERM")
    assert {e["node"]["kind"] for e in terms["data"]["plan"]["nodesPage"]["edges"]} == {"TERM"}
    children = await graphql(NODES_PAGE, id=baku, first=100, parent="section-3")
    ids = [e["node"]["nodeId"] for e in children["data"]["plan"]["nodesPage"]["edges"]]
    assert ids == ["section-3-1", "section-3-2", "section-3-3", "section-3-4"]
    refused = await graphql(NODES_PAGE, id=baku, first=5, after="bm90LWEtY3Vyc29y")
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
