"""The SDMX structures of a plan's dataflows: what a statistics office needs to read the series
export and to send data the ingestion takes, as one structure message (GET
/plans/{planId}/sdmx/structure renders it as SDMX-ML 2.1 or SDMX-JSON 2.0).

Each dataflow a KPI is fed by (`domain.sdmx`: the reference's uri, or this service's own
`PLANAPI:DF_<plan>_<kpi>(1.0)`) gets a data structure definition: INDICATOR, then the KPI's
dimensions in its order as the series export writes them (the first bound to ISO 3166 as
REF_AREA, at its place; a dataflow feeding several KPIs takes the union), then TIME_PERIOD;
the measure OBS_VALUE; the attributes OBS_STATUS, UNIT_MEASURE and UNIT_MULT. A dimension
bound to a whole code list is enumerated by that list; one with declared values by those
values; one with neither is free text. Every enumeration also holds `_T`, the total the export
writes where a reading does not disaggregate by that dimension.

The DSDs, code lists and concept scheme are this service's (agency PLANAPI) and carry the plan
and the dataflow (agency, id and version) in their ids: two plans mapping the same outside
dataflow differently, or one plan fed by two versions of it, do not collide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from planapi.domain.code_lists import code_list
from planapi.domain.nodes import Dimension, Node, NodeKind
from planapi.domain.plan import PlanState
from planapi.domain.readings import ReadingStatus
from planapi.domain.sdmx import (
    NOT_DIMENSIONS,
    STATUS_CODES,
    column_id,
    dimension_names,
    feed_of,
    sdmx_columns,
)

AGENCY = "PLANAPI"
VERSION = "1.0"
TOTAL = ("_T", "Total")
_REF = re.compile(r"^([A-Za-z][A-Za-z0-9_.@$-]*):([A-Za-z0-9_@$-]+)\(([0-9]+(?:\.[0-9]+)*)\)$")
_NOT_ID = re.compile(r"[^A-Za-z0-9_@$-]")
STATUS_NAMES = {
    ReadingStatus.FINAL: "Normal value",
    ReadingStatus.PROVISIONAL: "Provisional value",
    ReadingStatus.ESTIMATED: "Estimated value",
    ReadingStatus.FORECAST: "Forecast value",
}
CONCEPT_NAMES = {
    "INDICATOR": "Indicator",
    "REF_AREA": "Reference area",
    "TIME_PERIOD": "Time period",
    "OBS_VALUE": "Observation value",
    "OBS_STATUS": "Observation status",
    "UNIT_MEASURE": "Unit of measure",
    "UNIT_MULT": "Unit multiplier",
}
ATTRIBUTES = ("OBS_STATUS", "UNIT_MEASURE", "UNIT_MULT")


@dataclass(frozen=True, slots=True, order=True)
class ArtefactRef:
    agency: str
    id: str
    version: str

    def __str__(self) -> str:
        return f"{self.agency}:{self.id}({self.version})"


@dataclass(frozen=True, slots=True)
class SdmxCodelist:
    ref: ArtefactRef
    name: str
    codes: tuple[tuple[str, str], ...]  # (id, name)


@dataclass(frozen=True, slots=True)
class Component:
    """A dimension or attribute: its id (also its concept's) and the codelist enumerating it."""

    id: str
    codelist: ArtefactRef | None = None


@dataclass(frozen=True, slots=True)
class DataStructure:
    ref: ArtefactRef
    dataflow: ArtefactRef
    name: str
    dimensions: tuple[Component, ...]  # TIME_PERIOD follows them
    attributes: tuple[Component, ...]


@dataclass(frozen=True, slots=True)
class StructureSet:
    plan_id: str
    structures: tuple[DataStructure, ...]
    codelists: tuple[SdmxCodelist, ...]
    concepts: ArtefactRef
    concept_names: tuple[tuple[str, str], ...]
    # (KPI id, dataflow name) of each feed naming its dataflow otherwise than AGENCY:ID(VERSION):
    # the export keeps the name, but no structure can describe it.
    unstructured: tuple[tuple[str, str], ...] = ()


class StructureConflict(ValueError):
    """A KPI's dimension whose SDMX column another dimension or a fixed component holds: the
    structure could not say which one it means. Refused where dimensions are declared since
    (field_checks); a plan stored before may still hold one."""

    def __init__(self, kpi_id: str, dimension: str, column: str) -> None:
        self.kpi_id, self.dimension, self.column = kpi_id, dimension, column
        super().__init__(
            f"KPI {kpi_id}: dimension {dimension!r} would be the SDMX component {column}, "
            "which another dimension or the structure itself holds: rename the dimension"
        )


def sdmx_id(text: str) -> str:
    """Text as an SDMX identifier: characters outside [A-Za-z0-9_@$-] become `_`."""
    return _NOT_ID.sub("_", text)


def parse_ref(text: str | None) -> ArtefactRef | None:
    """`AGENCY:ID(VERSION)` (SDMX-CSV's STRUCTURE_ID), or None when the text is not one."""
    match = _REF.fullmatch(text.strip()) if text else None
    return ArtefactRef(*match.groups()) if match else None


def dataflow_of(plan_id: str, kpi: Node) -> str:
    """The dataflow a KPI's series is exported as: the one its feed names (verbatim, so the
    export ingests back), else its own."""
    feed = feed_of(kpi)
    if feed is not None and feed.dataflow:
        return feed.dataflow
    return str(ArtefactRef(AGENCY, f"DF_{sdmx_id(plan_id)}_{sdmx_id(kpi.id)}", VERSION))


def plan_structures(plan_id: str, state: PlanState) -> StructureSet:
    """The structures of every dataflow feeding a KPI of the plan, in the plan's order."""
    fed: dict[ArtefactRef, list[Node]] = {}
    unstructured: list[tuple[str, str]] = []
    for node in state.walk():
        if node.kind is NodeKind.KPI and feed_of(node) is not None:
            named = dataflow_of(plan_id, node)
            ref = parse_ref(named)
            if ref is None:
                unstructured.append((node.id, named))
            else:
                fed.setdefault(ref, []).append(node)
    lists: dict[ArtefactRef, SdmxCodelist] = {}
    status = _codelist("CL_OBS_STATUS", "Observation status", _status_codes())
    lists[status.ref] = status
    suffixes: set[str] = set()
    structures = tuple(_structure(plan_id, df, kpis, lists, suffixes) for df, kpis in fed.items())
    concepts = {c.id for s in structures for c in (*s.dimensions, *s.attributes)}
    names = {**{c: c for c in sorted(concepts)}, **_dimension_names(fed), **CONCEPT_NAMES}
    return StructureSet(
        plan_id=plan_id,
        structures=structures,
        codelists=tuple(lists.values()) if structures else (),
        concepts=ArtefactRef(AGENCY, f"CS_{sdmx_id(plan_id)}", VERSION),
        concept_names=tuple((c, names[c]) for c in ("OBS_VALUE", "TIME_PERIOD", *sorted(concepts))),
        unstructured=tuple(unstructured),
    )


def _status_codes() -> tuple[tuple[str, str], ...]:
    return tuple((code, STATUS_NAMES[status]) for status, code in STATUS_CODES.items())


def _codelist(list_id: str, name: str, codes: tuple[tuple[str, str], ...]) -> SdmxCodelist:
    return SdmxCodelist(ArtefactRef(AGENCY, list_id, VERSION), name, codes)


def _dimension_names(fed: dict[ArtefactRef, list[Node]]) -> dict[str, str]:
    return {
        column_id(d.name): d.name for kpis in fed.values() for kpi in kpis for d in kpi.dimensions
    }


def _columns(kpi: Node) -> dict[str, Dimension]:
    """SDMX dimension id → the KPI's dimension, as the series export writes its columns."""
    by_name = {d.name: d for d in kpi.dimensions}
    columns = sdmx_columns(kpi)
    area = dimension_names(kpi).get("REF_AREA")  # as sdmx_columns places it
    seen: set[str] = set()
    for dimension in kpi.dimensions:
        column = "REF_AREA" if dimension.name == area else column_id(dimension.name)
        if column in seen or column in NOT_DIMENSIONS:
            raise StructureConflict(kpi.id, dimension.name, column)
        seen.add(column)
    return {column: by_name[name] for column, name in columns.items()}


def _suffix(plan_id: str, dataflow: ArtefactRef, taken: set[str]) -> str:
    """What the DSD's and code lists' ids carry for this dataflow: its agency, id and version
    (two versions of one dataflow are two structures), unique within the plan's message."""
    owner = "" if dataflow.agency == AGENCY else f"{sdmx_id(dataflow.agency)}_"
    suffix = f"{sdmx_id(plan_id)}_{owner}{dataflow.id}_{sdmx_id(dataflow.version)}"
    # Underscores join the parts, so `A_B:C` and `A:B_C` would read alike: number the second.
    found, n = suffix, 1
    while found in taken:
        n += 1
        found = f"{suffix}_{n}"
    taken.add(found)
    return found


def _structure(
    plan_id: str,
    dataflow: ArtefactRef,
    kpis: list[Node],
    lists: dict[ArtefactRef, SdmxCodelist],
    suffixes: set[str],
) -> DataStructure:
    suffix = _suffix(plan_id, dataflow, suffixes)
    # One code per indicator: the first KPI it feeds names it, as ingestion picks that KPI.
    named: dict[str, str] = {}
    for kpi in kpis:
        if (feed := feed_of(kpi)) is not None:
            named.setdefault(feed.indicator, kpi.title)
    indicators = tuple(sorted(named.items()))
    indicator = _codelist(f"CL_{suffix}_INDICATOR", "Indicators", indicators)
    lists[indicator.ref] = indicator
    by_column: dict[str, list[Dimension]] = {}
    for kpi in kpis:
        for column, dimension in _columns(kpi).items():
            by_column.setdefault(column, []).append(dimension)
    dimensions = [Component("INDICATOR", indicator.ref)]
    for column, declared in by_column.items():
        enumeration = _enumeration(f"CL_{suffix}_{column}", column, declared)
        if enumeration is not None:
            lists.setdefault(enumeration.ref, enumeration)
        dimensions.append(Component(column, enumeration.ref if enumeration else None))
    status = ArtefactRef(AGENCY, "CL_OBS_STATUS", VERSION)
    return DataStructure(
        ref=ArtefactRef(AGENCY, f"DSD_{suffix}", VERSION),
        dataflow=dataflow,
        name=f"{dataflow} as plan {plan_id} maps it ({', '.join(k.id for k in kpis)})",
        dimensions=tuple(dimensions),
        attributes=(
            Component("OBS_STATUS", status),
            Component("UNIT_MEASURE"),
            Component("UNIT_MULT"),
        ),
    )


def _enumeration(list_id: str, column: str, declared: list[Dimension]) -> SdmxCodelist | None:
    """The codelist a dimension draws from; None (free text) when a KPI leaves it free or a
    value is no SDMX code id. A KPI without the dimension writes `_T`, which every list holds."""
    if any(not d.values and d.code_list is None for d in declared):
        return None
    if any(sdmx_id(value) != value for d in declared for value in d.values):
        return None
    whole = {d.code_list for d in declared}
    if len(whole) == 1 and all(not d.values for d in declared):
        found = code_list(str(next(iter(whole))))
        if found is not None:
            codes = tuple((c.id, c.name) for c in found.codes)
            return _codelist(f"CL_{sdmx_id(found.id)}", found.name, (*codes, TOTAL))
    named: dict[str, str] = {}
    for dimension in declared:
        found = code_list(dimension.code_list) if dimension.code_list else None
        values = dimension.values or (tuple(c.id for c in found.codes) if found else ())
        for value in values:
            code = found.code(value) if found else None
            named.setdefault(value, code.name if code else value)
    named.setdefault(*TOTAL)
    return _codelist(list_id, CONCEPT_NAMES.get(column, declared[0].name), tuple(named.items()))
