"""Search across a plan version's texts in its languages: ranked, highlighted, a page at a time.

The index is derived from the version (its source texts and every translation), built the
first time that version is searched and never changed after: a version never changes, so a
page cursor (the version and an offset) always continues the same list.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from planapi.application.plans import PlanService, PlanVersion
from planapi.application.ports import SearchIndex, SearchText
from planapi.domain.errors import Problem, ValidationError
from planapi.domain.nodes import NodeKind
from planapi.domain.plan import PlanState
from planapi.domain.translations import language, text_slots

MAX_QUERY = 200
MAX_PAGE = 100
SNIPPET = 160  # characters around the first match
MARK, UNMARK = "<mark>", "</mark>"
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class SearchHit:
    text: SearchText
    rank: float
    snippet: str  # HTML-escaped, matches in <mark>…</mark>


@dataclass(frozen=True, slots=True)
class SearchPage:
    found: PlanVersion
    hits: list[SearchHit]
    offset: int
    total: int


def texts_of(state: PlanState) -> list[SearchText]:
    """Every text of every node in the source language, and every translation (stale ones
    too: they are what readers of that language are shown)."""
    out: list[SearchText] = []
    source = state.languages.source
    for position, node in enumerate(state.walk()):
        for slot, text in text_slots(node).items():
            out.append(SearchText(node.id, node.kind.value, slot, source, text, position))
            for lang in state.languages.published:
                found = state.translations.get((node.id, slot, lang))
                if found is not None and lang != source:
                    out.append(
                        SearchText(node.id, node.kind.value, slot, lang, found.text, position)
                    )
    return out


def _checked(text: str, lang: str | None, first: int, offset: int) -> tuple[str, str | None]:
    problems: list[Problem] = []
    query = " ".join(text.split())
    if not query or len(query) > MAX_QUERY:
        problems.append(Problem(("text",), f"must have 1 to {MAX_QUERY} characters"))
    wanted = language(lang) if lang is not None else None
    if lang is not None and wanted is None:
        problems.append(Problem(("lang",), "must be one of ar, zh, en, fr, ru, es"))
    if not 1 <= first <= MAX_PAGE:
        problems.append(Problem(("first",), f"must be between 1 and {MAX_PAGE}"))
    if offset < 0:
        problems.append(Problem(("after",), "is not a cursor from this list"))
    if problems:
        raise ValidationError(problems)
    return query, wanted


class SearchService:
    def __init__(self, plans: PlanService, index: SearchIndex) -> None:
        self.plans = plans
        self.index = index

    async def search(
        self,
        plan_id: str,
        text: str,
        *,
        lang: str | None = None,
        kinds: Sequence[NodeKind] = (),
        first: int = 20,
        offset: int = 0,
        version: int | None = None,
        as_of: dt.datetime | None = None,
    ) -> SearchPage | None:
        """`first` hits after the first `offset`; None when the plan (at that version) is not."""
        query, wanted = _checked(text, lang, first, offset)
        found = await self.plans.plan(plan_id, version, as_of)
        if found is None:
            return None
        state = found.state
        if not await self.index.indexed(plan_id, state.version):
            await self.index.index(plan_id, state.version, texts_of(state))
        langs = [wanted] if wanted else list(state.languages.published)
        kind_names = [kind.value for kind in kinds]
        best, total = await self.index.search(
            plan_id, state.version, query, langs, kind_names, offset + first
        )
        page = best[offset : offset + first]
        hits = [SearchHit(item, rank, snippet(item.text, query)) for item, rank in page]
        return SearchPage(found, hits, offset, total)


def _terms(query: str) -> list[str]:
    return [word.casefold() for word in _WORD.findall(query)] or [query.casefold()]


def snippet(text: str, query: str) -> str:
    """An excerpt of `text` around its first match, HTML-escaped, each match in <mark>.

    Words are matched by the query's words, or by their first letters when a search engine
    matched a stemmed form (`connectivity` for `connected`); texts without spaces (Chinese)
    by substring."""
    folded = text.casefold()
    spans: list[tuple[int, int]] = []
    for term in _terms(query):
        stem = term[: max(4, len(term) - 3)] if len(term) > 4 else term
        for each in (term, stem):
            start = folded.find(each)
            while start != -1:
                spans.append((start, start + len(each)))
                start = folded.find(each, start + len(each))
            if spans:
                break
    spans = _merged(spans) if len(folded) == len(text) else []
    begin = max(0, spans[0][0] - SNIPPET // 3) if spans else 0
    end = min(len(text), begin + SNIPPET)
    out, cursor = [], begin
    for low, high in spans:
        if low < begin or high > end:
            continue
        out += [html.escape(text[cursor:low]), MARK, html.escape(text[low:high]), UNMARK]
        cursor = high
    out.append(html.escape(text[cursor:end]))
    return ("…" if begin else "") + "".join(out) + ("…" if end < len(text) else "")


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for low, high in sorted(spans):
        if out and low <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return out
