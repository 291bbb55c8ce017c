"""XLIFF 2.0 files from the application alone: any text (markup characters, Arabic, Chinese,
edge whitespace) survives export → translation tool → import byte for byte; a file read back
unchanged asks for nothing; stale translations are marked and never imported as they stand."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planapi.application.translation_xliff import NS, export_xliff, read_xliff, xliff_language
from planapi.domain.changes import SetTranslation, UpdateNode
from planapi.domain.decide import decide_amendment
from planapi.domain.errors import ValidationError
from planapi.domain.plan import PlanState, fold
from tests.unit.test_translations import INFO, SLOTS, _plan

UNITS = {f"{node}:{slot.replace('[', '.').rstrip(']')}": (node, slot) for node, slot in SLOTS}
# No CR: ElementTree, the translation tool here, writes it raw and parsers read it as LF (the
# export writes &#13;: tested below). Control characters XML cannot hold travel as <cp>.
texts = st.text(
    alphabet="ab <&>\"'\t\nأبت中文джé🙂\x0b\x01\ufffe",
    min_size=1,
    max_size=15,
).filter(str.strip)


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _set(target: ET.Element, text: str) -> None:
    """What a translation tool writes: characters XML cannot hold as <cp hex="…"/>."""
    for child in list(target):
        target.remove(child)
    first, *rest = re.split(r"([\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff])", text)
    target.text = first
    for char, after in zip(rest[::2], rest[1::2], strict=True):
        ET.SubElement(target, _q("cp"), {"hex": f"{ord(char):04X}"}).tail = after


def _filled(document: str, targets: dict[str, str]) -> str:
    root = ET.fromstring(document)
    for unit in root.iter(_q("unit")):
        if unit.get("id") in targets:
            segment = unit.find(_q("segment"))
            assert segment is not None
            target = segment.find(_q("target"))
            if target is None:
                target = ET.SubElement(segment, _q("target"))
            _set(target, targets[unit.get("id", "")])
            segment.set("state", "translated")
    return ET.tostring(root, encoding="unicode")


def _read(state: PlanState, document: str) -> list[SetTranslation]:
    root, lang = xliff_language(state, document)
    return [entry.change for entry in read_xliff(state, root, lang)]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(UNITS)), texts, min_size=1))
@pytest.mark.parametrize("lang", ["ar", "zh"])
def test_any_text_survives_the_round_trip(lang: str, targets: dict[str, str]) -> None:
    state = _plan()
    changes = _read(state, _filled(export_xliff(state, lang), targets))
    assert {(c.node_id, c.field): c.text for c in changes} == {
        UNITS[uid]: text.strip()
        for uid, text in targets.items()  # amendments strip texts
    }
    assert {c.lang for c in changes} == {lang}
    recorded = fold([decide_amendment(state, INFO, changes)], state)  # type: ignore[arg-type]
    again = export_xliff(recorded, lang)
    assert _read(recorded, again) == []  # everything recorded: nothing more to import
    assert _read(recorded, _filled(again, targets)) == []


def test_a_stale_translation_is_marked_and_left_out_until_revised() -> None:
    state = _plan()
    vieux = SetTranslation("p", "title", "fr", "Vieux")
    state = fold([decide_amendment(state, INFO, [vieux])], state)
    state = fold([decide_amendment(state, INFO, [UpdateNode("p", {"title": "New"})])], state)
    document = export_xliff(state, "fr")
    unit = next(u for u in ET.fromstring(document).iter(_q("unit")) if u.get("id") == "p:title")
    segment = unit.find(_q("segment"))
    assert segment is not None
    assert segment.attrib == {"state": "initial", "subState": "planapi:stale"}
    assert segment.findtext(_q("target")) == "Vieux"
    assert _read(state, document) == []
    revised = _read(state, _filled(document, {"p:title": "Nouveau"}))
    assert revised == [SetTranslation("p", "title", "fr", "Nouveau")]


def test_the_plan_source_language_is_no_target() -> None:
    state = _plan()
    with pytest.raises(ValidationError) as refused:
        _read(state, export_xliff(state, "en"))
    assert [p.path for p in refused.value.problems] == [("xliff", "trgLang")]


def test_characters_xml_cannot_hold_travel_as_cp_and_nothing_else_inline() -> None:
    state = _plan()
    state = fold([decide_amendment(state, INFO, [UpdateNode("p", {"title": "Tab\x0bbed"})])], state)
    document = export_xliff(state, "ru")
    assert '<source>Tab<cp hex="000B" />bed</source>' in document
    revised = _read(state, _filled(document, {"p:title": "Ta\x0bb"}))
    assert revised == [SetTranslation("p", "title", "ru", "Ta\x0bb")]
    for hex_ in ("0000", "0041", "110000", "zz"):
        bad = document.replace("</source>", f'<cp hex="{hex_}" /></source>', 1)
        with pytest.raises(ValidationError) as refused:
            _read(state, _filled(bad, {":title": "План"}))
        [problem] = refused.value.problems
        assert problem.path == ("units", 0, "source")
        assert "<cp" in problem.message


@pytest.mark.parametrize(
    "prolog",
    [
        "<!DOCTYPE xliff>",
        '<!DOCTYPE xliff [<!ENTITY a "aaaaaaaaaa">]>',
        '<!DOCTYPE xliff SYSTEM "http://example.org/xliff.dtd">',
    ],
)
def test_a_document_type_declaration_is_refused_before_anything_is_read(prolog: str) -> None:
    state = _plan()
    document = export_xliff(state, "fr").replace("?>\n", f"?>\n{prolog}\n", 1)
    with pytest.raises(ValidationError) as refused:
        _read(state, document)
    [problem] = refused.value.problems
    assert problem.path == ("xliff",)
    assert "DTD" in problem.message


def test_a_unit_id_without_its_colon_names_no_text() -> None:
    state = _plan()
    document = _filled(export_xliff(state, "es"), {":title": "Plan"}).replace(
        'id=":title"', 'id="title"'
    )
    with pytest.raises(ValidationError) as refused:
        _read(state, document)
    assert [p.path for p in refused.value.problems] == [("units", 0, "id")]


@pytest.mark.parametrize("hex_", ["D800", "DBFF", "DC00", "dfff"])
def test_a_surrogate_code_point_is_refused_as_the_units_target(hex_: str) -> None:
    # A lone surrogate is no character: it cannot be encoded, so the event holding it could
    # never be written (a 500 where the translator should be told which unit is wrong).
    state = _plan()
    # Whatever prefix ElementTree gives the namespace (its registry is process-wide state).
    document = re.sub(
        r"<((?:\w+:)?)target>a",
        lambda found: f'<{found[1]}target>a<{found[1]}cp hex="{hex_}" />',
        _filled(export_xliff(state, "fr"), {":title": "ab"}),
        count=1,
    )
    assert f'hex="{hex_}"' in document
    with pytest.raises(ValidationError) as refused:
        _read(state, document)
    [problem] = refused.value.problems
    assert problem.path == ("units", 0, "target")
    assert "surrogate" in problem.message


@pytest.mark.parametrize("source", ["Line\r\nbreak", "Old\rMac", "Cr\r", "a\r\r\nb"])
def test_a_source_holding_a_carriage_return_round_trips(source: str) -> None:
    # XML parsers read a raw CR (or CR LF) as LF: the source read back would never match the
    # plan's, and the unit could not be imported. Written as &#13;, it survives the parse.
    state = _plan()
    state = fold([decide_amendment(state, INFO, [UpdateNode("p", {"title": source})])], state)
    document = export_xliff(state, "es")
    unit = next(u for u in ET.fromstring(document).iter(_q("unit")) if u.get("id") == "p:title")
    assert unit.findtext(f"{_q('segment')}/{_q('source')}") == state.nodes["p"].title
    # What a translation tool sends back, edited as text (ElementTree would write the CR raw).
    head, unit_text = document.split('<unit id="p:title"', 1)
    unit_text = unit_text.replace('state="initial"', 'state="translated"', 1)
    unit_text = unit_text.replace("</source>", "</source><target>Salto</target>", 1)
    revised = _read(state, head + '<unit id="p:title"' + unit_text)
    assert revised == [SetTranslation("p", "title", "es", "Salto")]
