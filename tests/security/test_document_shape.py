"""Documents of a kilobyte that expand to millions of selections — fragments spreading
fragments, aliases of such fragments, fragments that spread themselves — are refused by a typed
error naming the limit, before any walker follows their spreads (issue 11, item 4)."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from planapi.api.schema import build_schema
from planapi.config import Settings
from tests.security.conftest import http_client, running

CAP = 2_000  # the default of PLANAPI_MAX_QUERY_SELECTIONS
FIELDS = ("version", "title", "id", "hash", "__typename")


def fan_out(n: int) -> str:
    """The issue's document: F_i spreads F_(i-1) twice, 2^n copies of `version`."""
    fragments = ["fragment F0 on Plan{version}"] + [
        f"fragment F{i} on Plan{{...F{i - 1} ...F{i - 1}}}" for i in range(1, n + 1)
    ]
    return f'{{ plan(id:"baku-2026"){{ ...F{n} }} }}\n' + "\n".join(fragments)


def fan_out_size(n: int) -> int:
    """Its selections once expanded: `plan`, the spread, and F_n (each spread counts one, plus
    what it expands to)."""
    size = 1  # F0: version
    for _ in range(n):
        size = 2 * (1 + size)
    return 2 + size


def codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code", "") for error in body.get("errors") or []]


async def refusal(http: httpx.AsyncClient, query: str, *, get: bool = False) -> dict[str, Any]:
    if get:
        response = await http.get("/graphql", params={"query": query})
    else:
        response = await http.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "data" not in body, body  # refused before execution began (GraphQL over HTTP)
    [error] = body["errors"]
    return dict(error)


@pytest.mark.parametrize("get", [False, True], ids=["POST", "GET"])
async def test_the_issues_fan_out_document_is_refused_naming_the_limit(
    app: Starlette, get: bool
) -> None:
    document = fan_out(20)
    assert len(document) < 1024
    async with http_client(app) as anonymous:
        error = await refusal(anonymous, document, get=get)
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "selections",
        "found": fan_out_size(20),
        "max": CAP,
    }
    assert "fragments" in error["message"]


async def test_many_aliases_of_one_fragment_count_every_copy(app: Starlette) -> None:
    copies = " ".join(f'a{i}: plan(id:"baku-2026"){{...F6}}' for i in range(12))
    document = "{" + copies + "}\n" + fan_out(6).split("\n", 1)[1]
    async with http_client(app) as anonymous:
        error = await refusal(anonymous, document)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["found"] == 12 * fan_out_size(6)


@pytest.mark.parametrize(
    "fragments",
    [
        "fragment A on Plan{...A}",
        "fragment A on Plan{version ...B ...B} fragment B on Plan{...A ...A}",
        "fragment A on Plan{...B} fragment B on Plan{...C ...C} fragment C on Plan{...A ...B}",
    ],
    ids=["itself", "two", "three"],
)
async def test_fragments_that_spread_themselves_are_refused_as_invalid(
    app: Starlette, fragments: str
) -> None:
    async with http_client(app) as anonymous:
        error = await refusal(anonymous, '{ plan(id:"baku-2026"){ ...A } } ' + fragments)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["extensions"]["fragment"] == "A"
    assert "cycles" in error["message"]


async def test_fields_repeated_in_one_selection_are_refused_by_the_pairs_they_make(
    app: Starlette,
) -> None:
    """graphql-core compares same-named fields pair by pair: 47 copies of one field (1 KB)
    took 40 ms. Here: 47 * 46 / 2 pairs of `node`, as many of the `id`s below them."""
    copies = '{ plan(id: "baku-2026") { ' + 'node(id: "a") { id } ' * 47 + "} }"
    assert len(copies) < 1024
    async with http_client(app) as anonymous:
        error = await refusal(anonymous, copies)
        assert error["extensions"] == {
            "code": "QUERY_TOO_COMPLEX",
            "limit": "fieldPairs",
            "found": 2 * 47 * 46 // 2,
            "max": 500,
        }
        few = '{ plan(id: "baku-2026") { id ...A ...B } } fragment A on Plan { id version } '
        few += "fragment B on Plan { id }"
        response = await anonymous.post("/graphql", json={"query": few})
    assert "errors" not in response.json(), response.text


