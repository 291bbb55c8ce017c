"""SDMX ids and media types as the structure route and the series export use them."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from planapi.api.routes.sdmx_structure import wanted_format
from planapi.domain.nodes import Dimension, Node, NodeKind, Reference, ReferenceVocabulary
from planapi.domain.sdmx import column_id, dimension_names
from planapi.domain.sdmx_structure import dataflow_of, parse_ref

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
