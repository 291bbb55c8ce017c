"""A snapshot's languages and translations: written beside its nodes, read back into a builder.

Snapshots from before translations existed have neither key and read as a plan in its default
language without translations, which is what folding their events gives too.
"""

from __future__ import annotations

from typing import Any

from planapi.domain.plan import PlanBuilder
from planapi.domain.translations import Languages, Translation


def languages_to_primitive(state: Any) -> dict[str, Any]:
    languages = state.languages
    return {
        "languages": [languages.source, *languages.published],
        "translations": [
            [node_id, slot, lang, item.text, item.source, item.version]
            for (node_id, slot, lang), item in sorted(state.translations.items())
        ],
    }


def languages_from_primitive(builder: PlanBuilder, raw: dict[str, Any]) -> None:
    found = raw.get("languages")
    if found:
        builder.languages = Languages(found[0], tuple(found[1:]))
    for node_id, slot, lang, text, source, version in raw.get("translations", ()):
        builder.translations[node_id, slot, lang] = Translation(text, source, version)