async def test_the_limit_is_a_setting_and_graphiql_still_fits_the_default(
    settings: Settings,
) -> None:
    introspection = get_introspection_query(descriptions=True)
    async with running(settings) as app, http_client(app) as anonymous:
        response = await anonymous.post("/graphql", json={"query": introspection})
        assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    tight = settings.model_copy(update={"max_query_selections": 100})
    async with running(tight) as app, http_client(app) as anonymous:
        error = await refusal(anonymous, introspection)
    assert error["extensions"]["max"] == 100


# -- generated documents -------------------------------------------------------------------
@dataclass(frozen=True)
class Generated:
    """Fragments F0..Fk on Plan, each selecting fields and spreading earlier fragments (and,
    with `back_edge` (i, j), F_i spreading F_j and F_j F_i: a cycle); an operation spreading
    some under aliases."""

    bodies: tuple[tuple[str | int, ...], ...]  # a field name, or the index of a fragment
    roots: tuple[tuple[int, ...], ...]  # per aliased `plan` field: the fragments it spreads
    back_edge: tuple[int, int] | None

    def text(self) -> str:
        def item(each: str | int) -> str:
            return each if isinstance(each, str) else f"...F{each}"

        fragments = []
        for index, body in enumerate(self.bodies):
            items = [item(each) for each in body]
            if self.back_edge is not None and index in self.back_edge:
                other = self.back_edge[1] if index == self.back_edge[0] else self.back_edge[0]
                items.append(f"...F{other}")
            fragments.append(f"fragment F{index} on Plan{{{' '.join(items)}}}")
        roots = " ".join(
            f'a{n}:plan(id:"baku-2026"){{{" ".join(f"...F{i}" for i in spread)}}}'
            for n, spread in enumerate(self.roots)
        )
        return "{" + roots + "}" + " ".join(fragments)

    def size(self) -> int:
        @functools.cache
        def fragment(index: int) -> int:
            body = self.bodies[index]
            return sum(1 if isinstance(each, str) else 1 + fragment(each) for each in body)

        return sum(1 + sum(1 + fragment(i) for i in spread) for spread in self.roots)


@st.composite
def documents(draw: st.DrawFn) -> Generated:
    count = draw(st.integers(1, 16))
    fan = draw(st.integers(1, 4))  # copies of the previous fragment in each: fan^count
    bodies: list[tuple[str | int, ...]] = []
    for index in range(count):
        choices: st.SearchStrategy[str | int] = st.sampled_from(FIELDS)
        if index:
            choices = st.one_of(choices, st.integers(0, index - 1))
        extra = draw(st.lists(choices, min_size=0 if index else 1, max_size=3))
        bodies.append(tuple(extra) + ((index - 1,) * fan if index else ()))
    top = st.integers(0, count - 1)
    roots = tuple(
        tuple(draw(st.lists(top, min_size=1, max_size=3))) for _ in range(draw(st.integers(1, 6)))
    )
    back_edge = None
    if draw(st.integers(0, 3)) == 3:  # a cycle in one document of four
        to = draw(st.integers(0, count - 1))
        back_edge = (draw(st.integers(0, to)), to)
    return Generated(tuple(bodies), roots, back_edge)


@functools.cache
def _schema() -> Any:
    return build_schema(max_selections=CAP)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_any_kilobyte_document_is_answered_or_refused_by_code(generated: Generated) -> None:
    text = generated.text()
    if len(text.encode()) > 1024:
        return
    result = asyncio.run(_schema().execute(text))
    found = [(e.extensions or {}).get("code") for e in result.errors or []]
    if generated.back_edge is not None:
        assert found == ["GRAPHQL_VALIDATION_FAILED"], (text, result.errors)
        return
    size = generated.size()
    if size > CAP:
        assert found == ["QUERY_TOO_COMPLEX"], (text, result.errors)
        assert result.errors
        assert (result.errors[0].extensions or {})["found"] == size
    else:  # within the size; refused only when checking same-named fields would cost
        for error in result.errors or []:
            extensions = error.extensions or {}
            if extensions.get("code") == "QUERY_TOO_COMPLEX":
                assert extensions["limit"] == "fieldPairs", (text, error)
                assert extensions["found"] > extensions["max"]
