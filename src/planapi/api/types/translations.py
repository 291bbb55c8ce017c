"""The plan's languages in GraphQL: the two changes, what a node read in a language says it
served, its translations, and how complete each language is.

Text fields stay plain strings without arguments: the language is chosen once, by the `lang`
argument of `plan`, `Query.node` or `search`, so the compiled executor still reads every text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import strawberry

from planapi.api.types.errors import bad_input
from planapi.api.types.global_ids import NODE_TYPE_NAMES, node_global_id
from planapi.api.types.naming import camel
from planapi.application.plans import PlanVersion
from planapi.application.translation_files import export_po
from planapi.application.translation_xliff import export_xliff
from planapi.application.translations import (
    localize,
    requested_language,
    served,
    source_of,
    translation_status,
    translations_of,
)
from planapi.domain.changes import DeclareLanguages, SetTranslation
from planapi.domain.errors import ValidationError
from planapi.domain.events import LanguagesDeclared as LanguagesDeclaredEvent
from planapi.domain.events import NodeEvent
from planapi.domain.events import TextTranslated as TextTranslatedEvent
from planapi.domain.nodes import Node
from planapi.domain.plan import PlanState
from planapi.domain.translations import PLAN_TEXTS, Translation, TranslationChange, language

LANG_ARGUMENT = (
    "The language of every text (BCP 47: ar, zh (zh-Hans accepted), en, fr, ru, es); omitted: "
    "the plan's source language. Texts without a translation fall back to the source "
    "(`fallbackFields` says which). Accept-Language is not consulted."
)


def requested(lang: str | None) -> str | None:
    """The language a `lang` argument names, or BAD_USER_INPUT naming `lang`."""
    try:
        return requested_language(lang)
    except ValidationError as error:
        raise bad_input(error) from error


def in_language(found: PlanVersion, lang: str | None) -> PlanVersion:
    state = localize(found.state, lang)
    return found if state is found.state else dataclasses.replace(found, state=state)


def language_part(type_name: str, parts: list[str], fixed: int) -> str | None:
    """The language a plan's or a node's global id ends with (one part past its shape)."""
    if type_name not in ("Plan", "PlanSummary") and type_name not in NODE_TYPE_NAMES:
        return None
    if len(parts) != fixed + 1 or language(parts[-1]) != parts[-1]:
        return None
    return parts[-1]


def api_slot(slot: str) -> str:
    """`expected_results[2]` → `expectedResults[2]`."""
    return camel(slot)


def domain_slot(field: str) -> str:
    head, bracket, rest = field.partition("[")
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in head)
    return snake + bracket + rest


# -- inputs ------------------------------------------------------------------------------------
@strawberry.input(
    description="The plan's source language and the languages it is published in (BCP 47: "
    "ar, zh (zh-Hans accepted), en, fr, ru, es). Undeclared: English only."
)
class DeclareLanguagesInput:
    source: str
    languages: list[str]


@strawberry.input(
    description="A translation of one text of a node (or of the plan, `nodeId` null): `field` "
    "is title, description, objective or expectedResults[i]. Never changes the source text."
)
class SetTranslationInput:
    field: str
    lang: str
    text: str
    node_id: strawberry.ID | None = None


def declare_change(given: DeclareLanguagesInput) -> DeclareLanguages:
    return DeclareLanguages(given.source, tuple(given.languages))


def translation_change(given: SetTranslationInput) -> SetTranslation:
    node_id = PLAN_TEXTS if given.node_id is None else str(given.node_id)
    return SetTranslation(node_id, domain_slot(given.field), given.lang, given.text)


# -- what amendments did -----------------------------------------------------------------------
@strawberry.type(description="The plan's languages were declared.")
class LanguagesDeclared:
    source: str
    languages: list[str]


@strawberry.type(description="One text of a node (null: of the plan) was translated.")
class TextTranslated:
    node_id: strawberry.ID | None
    field: str
    lang: str
    text: str
    source_text: str


def as_language_change(event: NodeEvent) -> LanguagesDeclared | TextTranslated | None:
    if isinstance(event, LanguagesDeclaredEvent):
        return LanguagesDeclared(source=event.source, languages=list(event.published))
    if isinstance(event, TextTranslatedEvent):
        return TextTranslated(
            node_id=strawberry.ID(event.node_id) if event.node_id else None,
            field=api_slot(event.slot),
            lang=event.lang,
            text=event.text,
            source_text=event.source,
        )
    return None


def global_node_id(node: Node, plan: PlanState) -> strawberry.ID:
    """A node's global id; read in a language other than the source, it names the language."""
    localized = plan.localized
    lang = localized.lang if localized else None
    return node_global_id(node.kind, plan.id, plan.version, node.id, lang)


# The three as functions of (owner, state), so that a node's view reads them too (`views`).
def text_language(owner: object, state: PlanState) -> str:
    return state.lang or state.languages.source


def _fallback(owner: str, state: PlanState) -> list[str]:
    return [api_slot(slot) for slot in served(state, owner).fallback]


def _stale(owner: str, state: PlanState) -> list[str]:
    return [api_slot(slot) for slot in served(state, owner).stale]


