"""A reading's series: the key of its disaggregation, and the check of that disaggregation
against its KPI's dimensions — made once per series and batch (`SeriesChecks`)."""

from __future__ import annotations

from collections.abc import Iterable

from planapi.domain.code_lists import dimension_codes
from planapi.domain.errors import Problem
from planapi.domain.nodes import Dimension, Node

Declared = dict[str, frozenset[str]]


def series_key(disaggregation: Iterable[tuple[str, str]]) -> str:
    """`sex=female;region=Africa` in dimension order; "" is the total (no disaggregation)."""
    if not disaggregation:
        return ""
    pairs = sorted(disaggregation)
    if len(pairs) == 1:
        return f"{pairs[0][0]}={pairs[0][1]}"
    return ";".join([f"{name}={value}" for name, value in pairs])


def parse_series(key: str) -> tuple[tuple[str, str], ...]:
    if not key:
        return ()
    pairs = (part.partition("=") for part in key.split(";"))
    return tuple(sorted((name, value) for name, _, value in pairs))


class SeriesChecks:
    """What a batch's check learns once and reuses: each KPI's declared dimensions, and the key
    of each valid disaggregation of a KPI (a series recurs once per period in a batch: 10,000
    readings are often a few hundred series, each checked and keyed once)."""

    __slots__ = ("dimensions", "series")

    def __init__(self) -> None:
        self.dimensions: dict[str, Declared] = {}
        self.series: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}

    def series_key(
        self, kpi: Node, pairs: tuple[tuple[str, str], ...], path: tuple[str | int, ...]
    ) -> tuple[str, list[Problem]]:
        """The key of a reading's series, and what is wrong with its disaggregation."""
        if not pairs:
            return "", []
        key = self.series.get((kpi.id, pairs))
        if key is not None:
            return key, []
        declared = self.dimensions.get(kpi.id)
        if declared is None:
            declared = self.dimensions[kpi.id] = _declared(kpi.dimensions)
        problems: list[Problem] = []
        _disaggregation(kpi, declared, pairs, path, problems)
        key = series_key(pairs)
        if not problems:
            self.series[(kpi.id, pairs)] = key
        return key, problems


def _declared(dimensions: tuple[Dimension, ...]) -> Declared:
    """A KPI's dimensions as sets, built once per KPI and batch rather than once per reading."""
    return {dimension.name: dimension_codes(dimension) for dimension in dimensions}


def _disaggregation(
    kpi: Node,
    declared: Declared,
    pairs: tuple[tuple[str, str], ...],
    path: tuple[str | int, ...],
    problems: list[Problem],
) -> None:
    repeated = len(pairs) > 1 and len({name for name, _ in pairs}) < len(pairs)
    names = [name for name, _ in pairs] if repeated else []
    for name, value in pairs:
        values = declared.get(name)
        if values is not None and (not values or value in values) and not repeated:
            continue  # the common case: declared, a declared value, given once
        at = (*path, "disaggregation")
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            problems.append(
                Problem(
                    (*at, name),
                    f"KPI {kpi.id} declares no dimension {name!r} (declared: {known})",
                )
            )
        elif declared[name] and value not in declared[name]:
            problems.append(Problem((*at, name), _not_allowed(kpi, name, value, declared[name])))
        if names and names.count(name) > 1:
            problems.append(Problem((*at, name), "is given twice"))
            break


def _not_allowed(kpi: Node, name: str, value: str, allowed: frozenset[str]) -> str:
    bound = next((d.code_list for d in kpi.dimensions if d.name == name), None)
    if bound is not None:
        return f"{value!r} is not a code of {bound}"
    return f"{value!r} is not one of {', '.join(sorted(allowed))}"
