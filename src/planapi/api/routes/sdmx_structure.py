"""GET /plans/{planId}/sdmx/structure: the SDMX structures of the plan's dataflows (those its
KPIs are fed by, and that /plans/{planId}/kpis/{kpiId}/series names), as SDMX-ML 2.1 or
SDMX-JSON 2.0 by the Accept header; `version` reads the plan as of that version.

The structures are built in `domain.sdmx_structure`; this module chooses the format and writes
the JSON one (the XML one is `sdmx_ml`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from planapi.api.routes.documents import BadQuery, _int
from planapi.api.routes.sdmx_ml import TEXT_FORMATS, structure_xml
from planapi.application.plans import PlanService
from planapi.domain.errors import ValidationError
from planapi.domain.sdmx_structure import (
    ArtefactRef,
    Component,
    DataStructure,
    StructureConflict,
    StructureSet,
    plan_structures,
)

XML_TYPE = "application/vnd.sdmx.structure+xml; version=2.1"
JSON_TYPE = "application/vnd.sdmx.structure+json; version=2.0.0"
JSON_SCHEMA = (
    "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/v2.0.0/structure-message/tools/"
    "schemas/2.0.0/sdmx-json-structure-schema.json"
)
# Media type (without parameters) → (format, the versions it may ask for; empty: any).
OFFERED = {
    "application/vnd.sdmx.structure+xml": ("xml", {"2.1"}),
    "application/vnd.sdmx.structure+json": ("json", {"2.0", "2.0.0"}),
    "application/xml": ("xml", set()),
    "text/xml": ("xml", set()),
    "application/json": ("json", set()),
    "application/*": ("xml", set()),
    "*/*": ("xml", set()),
}
Endpoint = Callable[[Request], Awaitable[Response]]


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def wanted_format(accept: str | None) -> str | None:
    """xml or json, whichever the Accept header ranks first (none: xml); None if neither."""
    ranked: list[tuple[float, int, str]] = []
    for order, item in enumerate((accept or "*/*").split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        values = dict(p.split("=", 1) for p in params if "=" in p)
        offer = OFFERED.get(media.lower())
        if offer is None or (
            offer[1] and values.get("version", "").strip('"') not in offer[1] | {""}
        ):
            continue
        try:
            weight = float(values.get("q", "1"))
        except ValueError:
            continue
        if weight > 0:
            ranked.append((-weight, order, offer[0]))
    return min(ranked)[2] if ranked else None


def structure_endpoint(plans: Callable[[], PlanService]) -> Endpoint:
    async def structure(request: Request) -> Response:
        plan_id = request.path_params["plan_id"]
        chosen = wanted_format(request.headers.get("accept"))
        if chosen is None:
            return _error(406, "not_acceptable", f"Accept one of {XML_TYPE} or {JSON_TYPE}")
        try:
            found = await plans().plan(plan_id, _int(request, "version"))
        except (BadQuery, ValidationError) as error:
            return _error(400, "bad_input", str(error))
        if found is None:
            return _error(404, "not_found", f"no plan {plan_id!r} (at that version)")
        try:
            structures = plan_structures(plan_id, found.state)
        except StructureConflict as error:  # stored before such names were refused
            return _error(409, "structure_conflict", str(error))
        if not structures.structures:
            return _error(409, "no_dataflow", _why_none(plan_id, structures))
        prepared = found.amendment.recorded_at
        headers = {"vary": "accept"}
        if chosen == "json":
            body = structure_json(structures, prepared.isoformat())
            return Response(body, media_type=JSON_TYPE, headers=headers)
        return Response(structure_xml(structures, prepared), media_type=XML_TYPE, headers=headers)

    return structure


def _why_none(plan_id: str, found: StructureSet) -> str:
    if not found.unstructured:
        return f"no KPI of {plan_id} declares an SDMX indicator (OTHER 'SDMX:…')"
    named = "; ".join(
        f"KPI {kpi}'s SDMX reference names {flow!r}" for kpi, flow in found.unstructured
    )
    why = f"no dataflow of {plan_id} is named AGENCY:ID(VERSION) (the reference's uri)"
    return f"{why}, so none has a structure: {named}"


def urn(kind: str, ref: ArtefactRef, item: str | None = None) -> str:
    packages = {
        "Codelist": "codelist",
        "Concept": "conceptscheme",
        "DataStructure": "datastructure",
        "Dataflow": "datastructure",
    }
    tail = f".{item}" if item else ""
    return f"urn:sdmx:org.sdmx.infomodel.{packages[kind]}.{kind}={ref}{tail}"


def _artefact(ref: ArtefactRef, name: str) -> dict[str, Any]:
    return {
        "id": ref.id,
        "agencyID": ref.agency,
        "version": ref.version,
        "isExternalReference": False,
        "name": name,
        "names": {"en": name},
    }


def structure_json(found: StructureSet, prepared: str) -> bytes:
    data = {
        "dataflows": [
            {**_artefact(d.dataflow, d.name), "structure": urn("DataStructure", d.ref)}
            for d in found.structures
        ],
        "codelists": [
            {
                **_artefact(c.ref, c.name),
                "isPartial": False,
                "codes": [{"id": i, "name": n, "names": {"en": n}} for i, n in c.codes],
            }
            for c in found.codelists
        ],
        "conceptSchemes": [
            {
                **_artefact(found.concepts, f"Concepts of {found.plan_id}"),
                "concepts": [
                    {"id": i, "name": n, "names": {"en": n}} for i, n in found.concept_names
                ],
            }
        ],
        "dataStructures": [_dsd_json(d, found.concepts) for d in found.structures],
    }
    meta = {
        "schema": JSON_SCHEMA,
        "id": f"STRUCTURE_{found.concepts.id[3:]}",
        "test": False,
        "prepared": prepared,
        "contentLanguages": ["en"],
        "sender": {"id": "PLANAPI"},
    }
    return orjson.dumps({"meta": meta, "data": data})


def _component(component: Component, concepts: ArtefactRef) -> dict[str, Any]:
    if component.codelist is not None:
        representation: dict[str, Any] = {"enumeration": urn("Codelist", component.codelist)}
    else:
        representation = {"format": {"dataType": TEXT_FORMATS.get(component.id, "String")}}
    return {
        "id": component.id,
        "conceptIdentity": urn("Concept", concepts, component.id),
        "localRepresentation": representation,
    }


def _dsd_json(dsd: DataStructure, concepts: ArtefactRef) -> dict[str, Any]:
    dimensions = [
        {**_component(c, concepts), "position": i} for i, c in enumerate(dsd.dimensions, start=1)
    ]
    time = {
        "id": "TIME_PERIOD",
        "position": len(dsd.dimensions) + 1,
        "conceptIdentity": urn("Concept", concepts, "TIME_PERIOD"),
        "localRepresentation": {"format": {"dataType": "ObservationalTimePeriod"}},
    }
    attributes = [
        {
            **_component(c, concepts),
            "usage": "optional",
            "attributeRelationship": {"observation": {}},
            "measureRelationship": ["OBS_VALUE"],
        }
        for c in dsd.attributes
    ]
    measure = {
        "id": "OBS_VALUE",
        "conceptIdentity": urn("Concept", concepts, "OBS_VALUE"),
        "usage": "optional",
    }
    components = {
        "dimensionList": {
            "id": "DimensionDescriptor",
            "dimensions": dimensions,
            "timeDimension": time,
        },
        "attributeList": {"id": "AttributeDescriptor", "attributes": attributes},
        "measureList": {"id": "MeasureDescriptor", "measures": [measure]},
    }
    return {**_artefact(dsd.ref, dsd.name), "dataStructureComponents": components}
