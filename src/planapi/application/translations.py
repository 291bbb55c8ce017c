"""A plan version read in one of its languages: the same tree with every text translated.

The copy is built once per (state, language) and kept in a small LRU beside the states the
plan service caches, so reading a whole tree in French costs what reading it in the source
language costs: the GraphQL layer reads plain attributes either way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

import msgspec

from planapi.application.cache import LruCache
from planapi.domain.errors import Problem, ValidationError
from planapi.domain.nodes import Node
from planapi.domain.plan import PlanState
from planapi.domain.translations import (
    LANGUAGES,
    PLAN_TEXTS,
    LanguageStatus,
    Localized,
    Served,
    Translation,
    language,
    plan_slots,
    status,
    translate_node,
)

# Keyed by the state object's id; the value keeps that state alive, so the id cannot be reused
# while the entry exists.
_LOCALIZED: LruCache[tuple[int, str], tuple[PlanState, PlanState]] = LruCache(64)
_STATUS: LruCache[int, tuple[PlanState, list[LanguageStatus]]] = LruCache(64)
_BY_NODE: LruCache[int, tuple[PlanState, Mapping[str, list[tuple[str, str, Translation]]]]] = (
    LruCache(64)
)


def requested_language(tag: str | None, path: tuple[str | int, ...] = ("lang",)) -> str | None:
    """The language a `lang` argument names (None: the source), or a ValidationError."""
    if tag is None:
        return None
    found = language(tag)
    if found is None:
        raise ValidationError([Problem(path, f"must be one of {', '.join(LANGUAGES)}")])
    return found


def localize(state: PlanState, lang: str | None) -> PlanState:
    """`state` with its texts in `lang`; the state itself for the source language (or None).

    A language the plan does not publish is served all from the source, every text a fallback:
    a front-end asking for its reader's language always gets an answer saying what it holds."""
    if lang is None or lang == state.languages.source or state.localized is not None:
        return state
    key = (id(state), lang)
    found = _LOCALIZED.get(key)
    if found is not None and found[0] is state:
        return found[1]
    built = _build(state, lang)
    _LOCALIZED.put(key, (state, built))
    return built


def _build(state: PlanState, lang: str) -> PlanState:
    translations = state.translations
    nodes: dict[str, Node] = {}
    served: dict[str, Served] = {}
    for node_id, node in state.nodes.items():
        nodes[node_id], served[node_id] = translate_node(node, lang, translations)
    title = translations.get((PLAN_TEXTS, "title", lang))
    described = translations.get((PLAN_TEXTS, "description", lang))
    plan_texts = plan_slots(state.title, state.description)
    served[PLAN_TEXTS] = Served(
        fallback=tuple(slot for slot in plan_texts if (PLAN_TEXTS, slot, lang) not in translations),
        stale=tuple(
            slot
            for slot, text in plan_texts.items()
            if (found := translations.get((PLAN_TEXTS, slot, lang))) and found.source != text
        ),
    )
    return dataclasses.replace(
        state,
        title=title.text if title else state.title,
        description=described.text if described and state.description else state.description,
        nodes=MappingProxyType(nodes),
        localized=Localized(lang, MappingProxyType(served), state),
    )


def source_of(state: PlanState) -> PlanState:
    """The state with its source texts, whichever language `state` is read in."""
    return state.localized.source if state.localized else state


def served(state: PlanState, node_id: str) -> Served:
    if state.localized is None:
        return Served()
    return state.localized.served.get(node_id, Served())


def translations_of(state: PlanState, node_id: str) -> list[tuple[str, str, Translation]]:
    """(slot, language, translation) of one node (PLAN_TEXTS: the plan), indexed once per state."""
    found = _BY_NODE.get(id(state.translations))
    if found is None or found[0].translations is not state.translations:
        index: dict[str, list[tuple[str, str, Translation]]] = {}
        for (owner, slot, lang), item in state.translations.items():
            index.setdefault(owner, []).append((slot, lang, item))
        for items in index.values():
            items.sort(key=lambda each: (each[0], LANGUAGES.index(each[1])))
        found = (state, index)
        _BY_NODE.put(id(state.translations), found)
    return found[1].get(node_id, [])


def translation_status(state: PlanState) -> list[LanguageStatus]:
    """Per language the plan publishes besides its source: translated, missing, stale texts
    (counted once per version, then cached)."""
    source = source_of(state)
    found = _STATUS.get(id(source))
    if found is not None and found[0] is source:
        return found[1]
    counted = _count(source)
    _STATUS.put(id(source), (source, counted))
    return counted


def _count(source: PlanState) -> list[LanguageStatus]:
    # The plan's own title and description count as texts too.
    nodes = [*source.nodes.values()]
    if nodes:
        own = msgspec.structs.replace(
            nodes[0], id=PLAN_TEXTS, title=source.title, description=source.description
        )
        nodes.append(msgspec.structs.replace(own, objective=None, expected_results=()))
    return [
        status(nodes, lang, source.translations)
        for lang in source.languages.published
        if lang != source.languages.source
    ]
