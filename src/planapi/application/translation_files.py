"""A plan's texts as gettext PO for translators: exported per language, imported back whole.

One PO entry per text: `msgctxt` names it (`<nodeId>#<field>`; the plan's own texts are
`#title`, `#description`), `msgid` is the source text, `msgstr` the translation. A stale
translation is exported `fuzzy`, so translation tools show it for review. An import is one
amendment of `setTranslation` changes, all of them or none: every entry that cannot be taken
is reported with its own problem (`entries[3].msgid`), and nothing is recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import polib

from planapi.application.plans import AmendPlan, PlanService, PlanVersion
from planapi.domain.changes import SetTranslation
from planapi.domain.errors import PlanNotFoundError, Problem, ValidationError
from planapi.domain.events import Authority
from planapi.domain.plan import PlanState
from planapi.domain.translations import PLAN_TEXTS, language, plan_slots, text_slots

MAX_FILE = 20_000_000  # characters: the whole Baku plan in one language is far below


@dataclass(frozen=True, slots=True)
class Entry:
    """A change a translators' file asks for, and where the file asks it (for problems)."""

    change: SetTranslation
    where: tuple[str | int, ...]  # ("entries", 3, "msgstr"), ("units", 3, "target")
    name: str  # how a problem's message names it: "entry 'p#title'", "unit 'p:title'"


# What a translators' file asks of a plan version: its entries, or a ValidationError.
Reader = Callable[[PlanState, str], list[Entry]]


def plan_texts(state: PlanState) -> list[tuple[str, str, str]]:
    """(node id, slot, source text) of the plan's texts and every node's, in document order."""
    own = plan_slots(state.title, state.description)
    out = [(PLAN_TEXTS, slot, text) for slot, text in own.items()]
    for node in state.walk():
        out += [(node.id, slot, text) for slot, text in text_slots(node).items()]
    return out


def export_po(state: PlanState, lang: str) -> str:
    catalog = polib.POFile(wrapwidth=0)
    catalog.metadata = {
        "Project-Id-Version": f"{state.id} {state.version}",
        "Language": lang,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "X-Source-Language": state.languages.source,
    }
    for node_id, slot, source in plan_texts(state):
        found = state.translations.get((node_id, slot, lang))
        entry = polib.POEntry(
            msgctxt=f"{node_id}#{slot}", msgid=source, msgstr=found.text if found else ""
        )
        if found is not None and found.source != source:
            entry.flags.append("fuzzy")
            entry.previous_msgid = found.source
        node = state.nodes.get(node_id)
        if node is not None:
            entry.comment = f"{node.kind.value} {node.code or ''}".strip()
        catalog.append(entry)
    return str(catalog)


def read_po(state: PlanState, lang: str, text: str) -> list[Entry]:
    """The changes a PO file asks for, or a ValidationError naming each entry it cannot take.
    Untranslated and fuzzy entries are left out, and so are translations already recorded."""
    try:
        catalog = polib.pofile(text)
    except (OSError, ValueError) as error:
        raise ValidationError([Problem(("po",), f"is not a PO file: {error}")]) from error
    current = {(node_id, slot): source for node_id, slot, source in plan_texts(state)}
    changes: list[Entry] = []
    problems: list[Problem] = []
    for index, entry in enumerate(catalog):
        wanted = entry.msgstr.strip()  # as the amendment records it
        if not wanted or entry.obsolete or "fuzzy" in entry.flags:
            continue
        node_id, hashed, slot = (entry.msgctxt or "").rpartition("#")
        where = ("entries", index)
        if not hashed or (node_id, slot) not in current:
            problems.append(Problem((*where, "msgctxt"), f"{entry.msgctxt!r} names no text"))
            continue
        if current[node_id, slot] != entry.msgid:
            problems.append(
                Problem((*where, "msgid"), "the source text has changed since: export again")
            )
            continue
        known = state.translations.get((node_id, slot, lang))
        if known is not None and known.text == wanted and known.source == entry.msgid:
            continue
        change = SetTranslation(node_id, slot, lang, wanted)
        changes.append(Entry(change, (*where, "msgstr"), f"entry {entry.msgctxt!r}"))
    if problems:
        raise ValidationError(problems)
    return changes


@dataclass(frozen=True, slots=True)
class ImportTranslations:
    plan_id: str
    expected_version: int
    lang: str | None  # PO: required; XLIFF: the file's trgLang, which it must match if given
    text: str  # the file
    authority: Authority
    rationale: str
    reference: str | None = None
    effective_from: dt.date | None = None


async def import_po(
    plans: PlanService, command: ImportTranslations, actor: str | None
) -> tuple[PlanVersion, int]:
    """The new version and how many texts it translated; ValidationError when any entry (or the
    amendment) is refused, VersionConflictError when the plan moved on."""
    lang = language(command.lang or "")
    if lang is None:
        raise ValidationError([Problem(("lang",), "must be one of ar, zh, en, fr, ru, es")])
    return await import_file(
        plans, command, actor, lambda state, text: read_po(state, lang, text), "po"
    )


async def import_file(
    plans: PlanService, command: ImportTranslations, actor: str | None, read: Reader, field: str
) -> tuple[PlanVersion, int]:
    """One translators' file (`field` names it in problems) recorded as one amendment."""
    if len(command.text) > MAX_FILE:
        raise ValidationError([Problem((field,), f"must be at most {MAX_FILE:,} characters")])
    found = await plans.plan(command.plan_id, command.expected_version)
    if found is None:
        latest = await plans.plan(command.plan_id)
        if latest is None:
            raise PlanNotFoundError(command.plan_id)
        found = latest  # decide reports the conflict with the version expected
    entries = read(found.state, command.text)
    if not entries:
        why = "nothing to import: every text untranslated, marked for review or already recorded"
        raise ValidationError([Problem((field,), why)])
    amend = AmendPlan(
        plan_id=command.plan_id,
        expected_version=command.expected_version,
        authority=command.authority,
        rationale=command.rationale,
        reference=command.reference,
        effective_from=command.effective_from,
        changes=[entry.change for entry in entries],
    )
    try:
        return await plans.amend_plan(amend, actor), len(entries)
    except ValidationError as error:
        # `changes[3].text` means nothing to a translator: name the entry or unit instead.
        raise ValidationError([_located(p, entries) for p in error.problems]) from error


def _located(problem: Problem, entries: list[Entry]) -> Problem:
    path = problem.path
    if len(path) < 2 or path[0] != "changes" or not isinstance(path[1], int):
        return problem
    if not 0 <= path[1] < len(entries):
        return problem
    entry = entries[path[1]]
    return Problem(entry.where, f"{entry.name}: {problem.message}")
