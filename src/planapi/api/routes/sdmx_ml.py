"""A plan's SDMX structures as an SDMX-ML 2.1 structure message: the dataflows, their data
structure definitions, the codelists their dimensions draw from and the concepts they name.

Written with the standard library's ElementTree in the order the 2.1 schema requires
(Dataflows, Codelists, Concepts, DataStructures); references are `Ref` elements without a
namespace, as in the schema."""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree as ET

from planapi.application.translation_xliff import xml_text
from planapi.domain.sdmx_structure import (
    AGENCY,
    ArtefactRef,
    Component,
    DataStructure,
    StructureSet,
)

MES = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
STR = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"
COM = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Attributes that are not enumerated: their text format.
TEXT_FORMATS = {"UNIT_MEASURE": "String", "UNIT_MULT": "Integer"}

ET.register_namespace("mes", MES)
ET.register_namespace("str", STR)
ET.register_namespace("com", COM)


def _el(parent: ET.Element, ns: str, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    child.text = text
    return child


def _maintainable(parent: ET.Element, tag: str, ref: ArtefactRef, name: str) -> ET.Element:
    found = _el(parent, STR, tag, id=ref.id, agencyID=ref.agency, version=ref.version)
    _el(found, COM, "Name", name).set(XML_LANG, "en")
    return found


def _ref(parent: ET.Element, ref: ArtefactRef, package: str, cls: str) -> None:
    attrs = {"id": ref.id, "agencyID": ref.agency, "version": ref.version}
    ET.SubElement(parent, "Ref", {**attrs, "package": package, "class": cls})


def structure_xml(found: StructureSet, prepared: dt.datetime) -> bytes:
    root = ET.Element(f"{{{MES}}}Structure")
    header = _el(root, MES, "Header")
    _el(header, MES, "ID", f"STRUCTURE_{found.concepts.id[3:]}")
    _el(header, MES, "Test", "false")
    _el(header, MES, "Prepared", prepared.astimezone(dt.UTC).isoformat(timespec="seconds"))
    _el(header, MES, "Sender", id=AGENCY)
    structures = _el(root, MES, "Structures")
    flows = _el(structures, STR, "Dataflows")
    for dsd in found.structures:
        flow = _maintainable(flows, "Dataflow", dsd.dataflow, dsd.name)
        _ref(_el(flow, STR, "Structure"), dsd.ref, "datastructure", "DataStructure")
    lists = _el(structures, STR, "Codelists")
    for codelist in found.codelists:
        listed = _maintainable(lists, "Codelist", codelist.ref, codelist.name)
        for code_id, name in codelist.codes:
            _el(_el(listed, STR, "Code", id=code_id), COM, "Name", name).set(XML_LANG, "en")
    schemes = _el(structures, STR, "Concepts")
    scheme = _maintainable(schemes, "ConceptScheme", found.concepts, f"Concepts of {found.plan_id}")
    for concept_id, name in found.concept_names:
        _el(_el(scheme, STR, "Concept", id=concept_id), COM, "Name", name).set(XML_LANG, "en")
    dsds = _el(structures, STR, "DataStructures")
    for dsd in found.structures:
        _data_structure(dsds, dsd, found.concepts)
    _readable(root)
    written: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return written


def _readable(root: ET.Element) -> None:
    """Every text and attribute without the characters XML 1.0 cannot hold (a title may hold
    a vertical tab): ElementTree writes them as they are, and the message would not parse."""
    for element in root.iter():
        element.text = xml_text(element.text) if element.text else element.text
        element.tail = xml_text(element.tail) if element.tail else element.tail
        for name, value in element.attrib.items():
            element.set(name, xml_text(value))


def _concept(parent: ET.Element, concepts: ArtefactRef, concept_id: str) -> None:
    identity = _el(parent, STR, "ConceptIdentity")
    attrs = {
        "id": concept_id,
        "maintainableParentID": concepts.id,
        "maintainableParentVersion": concepts.version,
        "agencyID": concepts.agency,
        "package": "conceptscheme",
        "class": "Concept",
    }
    ET.SubElement(identity, "Ref", attrs)


def _representation(parent: ET.Element, component: Component) -> None:
    local = _el(parent, STR, "LocalRepresentation")
    if component.codelist is not None:
        _ref(_el(local, STR, "Enumeration"), component.codelist, "codelist", "Codelist")
    else:
        _el(local, STR, "TextFormat", textType=TEXT_FORMATS.get(component.id, "String"))


def _data_structure(parent: ET.Element, dsd: DataStructure, concepts: ArtefactRef) -> None:
    found = _maintainable(parent, "DataStructure", dsd.ref, dsd.name)
    components = _el(found, STR, "DataStructureComponents")
    dimensions = _el(components, STR, "DimensionList", id="DimensionDescriptor")
    for position, component in enumerate(dsd.dimensions, start=1):
        dimension = _el(dimensions, STR, "Dimension", id=component.id, position=str(position))
        _concept(dimension, concepts, component.id)
        _representation(dimension, component)
    time = _el(
        dimensions,
        STR,
        "TimeDimension",
        id="TIME_PERIOD",
        position=str(len(dsd.dimensions) + 1),
    )
    _concept(time, concepts, "TIME_PERIOD")
    local = _el(time, STR, "LocalRepresentation")
    _el(local, STR, "TextFormat", textType="ObservationalTimePeriod")
    attributes = _el(components, STR, "AttributeList", id="AttributeDescriptor")
    for component in dsd.attributes:
        attribute = _el(
            attributes, STR, "Attribute", id=component.id, assignmentStatus="Conditional"
        )
        _concept(attribute, concepts, component.id)
        _representation(attribute, component)
        measure = _el(_el(attribute, STR, "AttributeRelationship"), STR, "PrimaryMeasure")
        ET.SubElement(measure, "Ref", {"id": "OBS_VALUE"})
    measures = _el(components, STR, "MeasureList", id="MeasureDescriptor")
    _concept(_el(measures, STR, "PrimaryMeasure", id="OBS_VALUE"), concepts, "OBS_VALUE")
