"""A plan's texts as XLIFF 2.0 (OASIS core) for translators, beside gettext PO: the same texts,
the same all-or-nothing import (`translation_files.import_translations`).

One `<unit>` per text in one `<file>`. The unit's `id` names the text: `<nodeId>:<field>`
(`:title` for the plan's own title; `expected_results[2]` becomes `expected_results.2`, since
an id is an XML name token); its `name` is the PO file's `msgctxt` (`nodeId#field`). A unit has
one `<segment>`: `state="initial"` and no `<target>` when untranslated, `translated` when
translated, and a stale translation (its source text changed since) is `initial` with
`subState="planapi:stale"`, its old target and a note giving the source it translated, so a
translation tool shows it for review. The import takes units whose state is `translated`,
`reviewed` or `final`; `initial` ones are left out as PO's fuzzy entries are.

Files come from outside, so they are parsed by defusedxml: a DTD, an entity declaration or an
external reference is refused before anything is expanded (billion laughs, XXE). Inline
markup (`<ph>`, `<pc>`, `<mrk>` …) is refused too: a plan's texts are plain text. Characters
XML 1.0 cannot hold travel as `<cp hex="…"/>`, the one inline element read.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # writing only: reading goes through defusedxml

import defusedxml
import defusedxml.ElementTree as SafeET

from planapi.application.plans import PlanService, PlanVersion
from planapi.application.translation_files import (
    Entry,
    ImportTranslations,
    import_file,
    plan_texts,
)
from planapi.domain.changes import SetTranslation
from planapi.domain.errors import Problem, ValidationError
from planapi.domain.plan import PlanState
from planapi.domain.translations import language

NS = "urn:oasis:names:tc:xliff:document:2.0"
XLIFF = "application/xliff+xml"
STALE = "planapi:stale"
TAKEN = frozenset({"translated", "reviewed", "final"})
STATES = TAKEN | {"initial"}
# What XML 1.0 cannot hold (U+0000 neither: no text may contain it); written as <cp hex="…"/>.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# ElementTree writes a CR in text raw (in attributes it writes &#13;), and XML parsers read a raw
# CR (or CR LF) as LF: the source read back would never match. Every raw CR of the finished
# document is a text's, so it becomes the character reference &#13;, which parsers keep.
_CR = "\r"
_HEX = re.compile(r"^[0-9A-Fa-f]{1,6}\Z")
_INDEXED = re.compile(r"^(\w+)\[(\d+)\]\Z")
_DOTTED = re.compile(r"^(\w+)\.(\d+)\Z")


def xml_text(text: str) -> str:
    """`text` with each character XML 1.0 cannot hold as U+FFFD: for what only people read
    (a note, a name in an SDMX message), where `<cp>` would not be understood."""
    return _INVALID.sub("\ufffd", text)


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def unit_id(node_id: str, slot: str) -> str:
    return node_id + ":" + _INDEXED.sub(r"\1.\2", slot)


def _slot_of(uid: str) -> tuple[str, str]:
    node_id, colon, field = uid.rpartition(":")
    if not colon:
        return "", ""  # names no text
    return node_id, _DOTTED.sub(r"\1[\2]", field)


def export_xliff(state: PlanState, lang: str) -> str:
    # Unqualified tags under a default namespace declared as an attribute: the output reads
    # as the spec's examples, and ElementTree's global prefix registry is left alone.
    head = {"xmlns": NS, "version": "2.0", "srcLang": state.languages.source, "trgLang": lang}
    root = ET.Element("xliff", head)
    file = ET.SubElement(root, "file", {"id": state.id, "original": f"{state.id}@{state.version}"})
    for node_id, slot, source in plan_texts(state):
        unit = ET.SubElement(file, "unit", {"id": unit_id(node_id, slot)})
        unit.set("name", f"{node_id}#{slot}")
        node = state.nodes.get(node_id)
        found = state.translations.get((node_id, slot, lang))
        stale = found is not None and found.source != source
        if node is not None or stale:
            notes = ET.SubElement(unit, "notes")
            if node is not None:
                where = xml_text(f"{node.kind.value} {node.code or ''}".strip())
                ET.SubElement(notes, "note", {"category": "location"}).text = where
            if found is not None and stale:
                note = ET.SubElement(notes, "note", {"category": "stale", "priority": "1"})
                shown = xml_text(found.source)
                note.text = f"The source text changed; this translated: {shown}"
        segment = ET.SubElement(unit, "segment")
        segment.set("state", "translated" if found and not stale else "initial")
        if stale:
            segment.set("subState", STALE)
        _write(segment, "source", source)
        if found is not None:
            _write(segment, "target", found.text)
    _indent(root)
    body: str = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body.replace(_CR, "&#13;") + "\n"


def _indent(element: ET.Element, level: int = 0) -> None:
    """Lines and indentation between elements, never inside a text (ET.indent would pad the
    text around a <cp>)."""
    if element.tag in ("source", "target", "note") or not len(element):
        return
    pad = "\n" + "  " * (level + 1)
    element.text = pad
    for child in element:
        _indent(child, level + 1)
        child.tail = pad
    element[-1].tail = "\n" + "  " * level


def _write(parent: ET.Element, tag: str, text: str) -> None:
    """`text` as an element; characters XML 1.0 cannot hold (a vertical tab pasted from a word
    processor) as XLIFF's `<cp hex="000B"/>`, so the file stays well-formed and loses nothing."""
    element = ET.SubElement(parent, tag)
    element.text, last, start = "", None, 0
    for match in _INVALID.finditer(text):
        if last is None:
            element.text += text[start : match.start()]
        else:
            last.tail = text[start : match.start()]
        last = ET.SubElement(element, "cp", {"hex": f"{ord(match.group()):04X}"})
        start = match.end()
    if last is None:
        element.text += text[start:]
    else:
        last.tail = text[start:]


