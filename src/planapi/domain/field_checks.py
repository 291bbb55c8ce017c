"""The single checks an amendment's changes are made of: ids, parents, codes, positions, texts
and the value of each node field. `decide` composes them; each returns the problems it found."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TypeVar

from planapi.domain.activities import ACTIVITY_CHECKS
from planapi.domain.code_lists import ISO_3166, binding_problems, reference_problems
from planapi.domain.errors import PeriodError, Problem
from planapi.domain.nodes import (
    NODE_ID,
    PARENT_KINDS,
    Dimension,
    Measurement,
    Node,
    NodeKind,
    Reference,
    fields_for,
)
from planapi.domain.periods import parse_period
from planapi.domain.plan import PlanBuilder
from planapi.domain.sdmx import NOT_DIMENSIONS, column_id

MAX_TITLE = 500
MAX_TEXT = 100_000
MAX_CODE = 32

Path = tuple[str | int, ...]
T = TypeVar("T")


def existing(work: PlanBuilder, node_id: str, path: Path, problems: list[Problem]) -> Node | None:
    node = work.nodes.get(node_id)
    if node is None:
        problems.append(Problem(path, missing(work, node_id)))
    return node


def missing(work: PlanBuilder, node_id: str) -> str:
    if node_id in work.retired:
        return f"node {node_id!r} was removed"
    return f"no node {node_id!r} in this plan"


def new_id_problems(work: PlanBuilder, node_id: str, path: Path) -> list[Problem]:
    if not NODE_ID.match(node_id):
        return [Problem(path, "must be 1-80 characters of a-z, 0-9, '.', '_' and '-'")]
    if node_id in work.nodes:
        return [Problem(path, f"node {node_id!r} already exists")]
    if node_id in work.retired:
        return [Problem(path, f"{node_id!r} belonged to a removed node; ids are never reused")]
    return []


def fresh_id(work: PlanBuilder, kind: NodeKind, reserved: set[str]) -> str:
    prefix = kind.value.lower().replace("_", "-")
    number = len(work.nodes) + len(work.retired) + 1
    taken = work.nodes.keys() | work.retired | reserved
    while f"{prefix}-{number}" in taken:
        number += 1
    return f"{prefix}-{number}"


def parent_problems(
    work: PlanBuilder, kind: NodeKind, parent_id: str | None, path: Path
) -> list[Problem]:
    allowed = PARENT_KINDS[kind]
    if parent_id is None:
        if None in allowed:
            return []
        return [Problem(path, f"a {kind.value} needs a parent: {names(allowed)}")]
    parent = work.nodes.get(parent_id)
    if parent is None:
        return [Problem(path, missing(work, parent_id))]
    if parent.kind not in allowed:
        where = names(allowed) if allowed - {None} else "the plan itself"
        return [
            Problem(
                path, f"a {kind.value} cannot sit under a {parent.kind.value} (allowed: {where})"
            )
        ]
    return []


def code_problems(
    work: PlanBuilder, node: Node, parent_id: str | None, path: Path
) -> list[Problem]:
    if node.code is None:
        return []
    for sibling_id in work.siblings(parent_id):
        sibling = work.nodes[sibling_id]
        if sibling.id != node.id and sibling.kind is node.kind and sibling.code == node.code:
            return [
                Problem(
                    (*path, "code"),
                    f"code {node.code!r} is already used by {sibling.id!r} under the same parent",
                )
            ]
    return []


def position_problems(position: int, siblings: int, path: Path) -> list[Problem]:
    if 0 <= position <= siblings:
        return []
    return [Problem(path, f"must be between 0 and {siblings}")]


def text_problems(
    path: Path, text: str | None, limit: int, *, required: bool = False
) -> list[Problem]:
    if text is None or not text.strip():
        return [Problem(path, "must not be empty")] if required or text is not None else []
    if len(text) > limit:
        return [Problem(path, f"must be at most {limit} characters")]
    return []


def value_problems(
    work: PlanBuilder, kind: NodeKind, values: Mapping[str, object], path: Path
) -> list[Problem]:
    problems: list[Problem] = []
    allowed = fields_for(kind)
    for name, value in values.items():
        if name not in allowed:
            problems.append(Problem((*path, name), f"does not apply to a {kind.value}"))
            continue
        check = _FIELD_CHECKS.get(name)
        if check is not None and value is not None:
            problems += check(work, value, (*path, name))
    return problems


def _check_code(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    text = str(value)
    if not text.strip() or len(text) > MAX_CODE or text != text.strip():
        return [Problem(path, f"must be 1-{MAX_CODE} characters without surrounding spaces")]
    return []


def _check_text(limit: int) -> Callable[[PlanBuilder, object, Path], list[Problem]]:
    def check(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
        return text_problems(path, str(value), limit)

    return check


def _check_references(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[object, str]] = set()
    for i, ref in enumerate(_items(value, Reference)):
        problems += text_problems((*path, i, "code"), ref.code, 100, required=True)
        problems += reference_problems(ref, (*path, i, "code"))
        key = (ref.vocabulary, ref.code)
        if key in seen:
            problems.append(Problem((*path, i), "the same reference is given twice"))
        seen.add(key)
    return problems


def _check_measurement(
    work: PlanBuilder, value: Measurement, path: Path, *, target: bool
) -> list[Problem]:
    problems: list[Problem] = []
    try:
        period = parse_period(value.period)
    except PeriodError as error:
        problems.append(Problem((*path, "period"), str(error)))
    else:
        if target and not work.period_start <= period.year <= work.period_end:
            problems.append(
                Problem(
                    (*path, "period"),
                    f"{value.period} is outside the plan "
                    f"period {work.period_start}-{work.period_end}",
                )
            )
    if not value.value.is_finite():
        problems.append(Problem((*path, "value"), "must be a finite number"))
    return problems


def _check_number(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    assert isinstance(value, Decimal)
    return [] if value.is_finite() else [Problem(path, "must be a finite number")]


def _check_baseline(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    assert isinstance(value, Measurement)
    return _check_measurement(work, value, path, target=False)


def _check_targets(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, target in enumerate(_items(value, Measurement)):
        problems += _check_measurement(work, target, (*path, i), target=True)
        if target.period in seen:
            problems.append(Problem((*path, i, "period"), f"{target.period} has two targets"))
        seen.add(target.period)
    return problems


def _check_dimensions(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, dimension in enumerate(_items(value, Dimension)):
        problems += text_problems((*path, i, "name"), dimension.name, 64, required=True)
        if dimension.name in seen:
            problems.append(Problem((*path, i, "name"), f"{dimension.name!r} is declared twice"))
        seen.add(dimension.name)
        if len(set(dimension.values)) != len(dimension.values):
            problems.append(Problem((*path, i, "values"), "values must be distinct"))
        problems += binding_problems(dimension, (*path, i))
    return problems + _column_problems(_items(value, Dimension), path)


def _column_problems(dimensions: list[Dimension], path: Path) -> list[Problem]:
    """Each dimension is one SDMX column (`age group` → AGE_GROUP; REF_AREA for the first bound
    to ISO 3166), and ingestion fills a dimension by its column: two names of one column could
    not be told apart, and one taking a column the message keeps would never be filled.
    Checked only where dimensions are given (as `bounds`): a plan stored before still folds."""
    problems: list[Problem] = []
    taken: dict[str, str] = {}
    area = next((d.name for d in dimensions if d.code_list == ISO_3166), None)
    for i, dimension in enumerate(dimensions):
        name = dimension.name
        columns = sorted({column_id(name)} | ({"REF_AREA"} if name == area else set()))
        reserved = [c for c in columns if c in NOT_DIMENSIONS]
        shared = [c for c in columns if taken.get(c, name) != name]
        if reserved:
            why = f"{name!r} would be the SDMX column {reserved[0]}, reserved by SDMX-CSV and "
            problems.append(Problem((*path, i, "name"), why + "the structure message"))
        elif shared:
            why = f"{name!r} would be the SDMX column {shared[0]}, as {taken[shared[0]]!r} is"
            problems.append(
                Problem((*path, i, "name"), why + ": SDMX data could not tell them apart")
            )
        else:
            taken |= dict.fromkeys(columns, name)
    return problems


def _check_distinct(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    items = _items(value, enum.Enum)
    if len(set(items)) != len(items):
        return [Problem(path, "each value may be given once")]
    return []


def _check_expected_results(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    problems: list[Problem] = []
    for i, item in enumerate(_items(value, str)):
        problems += text_problems((*path, i), item, MAX_TEXT, required=True)
    return problems


def _items(value: object, kind: type[T]) -> list[T]:
    assert isinstance(value, tuple)
    return [item for item in value if isinstance(item, kind)]


_FIELD_CHECKS: dict[str, Callable[[PlanBuilder, object, Path], list[Problem]]] = {
    "code": _check_code,
    "description": _check_text(MAX_TEXT),
    "unit": _check_text(100),
    "objective": _check_text(MAX_TEXT),
    "number": _check_text(32),
    "revision": _check_text(200),
    "references": _check_references,
    "baseline": _check_baseline,
    "targets": _check_targets,
    "dimensions": _check_dimensions,
    "expected_results": _check_expected_results,
    "period_types": _check_distinct,
    "contents": _check_distinct,
    "minimum": _check_number,
    "maximum": _check_number,
    **ACTIVITY_CHECKS,
}


def names(kinds: frozenset[NodeKind | None]) -> str:
    return ", ".join(sorted(kind.value for kind in kinds if kind is not None))


def kinds_message(prefix: str, kinds: frozenset[NodeKind], node: Node) -> str:
    return f"{prefix} {names(frozenset(kinds))}, not a {node.kind.value} ({node.id!r})"
