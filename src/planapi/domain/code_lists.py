"""Code lists: the outside vocabularies plan references and reading dimensions are checked
against (ISO 3166 countries, UN M49 regions, LDC/LLDC/SIDS, ITU-D regions, SDG codes, WSIS
action lines, ITU strategic goals and targets).

They ship as versioned data inside the package (`planapi/code_lists/*.json`, each naming its
source and the date it was taken), except ISO 3166-1, which pycountry keeps current upstream.
Reading package data is part of loading the code, not I/O the domain performs at run time: the
lists are read once, on first use, and never change while the process lives.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.metadata import version as package_version

import pycountry

from planapi.domain.errors import Problem
from planapi.domain.nodes import Dimension, Reference, ReferenceVocabulary

ISO_3166 = "ISO_3166_1_ALPHA3"
_FILES = (
    "sdg_goals",
    "sdg_targets",
    "sdg_indicators",
    "wsis_action_lines",
    "itu_strategic_goals",
    "itu_strategic_targets",
    "un_m49_regions",
    "un_country_groups",
    "itu_d_regions",
)
# The code list each checked vocabulary draws from; OTHER is free text on purpose.
VOCABULARY_LISTS: dict[ReferenceVocabulary, str] = {
    ReferenceVocabulary.SDG_TARGET: "SDG_TARGETS",
    ReferenceVocabulary.SDG_INDICATOR: "SDG_INDICATORS",
    ReferenceVocabulary.WSIS_ACTION_LINE: "WSIS_ACTION_LINES",
    ReferenceVocabulary.ITU_STRATEGIC_GOAL: "ITU_STRATEGIC_GOALS",
    ReferenceVocabulary.ITU_STRATEGIC_TARGET: "ITU_STRATEGIC_TARGETS",
}


@dataclass(frozen=True, slots=True)
class Validity:
    """From and to (both inclusive, None: open): when a code or a membership holds."""

    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def holds_on(self, day: dt.date | None) -> bool:
        if day is None:
            return True
        after_start = self.valid_from is None or self.valid_from <= day
        return after_start and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True, slots=True)
class Membership:
    code: str
    validity: Validity = Validity()


@dataclass(frozen=True, slots=True)
class Code:
    id: str
    name: str
    parent: str | None = None
    validity: Validity = Validity()
    members: tuple[Membership, ...] = ()

    def members_on(self, day: dt.date | None) -> tuple[str, ...]:
        return tuple(m.code for m in self.members if m.validity.holds_on(day))


@dataclass(frozen=True, slots=True)
class CodeList:
    """`kind`: CODES (a flat or hierarchical list) or GROUPING (each code groups countries)."""

    id: str
    name: str
    version: str
    source: str
    as_of: dt.date
    kind: str
    codes: tuple[Code, ...]

    def code(self, code_id: str) -> Code | None:
        return _index(self).get(code_id)

    def codes_on(self, day: dt.date | None) -> tuple[Code, ...]:
        return tuple(c for c in self.codes if c.validity.holds_on(day))


@cache
def _index(code_list: CodeList) -> dict[str, Code]:
    return {code.id: code for code in code_list.codes}


def _date(text: object) -> dt.date | None:
    return dt.date.fromisoformat(str(text)) if text else None


def _validity(raw: dict[str, object]) -> Validity:
    return Validity(_date(raw.get("validFrom")), _date(raw.get("validTo")))


def _code(raw: dict[str, object]) -> Code:
    members = raw.get("members") or []
    assert isinstance(members, list)
    return Code(
        id=str(raw["id"]),
        name=str(raw["name"]),
        parent=str(raw["parent"]) if raw.get("parent") else None,
        validity=_validity(raw),
        members=tuple(Membership(str(m["code"]), _validity(m)) for m in members),
    )


def _from_file(name: str) -> CodeList:
    text = resources.files("planapi").joinpath(f"code_lists/{name}.json").read_text("utf-8")
    raw = json.loads(text)
    return CodeList(
        id=raw["id"],
        name=raw["name"],
        version=raw["version"],
        source=raw["source"],
        as_of=dt.date.fromisoformat(raw["asOf"]),
        kind=raw["kind"],
        codes=tuple(_code(code) for code in raw["codes"]),
    )


def _calendar_version(version: str) -> dt.date:
    """pycountry numbers its releases by date (26.2.16: 16 February 2026)."""
    try:
        year, month, day = (int(part) for part in version.split(".")[:3])
        return dt.date(2000 + year, month, day)
    except ValueError:
        return dt.date(1970, 1, 1)


def _iso_3166() -> CodeList:
    version = package_version("pycountry")
    return CodeList(
        id=ISO_3166,
        name="ISO 3166-1 alpha-3 country codes",
        version=version,
        source=f"ISO 3166-1 as carried by pycountry {version} (Debian iso-codes)",
        as_of=_calendar_version(version),
        kind="CODES",
        codes=tuple(Code(c.alpha_3, c.name) for c in pycountry.countries),
    )


@cache
def code_lists() -> dict[str, CodeList]:
    """Every code list shipped, by id."""
    found = [_iso_3166(), *(_from_file(name) for name in _FILES)]
    return {code_list.id: code_list for code_list in found}


def code_list(list_id: str) -> CodeList | None:
    return code_lists().get(list_id)


def is_known_reference(vocabulary: ReferenceVocabulary, code: str) -> bool:
    """Whether a reference names a code its vocabulary's list holds (OTHER: always)."""
    list_id = VOCABULARY_LISTS.get(vocabulary)
    if list_id is None:
        return True
    return code_lists()[list_id].code(code) is not None


def reference_problems(ref: Reference, path: tuple[str | int, ...]) -> list[Problem]:
    """A new reference must name a code of its vocabulary's list. Stored ones are never
    re-checked: a plan that once said "99.z" still folds and reads (flagged as unknown)."""
    if not ref.code.strip() or is_known_reference(ref.vocabulary, ref.code):
        return []
    found = code_lists()[VOCABULARY_LISTS[ref.vocabulary]]
    return [
        Problem(
            path,
            f"{ref.code!r} is not a code of {found.id} (version {found.version}); "
            "use vocabulary OTHER for codes outside the shipped lists",
        )
    ]


def binding_problems(dimension: Dimension, path: tuple[str | int, ...]) -> list[Problem]:
    """A dimension bound to a code list names a list that exists, and values among its codes."""
    if dimension.code_list is None:
        return []
    found = code_list(dimension.code_list)
    if found is None:
        known = ", ".join(sorted(code_lists()))
        return [Problem((*path, "code_list"), f"no code list {dimension.code_list!r} ({known})")]
    return [
        Problem((*path, "values", i), f"{value!r} is not a code of {found.id}")
        for i, value in enumerate(dimension.values)
        if found.code(value) is None
    ]


def dimension_codes(dimension: Dimension) -> frozenset[str]:
    """The values a reading may give for a dimension (empty: any)."""
    if dimension.code_list is None or dimension.values:
        return frozenset(dimension.values)
    found = code_list(dimension.code_list)
    return frozenset(code.id for code in found.codes) if found else frozenset()