def fallback_fields(node: Node, state: PlanState) -> list[str]:
    return _fallback(node.id, state)


def stale_fields(node: Node, state: PlanState) -> list[str]:
    return _stale(node.id, state)


def source_node(read: Translatable) -> Node:
    """The node a plan node was read from, with its source texts (what blame is about)."""
    return source_of(read._text_state()).nodes[read._text_owner()]


@strawberry.type(description="A translation new (`before` null) or revised between two versions.")
class TranslationDiff:
    node_id: strawberry.ID | None
    field: str
    lang: str
    before: str | None
    after: str


def translation_diffs(changes: Sequence[TranslationChange]) -> list[TranslationDiff]:
    return [
        TranslationDiff(
            node_id=strawberry.ID(change.node_id) if change.node_id else None,
            field=api_slot(change.slot),
            lang=change.lang,
            before=change.before,
            after=change.after,
        )
        for change in changes
    ]


# -- reads -------------------------------------------------------------------------------------
@strawberry.type(description="A translation of one text: stale when the source text changed since.")
class NodeTranslation:
    field: str
    lang: str
    text: str
    stale: bool
    source_text: str = strawberry.field(description="The source text it translated.")
    version: int = strawberry.field(description="The plan version that recorded it.")


def node_translations(state: PlanState, node_id: str) -> list[NodeTranslation]:
    source = source_of(state)
    if node_id == PLAN_TEXTS:
        current = {"title": source.title, "description": source.description}
    else:
        node: Node = source.nodes[node_id]
        current = {"title": node.title, "description": node.description}
        current["objective"] = node.objective
        for index, result in enumerate(node.expected_results):
            current[f"expected_results[{index}]"] = result
    return [
        _translation(slot, lang, item, current.get(slot))
        for slot, lang, item in translations_of(source, node_id)
    ]


def _translation(slot: str, lang: str, item: Translation, now: str | None) -> NodeTranslation:
    return NodeTranslation(
        field=api_slot(slot),
        lang=lang,
        text=item.text,
        stale=item.source != now,
        source_text=item.source,
        version=item.version,
    )


@strawberry.interface(
    description="Something whose texts are served in a language (`lang` of `plan`/`node`)."
)
class Translatable:
    @strawberry.field(description="The language of the texts served (BCP 47).")
    def lang(self) -> str:
        return text_language(None, self._text_state())

    @strawberry.field(
        description="Texts served in the source language because no translation exists."
    )
    def fallback_fields(self) -> list[str]:
        return _fallback(self._text_owner(), self._text_state())

    @strawberry.field(
        description="Texts served from a translation whose source text has changed since."
    )
    def stale_fields(self) -> list[str]:
        return _stale(self._text_owner(), self._text_state())

    @strawberry.field(description="Every translation of these texts, in every language.")
    def translations(self) -> list[NodeTranslation]:
        return node_translations(self._text_state(), self._text_owner())

    # A plan node (its `plan` and `node`) unless the implementing type says otherwise.
    def _text_state(self) -> PlanState:
        state: PlanState = getattr(self, "plan")  # noqa: B009
        return state

    def _text_owner(self) -> str:
        node: Node = getattr(self, "node")  # noqa: B009
        return node.id


@strawberry.type(description="How complete one language is in this version.")
class TranslationStatus:
    lang: str
    translated: int
    missing: int
    stale: int


@strawberry.type
class PlanLanguages:
    """Fields of `Plan` about its languages (inherited by `Plan`)."""

    @strawberry.field(description="The language the plan is written in (BCP 47).")
    def source_language(self) -> str:
        return self._text_state().languages.source

    @strawberry.field(description="Every language the plan is published in, source included.")
    def languages(self) -> list[str]:
        return list(self._text_state().languages.published)

    @strawberry.field(
        description="Per published language other than the source: texts translated, missing "
        "and stale in this version."
    )
    def translation_status(self) -> list[TranslationStatus]:
        return [
            TranslationStatus(
                lang=each.lang, translated=each.translated, missing=each.missing, stale=each.stale
            )
            for each in translation_status(self._text_state())
        ]

    @strawberry.field(
        description="Every text of this version and its translation into `lang` as a gettext "
        "PO file (`msgctxt` `nodeId#field`; stale translations fuzzy), for translators; "
        "`importTranslations` takes it back."
    )
    def translations_po(self, lang: str) -> str:
        wanted = requested(lang)
        source = source_of(self._text_state())
        return export_po(source, wanted or source.languages.source)

    @strawberry.field(
        description="Every text of this version and its translation into `lang` as an XLIFF "
        "2.0 document (a unit per text, id `nodeId:field`; stale translations `initial` with "
        "`subState` `planapi:stale` and a note), for translators; `importTranslationsXliff` "
        "takes it back."
    )
    def translations_xliff(self, lang: str) -> str:
        wanted = requested(lang)
        source = source_of(self._text_state())
        return export_xliff(source, wanted or source.languages.source)

    def _text_state(self) -> PlanState:
        state: PlanState = getattr(self, "found").state  # noqa: B009
        return state
