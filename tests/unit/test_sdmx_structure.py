"""SDMX ids and media types as the structure route and the series export use them."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planapi.api.routes.sdmx_ml import structure_xml
from planapi.api.routes.sdmx_structure import wanted_format
from planapi.domain import field_checks
from planapi.domain.changes import AddNode
from planapi.domain.decide import decide_creation
from planapi.domain.nodes import Dimension, Node, NodeKind, Reference, ReferenceVocabulary
from planapi.domain.plan import PlanState, fold
from planapi.domain.sdmx import column_id, dimension_names
from planapi.domain.sdmx_structure import (
    StructureConflict,
    dataflow_of,
    parse_ref,
    plan_structures,
)
from tests.unit.test_translations import INFO

NCNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@given(st.text(min_size=1, max_size=64))
def test_any_dimension_name_becomes_an_sdmx_id_that_reads_back(name: str) -> None:
    column = column_id(name)
    assert NCNAME.match(column)
    kpi = Node("kpi-x", NodeKind.KPI, "X", dimensions=(Dimension(name),))
    assert dimension_names(kpi)[column] == name


def test_plain_names_keep_their_upper_case_column() -> None:
    assert [column_id(n) for n in ("sex", "age", "itu region", "2nd")] == [
        "SEX",
        "AGE",
        "ITU_REGION",
        "D_2ND",
    ]


def test_the_accept_header_picks_the_format() -> None:
    assert wanted_format(None) == "xml"
    assert wanted_format("*/*") == "xml"
    assert wanted_format("application/vnd.sdmx.structure+json;version=2.0.0") == "json"
    assert wanted_format("application/json, application/xml;q=0.9") == "json"
    assert wanted_format("application/xml;q=0.4, application/json;q=0.8") == "json"
    assert wanted_format("application/vnd.sdmx.structure+xml; version=2.1") == "xml"
    assert wanted_format("application/vnd.sdmx.structure+xml; version=3.0.0") is None
    assert wanted_format("application/json;q=0, text/csv") is None
    assert wanted_format("text/csv") is None


def _kpi(uri: str | None) -> Node:
    ref = Reference(ReferenceVocabulary.OTHER, "SDMX:IT_MOB", uri)
    return Node("kpi.subs", NodeKind.KPI, "Subs", references=(ref,))


def test_a_series_names_its_feed_or_an_own_dataflow_that_is_an_sdmx_reference() -> None:
    assert dataflow_of("baku-2026", _kpi("ITU:DF_ICT(1.0)")) == "ITU:DF_ICT(1.0)"
    own = dataflow_of("baku-2026", _kpi(None))
    assert own == "PLANAPI:DF_baku-2026_kpi_subs(1.0)"
    assert parse_ref(own) is not None
    # Named otherwise, the export keeps the name (it ingests back); no structure describes it.
    assert dataflow_of("baku-2026", _kpi("https://example.org/flow")) == "https://example.org/flow"


def _fed(*kpis: AddNode) -> PlanState:
    """A plan whose outcome holds these KPIs."""
    outline = [AddNode(NodeKind.PRIORITY, "P", "p"), AddNode(NodeKind.OUTCOME, "O", "o", "p")]
    return fold([decide_creation(INFO, "plan", "Plan", 2026, 2029, None, [*outline, *kpis])])


def _sdmx_kpi(
    node_id: str, title: str, indicator: str, uri: str | None = None, **values: object
) -> AddNode:
    ref = Reference(ReferenceVocabulary.OTHER, f"SDMX:{indicator}", uri)
    return AddNode(NodeKind.KPI, title, node_id, "o", values={"references": (ref,), **values})


def test_the_structure_message_is_well_formed_whatever_the_names_hold() -> None:
    # Titles and dimension values accept control characters XML 1.0 cannot hold (a vertical
    # tab pasted from a word processor); the message shows U+FFFD for them and stays XML.
    dimension = Dimension("mode\x0b", values=("a\x0bb",))
    state = _fed(_sdmx_kpi("k1", "Tab\x0bbed \x01", "IT\x0c", None, dimensions=(dimension,)))
    written = structure_xml(plan_structures("plan", state), dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    root = ET.fromstring(written)
    texts = [t for e in root.iter() for t in (e.text or "", *e.attrib.values())]
    assert "Tab\ufffdbed \ufffd" in texts
    assert "IT\ufffd" in texts  # the indicator's code id
    assert "mode\ufffd" in texts  # the dimension's concept


def test_two_versions_of_one_dataflow_are_two_structures_with_their_own_indicators() -> None:
    state = _fed(
        _sdmx_kpi("k1", "Subscriptions", "IT_MOB", "ESTAT:DF_X(1.0)"),
        _sdmx_kpi("k2", "Households", "IT_HH", "ESTAT:DF_X(2.0)"),
    )
    found = plan_structures("plan", state)
    assert [str(s.dataflow) for s in found.structures] == ["ESTAT:DF_X(1.0)", "ESTAT:DF_X(2.0)"]
    assert len({s.ref for s in found.structures}) == 2
    indicators = {s.dimensions[0].codelist for s in found.structures}
    by_ref = {c.ref: c.codes for c in found.codelists}
    assert sorted(by_ref[ref] for ref in indicators if ref is not None) == [
        (("IT_HH", "Households"),),
        (("IT_MOB", "Subscriptions"),),
    ]
    assert len(by_ref) == len(found.codelists)  # no artefact listed twice


@pytest.mark.parametrize(
    "dimensions",
    [
        (Dimension("indicator"),),
        (Dimension("time period"),),
        (Dimension("unit mult"),),
        (Dimension("age group"), Dimension("Age_Group")),
    ],
)
def test_a_kpi_stored_with_a_colliding_dimension_has_no_structure_but_a_typed_refusal(
    monkeypatch: pytest.MonkeyPatch, dimensions: tuple[Dimension, ...]
) -> None:
    # Refused where the KPI is declared now (field_checks); a plan stored before may hold one.
    monkeypatch.setitem(field_checks._FIELD_CHECKS, "dimensions", lambda *_: [])
    state = _fed(_sdmx_kpi("k1", "Subs", "IT_MOB", None, dimensions=dimensions))
    with pytest.raises(StructureConflict) as refused:
        plan_structures("plan", state)
    assert refused.value.kpi_id == "k1"
    assert refused.value.dimension == dimensions[-1].name
    assert "k1" in str(refused.value)
    assert repr(dimensions[-1].name) in str(refused.value)


def test_ref_area_is_a_dimension_only_where_one_is_bound_to_iso_3166_and_at_its_place() -> None:
    country = Dimension("country", (), "ISO_3166_1_ALPHA3")
    state = _fed(
        _sdmx_kpi("k1", "A", "A", "X:DF_A(1.0)", dimensions=(Dimension("sex"), country)),
        _sdmx_kpi("k2", "B", "B", "X:DF_B(1.0)", dimensions=(Dimension("sex"),)),
    )
    found = plan_structures("plan", state)
    assert [[c.id for c in s.dimensions] for s in found.structures] == [
        ["INDICATOR", "SEX", "REF_AREA"],
        ["INDICATOR", "SEX"],
    ]
