"""The plan in several languages: which it declares, the human texts of a node, translations.

A translation belongs to one text *slot* of one node (`title`, `description`, `objective`,
`expected_results[2]`) in one language, and remembers the source text it translated. It is
**stale** when the node's source text is no longer that text: shown, never dropped, until a
new translation revises it. Nothing here ever writes a source text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

import msgspec

from planapi.domain.nodes import Node

if TYPE_CHECKING:
    from planapi.domain.plan import PlanState

# The six official languages of the UN and the ITU, as BCP 47 primary tags, in UN order.
LANGUAGES: tuple[str, ...] = ("ar", "zh", "en", "fr", "ru", "es")
DEFAULT_SOURCE = "en"
# Tags read as one of the six: Chinese is published in simplified script.
_ALIASES = {"zh-hans": "zh", "zh-cn": "zh", "zh-hans-cn": "zh"}
RTL: frozenset[str] = frozenset({"ar"})
TEXT_FIELDS: tuple[str, ...] = ("title", "description", "objective")
_SLOT = re.compile(r"^(title|description|objective|expected_results\[(\d{1,4})\])\Z")


def language(tag: str) -> str | None:
    """The language `tag` names among the six (`zh-Hans` → `zh`), or None."""
    lowered = tag.strip().lower()
    lowered = _ALIASES.get(lowered, lowered)
    return lowered if lowered in LANGUAGES else None


@dataclass(frozen=True, slots=True)
class Languages:
    """The language a plan is written in and every language it is published in (source too)."""

    source: str = DEFAULT_SOURCE
    published: tuple[str, ...] = (DEFAULT_SOURCE,)


DEFAULT_LANGUAGES = Languages()


@dataclass(frozen=True, slots=True)
class Translation:
    text: str
    # The source text this translates: when the node's text differs, the translation is stale.
    source: str
    version: int = 0  # the plan version that recorded it


TranslationKey = tuple[str, str, str]  # (node id, slot, language)
NO_TRANSLATIONS: Mapping[TranslationKey, Translation] = MappingProxyType({})


def text_slots(node: Node) -> dict[str, str]:
    """Every human text of `node` by slot, in reading order; absent texts have no slot."""
    slots = {"title": node.title}
    if node.description:
        slots["description"] = node.description
    if node.objective:
        slots["objective"] = node.objective
    for index, result in enumerate(node.expected_results):
        slots[f"expected_results[{index}]"] = result
    return slots


# The plan's own texts are translated under this node id (no node can have it).
PLAN_TEXTS = ""


def plan_slots(title: str, description: str | None) -> dict[str, str]:
    return {"title": title, "description": description} if description else {"title": title}


def is_slot_name(slot: str) -> bool:
    return _SLOT.match(slot) is not None


@dataclass(frozen=True, slots=True)
class Served:
    """What a node read in one language holds: which slots fell back to the source language
    and which translations are stale."""

    fallback: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Localized:
    """How a state read in a language other than its source differs from the source."""

    lang: str
    served: Mapping[str, Served]
    source: PlanState


def translate_node(
    node: Node, lang: str, translations: Mapping[TranslationKey, Translation]
) -> tuple[Node, Served]:
    """`node` with every text in `lang` where a translation exists (stale ones included: shown
    and marked), the source text elsewhere."""
    changed: dict[str, object] = {}
    fallback: list[str] = []
    stale: list[str] = []
    results = list(node.expected_results)
    for slot, text in text_slots(node).items():
        found = translations.get((node.id, slot, lang))
        if found is None:
            fallback.append(slot)
            continue
        if found.source != text:
            stale.append(slot)
        if slot.startswith("expected_results["):
            results[int(slot[17:-1])] = found.text
        else:
            changed[slot] = found.text
    if results != list(node.expected_results):
        changed["expected_results"] = tuple(results)
    translated = msgspec.structs.replace(node, **changed) if changed else node
    return translated, Served(tuple(fallback), tuple(stale))


@dataclass(frozen=True, slots=True)
class LanguageStatus:
    lang: str
    translated: int
    missing: int
    stale: int


def status(
    nodes: Iterable[Node], lang: str, translations: Mapping[TranslationKey, Translation]
) -> LanguageStatus:
    """How complete `lang` is: current translations, texts without one, and stale ones."""
    translated = missing = stale = 0
    for node in nodes:
        for slot, text in text_slots(node).items():
            found = translations.get((node.id, slot, lang))
            if found is None:
                missing += 1
            elif found.source != text:
                stale += 1
            else:
                translated += 1
    return LanguageStatus(lang, translated, missing, stale)


def of_node(
    node_id: str, translations: Mapping[TranslationKey, Translation]
) -> list[tuple[str, str, Translation]]:
    """(slot, language, translation) of every translation of one node, in a stable order."""
    found = [
        (slot, lang, item) for (owner, slot, lang), item in translations.items() if owner == node_id
    ]
    return sorted(found, key=lambda each: (each[0], LANGUAGES.index(each[1])))


@dataclass(frozen=True, slots=True)
class TranslationChange:
    """A translation that differs between two versions: `before` None when it is new."""

    node_id: str
    slot: str
    lang: str
    before: str | None
    after: str


def changed_between(
    before: Mapping[TranslationKey, Translation], after: Mapping[TranslationKey, Translation]
) -> tuple[TranslationChange, ...]:
    if before is after:
        return ()
    out = []
    for key, item in after.items():
        old = before.get(key)
        if old is None or old.text != item.text:
            out.append(TranslationChange(*key, old.text if old else None, item.text))
    return tuple(sorted(out, key=lambda c: (c.node_id, c.slot, LANGUAGES.index(c.lang))))
