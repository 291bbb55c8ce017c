"""The checks of the two language changes, `declareLanguages` and `setTranslation`: what is
wrong with them against the working copy, and the events they amount to."""

from __future__ import annotations

from planapi.domain.changes import DeclareLanguages, SetTranslation
from planapi.domain.errors import Problem
from planapi.domain.events import LanguagesDeclared, NodeEvent, TextTranslated
from planapi.domain.field_checks import MAX_TEXT, Path, existing, text_problems
from planapi.domain.plan import PlanBuilder
from planapi.domain.translations import (
    LANGUAGES,
    PLAN_TEXTS,
    is_slot_name,
    language,
    plan_slots,
    text_slots,
)

_TAGS = ", ".join(LANGUAGES)


def declare_languages(
    change: DeclareLanguages, work: PlanBuilder, path: Path, problems: list[Problem]
) -> list[NodeEvent]:
    source = language(change.source)
    if source is None:
        problems.append(Problem((*path, "source"), f"must be one of {_TAGS}"))
    published: list[str] = []
    for index, tag in enumerate(change.languages):
        found = language(tag)
        if found is None:
            problems.append(Problem((*path, "languages", index), f"must be one of {_TAGS}"))
        elif found in published:
            problems.append(Problem((*path, "languages", index), f"{found!r} is given twice"))
        else:
            published.append(found)
    if source is not None and source not in published:
        published.insert(0, source)
    if source is not None and source != work.languages.source and work.translations:
        problems.append(
            Problem(
                (*path, "source"),
                "the source language cannot change once texts are translated from it",
            )
        )
    ordered = tuple(tag for tag in LANGUAGES if tag in published)
    return [LanguagesDeclared(source or "", ordered)]


def set_translation(
    change: SetTranslation, work: PlanBuilder, path: Path, problems: list[Problem]
) -> list[NodeEvent]:
    if change.node_id == PLAN_TEXTS:
        node = None
        slots = plan_slots(work.title, work.description)
    else:
        node = existing(work, change.node_id, (*path, "node_id"), problems)
        slots = text_slots(node) if node else {}
    lang = language(change.lang)
    languages = work.languages
    if lang is None:
        problems.append(Problem((*path, "lang"), f"must be one of {_TAGS}"))
    elif lang == languages.source:
        problems.append(
            Problem((*path, "lang"), f"{lang!r} is the source language: edit the node instead")
        )
    elif lang not in languages.published:
        problems.append(
            Problem(
                (*path, "lang"),
                f"the plan is not published in {lang!r} (declare it with declareLanguages)",
            )
        )
    problems += text_problems((*path, "text"), change.text, MAX_TEXT, required=True)
    if node is None and change.node_id != PLAN_TEXTS:
        return []
    source = slots.get(change.field)
    if source is None:
        why = "has no such text" if is_slot_name(change.field) else "is not a text field"
        owner = repr(node.id) if node else "the plan"
        problems.append(Problem((*path, "field"), f"{change.field!r} {why} on {owner}"))
        return []
    return [TextTranslated(change.node_id, change.field, lang or "", change.text.strip(), source)]