def _parsed(text: str) -> ET.Element:
    try:
        root: ET.Element = SafeET.fromstring(text.encode(), forbid_dtd=True)
    except defusedxml.DefusedXmlException as error:
        why = "must not declare a DTD, entities or external references"
        raise ValidationError([Problem(("xliff",), f"{why} ({type(error).__name__})")]) from error
    except ET.ParseError as error:
        raise ValidationError([Problem(("xliff",), f"is not XML: {error}")]) from error
    return root


def xliff_language(state: PlanState, text: str) -> tuple[ET.Element, str]:
    """The document's root and its target language, or the header's problems."""
    root = _parsed(text)
    if root.tag != _q("xliff"):
        why = f"must be an <xliff> element in the namespace {NS} (XLIFF 2.0)"
        raise ValidationError([Problem(("xliff",), why)])
    problems: list[Problem] = []
    if root.get("version") != "2.0":
        problems.append(Problem(("xliff", "version"), "must be 2.0"))
    source = state.languages.source
    if language(root.get("srcLang", "")) != source:
        problems.append(Problem(("xliff", "srcLang"), f"must be the plan's source, {source!r}"))
    lang = language(root.get("trgLang", ""))
    others = [each for each in state.languages.published if each != source]
    if lang not in others:
        choices = ", ".join(others) or "none: the plan declares no other language"
        problems.append(Problem(("xliff", "trgLang"), f"must be one of the plan's: {choices}"))
    if problems:
        raise ValidationError(problems)
    assert lang is not None
    return root, lang


def _content(element: ET.Element | None) -> tuple[str, str | None]:
    """The text of a <source>/<target> (each <cp> read back as its character), or why it
    cannot be read."""
    if element is None:
        return "", None
    out, markup = [element.text or ""], set()
    for child in element:
        if child.tag != _q("cp"):
            markup.add(child.tag.rpartition("}")[2])
            continue
        given = child.get("hex", "")
        code = int(given, 16) if _HEX.match(given) else 0
        if 0xD800 <= code <= 0xDFFF:
            # Half of a UTF-16 pair is no character: no text (nor event) can be encoded with it.
            return "", f'<cp hex="{given}"> names a surrogate (U+D800-U+DFFF), not a character'
        if not 0 < code <= 0x10FFFF or not _INVALID.match(chr(code)):
            return "", f'<cp hex="{given}"> must name a character XML cannot hold, not U+0000'
        out += [chr(code), child.tail or ""]
    if markup:
        found = ", ".join(f"<{tag}>" for tag in sorted(markup))
        return "", f"inline markup ({found}) is not supported: plain text only"
    return "".join(out), None


def _unit_problem(unit: ET.Element, current: dict[tuple[str, str], str]) -> tuple[str, str] | None:
    """What is wrong with one unit as (field, message), or None when it can be read."""
    uid = unit.get("id", "")
    if _slot_of(uid) not in current:
        return "id", f"{uid!r} names no text of this plan"
    segments = [child for child in unit if child.tag in (_q("segment"), _q("ignorable"))]
    if len(segments) != 1 or segments[0].tag != _q("segment"):
        return "segment", "must be exactly one <segment> (as exported)"
    segment = segments[0]
    if segment.get("state", "initial") not in STATES:
        return "state", "must be initial, translated, reviewed or final"
    for field in ("source", "target"):
        why = _content(segment.find(_q(field)))[1]
        if why is not None:
            return field, why
    return None


def read_xliff(state: PlanState, root: ET.Element, lang: str) -> list[Entry]:
    """The changes an XLIFF document asks for, or a ValidationError naming each unit it cannot
    take (`units[3].target`, the message naming the unit's id)."""
    current = {(node_id, slot): source for node_id, slot, source in plan_texts(state)}
    changes: list[Entry] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, unit in enumerate(root.iter(_q("unit"))):
        uid = unit.get("id", "")
        wrong = _unit_problem(unit, current)
        if wrong is None and uid in seen:
            wrong = "id", "appears twice"
        seen.add(uid)
        if wrong is not None:
            problems.append(Problem(("units", index, wrong[0]), f"unit {uid!r}: {wrong[1]}"))
            continue
        segment = unit.find(_q("segment"))
        assert segment is not None
        node_id, slot = _slot_of(uid)
        source = _content(segment.find(_q("source")))[0]
        target = _content(segment.find(_q("target")))[0].strip()  # as amendments record it
        if segment.get("state", "initial") not in TAKEN or not target:
            continue
        if source != current[node_id, slot]:
            why = f"unit {uid!r}: the source text has changed since: export again"
            problems.append(Problem(("units", index, "source"), why))
            continue
        known = state.translations.get((node_id, slot, lang))
        if known is not None and known.text == target and known.source == source:
            continue
        change = SetTranslation(node_id, slot, lang, target)
        changes.append(Entry(change, ("units", index, "target"), f"unit {uid!r}"))
    if problems:
        raise ValidationError(problems)
    return changes


async def import_xliff(
    plans: PlanService, command: ImportTranslations, actor: str | None
) -> tuple[PlanVersion, int]:
    """As `import_po`, from an XLIFF 2.0 document: its `trgLang` is the language imported."""

    def read(state: PlanState, text: str) -> list[Entry]:
        root, lang = xliff_language(state, text)
        if command.lang is not None and language(command.lang) != lang:
            raise ValidationError([Problem(("lang",), f"must be the file's trgLang, {lang!r}")])
        return read_xliff(state, root, lang)

    return await import_file(plans, command, actor, read, "xliff")
