"""Translations as amendments, from the domain alone: a translation never alters a source text,
and stale marks follow source edits (hypothesis drives both over random edit sequences)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planapi.application.translations import localize, translation_status
from planapi.domain.changes import AddNode, DeclareLanguages, SetTranslation, UpdateNode
from planapi.domain.decide import decide_amendment, decide_creation
from planapi.domain.errors import ValidationError
from planapi.domain.events import AmendmentInfo, Authority
from planapi.domain.nodes import NodeKind, Region
from planapi.domain.plan import PlanState, fold
from planapi.domain.translations import language, text_slots

INFO = AmendmentInfo("tester", Authority.TDAG, "Agreed")
TARGETS = ("ar", "zh", "fr", "ru", "es")


def _plan() -> PlanState:
    created = decide_creation(
        INFO,
        "plan",
        "Plan",
        2026,
        2029,
        "About",
        [
            DeclareLanguages("en", ("ar", "zh", "en", "fr", "ru", "es")),
            AddNode(NodeKind.PRIORITY, "Connectivity", id="p", values={"description": "Text"}),
            AddNode(
                NodeKind.REGIONAL_INITIATIVE,
                "Inclusion",
                id="ri",
                values={
                    "region": Region.AFRICA,
                    "objective": "Connect",
                    "expected_results": ("Schools", "Prices"),
                },
            ),
        ],
    )
    return fold([created])


SLOTS = [("p", "title"), ("p", "description"), ("ri", "title"), ("ri", "objective")]
SLOTS += [("ri", "expected_results[0]"), ("ri", "expected_results[1]")]

texts = st.text(alphabet="abcأبتث中文дж ", min_size=1, max_size=12).filter(str.strip)
translate = st.tuples(st.just("translate"), st.sampled_from(SLOTS), st.sampled_from(TARGETS), texts)
edit = st.tuples(st.just("edit"), st.sampled_from(SLOTS), st.just(""), texts)


def _change(step: tuple[str, tuple[str, str], str, str], state: PlanState) -> object:
    kind, (node_id, slot), lang, text = step
    if kind == "translate":
        return SetTranslation(node_id, slot, lang, text)
    if slot.startswith("expected_results["):
        results = list(state.nodes[node_id].expected_results)
        results[int(slot[17:-1])] = text
        return UpdateNode(node_id, {"expected_results": tuple(results)})
    return UpdateNode(node_id, {slot: text})


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(translate, edit), min_size=1, max_size=15))
def test_translations_never_alter_sources_and_stale_marks_follow_edits(steps: list) -> None:  # type: ignore[type-arg]
    state = _plan()
    # What the test expects: the source text each live translation was made from.
    made_from: dict[tuple[str, str, str], str] = {}
    for step in steps:
        before = {node_id: text_slots(node) for node_id, node in state.nodes.items()}
        event = decide_amendment(state, INFO, [_change(step, state)])  # type: ignore[list-item]
        state = fold([event], state)
        kind, (node_id, slot), lang, _ = step
        if kind == "translate":
            # The source is untouched by a translation.
            assert {n: text_slots(node) for n, node in state.nodes.items()} == before
            made_from[node_id, slot, lang] = before[node_id][slot]
    for node_id, node in state.nodes.items():
        for lang in TARGETS:
            read = localize(state, lang)
            served = read.localized.served[node_id]  # type: ignore[union-attr]
            for slot, text in text_slots(node).items():
                expected_stale = (node_id, slot, lang) in made_from and made_from[
                    node_id, slot, lang
                ] != text
                assert (slot in served.stale) == expected_stale
                assert (slot in served.fallback) == ((node_id, slot, lang) not in made_from)
                if (node_id, slot, lang) not in made_from:
                    assert text_slots(read.nodes[node_id])[slot] == text
    counted = {each.lang: each for each in translation_status(state)}
    for lang in TARGETS:
        total = counted[lang].translated + counted[lang].missing + counted[lang].stale
        assert total == sum(len(text_slots(n)) for n in state.nodes.values()) + 2


def test_the_source_language_is_not_translated_and_reading_it_is_the_state_itself() -> None:
    state = _plan()
    assert localize(state, "en") is state
    assert localize(state, None) is state
    with pytest.raises(ValidationError) as refused:
        decide_amendment(state, INFO, [SetTranslation("p", "title", "en", "Other")])
    assert refused.value.problems[0].path == ("changes", 0, "setTranslation", "lang")


def test_a_language_tag_is_one_of_the_six() -> None:
    assert [language(t) for t in ("AR", "zh-Hans", "zh-CN", "fr", "de", "en-GB")] == [
        "ar",
        "zh",
        "zh",
        "fr",
        None,
        None,
    ]


def test_the_source_language_cannot_change_once_translated() -> None:
    state = fold(
        [decide_amendment(_plan(), INFO, [SetTranslation("p", "title", "fr", "Connectivité")])],
        _plan(),
    )
    with pytest.raises(ValidationError) as refused:
        decide_amendment(state, INFO, [DeclareLanguages("fr", ("fr", "en"))])
    assert "cannot change" in refused.value.problems[0].message
