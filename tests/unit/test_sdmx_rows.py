"""SDMX-CSV rows read by position, each series mapped once (`RowMapper`, `fields_of`), answer
exactly as the straightforward way: the csv module's fields, the row as {column: value}, and
`row_reading` — the same reading or the same problem, row after row of one message."""

from __future__ import annotations

import csv

from hypothesis import given
from hypothesis import strategies as st

from planapi.api.routes.sdmx import fields_of, row_reading
from planapi.domain.code_lists import ISO_3166
from planapi.domain.nodes import Dimension, Node, NodeKind
from planapi.domain.readings import NewReading
from planapi.domain.sdmx import INDICATOR_COLUMNS, Feed, SdmxRowError
from planapi.domain.sdmx_rows import RowMapper

_COUNTRY = Dimension("country", code_list=ISO_3166)
FEEDS = {
    "IND_A": Feed(
        Node("kpi-a", NodeKind.KPI, "A", dimensions=(_COUNTRY, Dimension("sex"))), "IND_A", None
    ),
    "IND_B": Feed(
        Node("kpi-b", NodeKind.KPI, "B", dimensions=(Dimension("age group"),)),
        "IND_B",
        "X:DF(1.0)",
    ),
}
# Every column a message may carry, values good and bad for each (and any text at all).
VALUES = {
    "STRUCTURE": st.sampled_from(["dataflow", ""]),
    "STRUCTURE_ID": st.sampled_from(["X:DF(1.0)", "Y:DF(1.0)", ""]),
    "DATAFLOW": st.sampled_from(["X:DF(1.0)", "Y:DF(1.0)", ""]),
    "ACTION": st.sampled_from(["", "I", "A", "R", "r ", " a", "D", "d", "Z", "II"]),
    "INDICATOR": st.sampled_from(["IND_A", "IND_B", "IND_C", "", " IND_A"]),
    "SERIES": st.sampled_from(["IND_A", "IND_B", "IND_Z"]),
    "REF_AREA": st.sampled_from(["KEN", "FRA", "_T", "", " _Z", "XXX"]),
    "SEX": st.sampled_from(["F", "M", "_T", " F", ""]),
    "AGE_GROUP": st.sampled_from(["Y15T24", "_T", ""]),
    "TIME_PERIOD": st.sampled_from(
        ["2027", "2027-M03", "2027-03", "2027-Q2", "2027-S1", "2027-W14", " 2028-A1 ", "bad", ""]
    ),
    "OBS_VALUE": st.sampled_from(["1.5", " 3 ", "", "NaN", "abc", "1e3", "-0.25"]),
    "OBS_STATUS": st.sampled_from(["", "A", "P", "E", "F", " E ", "X"]),
    "UNIT_MULT": st.sampled_from(["", "3", " -2", "40", "x"]),
    "OBS_COMMENT": st.text(max_size=5),
}


@st.composite
def messages(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header (required columns, others in any order, some twice) and rows of it."""
    optional = [c for c in VALUES if c not in ("TIME_PERIOD", "OBS_VALUE")]
    header = ["TIME_PERIOD", "OBS_VALUE", draw(st.sampled_from(INDICATOR_COLUMNS))]
    header += draw(st.lists(st.sampled_from(optional), max_size=6))
    header = draw(st.permutations(header))
    rows = draw(
        st.lists(st.tuples(*[VALUES[c] for c in header]).map(list), min_size=1, max_size=10)
    )
    return header, rows


def _straightforward(header: list[str], fields: list[str]) -> NewReading | str:
    column = next(c for c in INDICATOR_COLUMNS if c in header)
    try:
        return row_reading(dict(zip(header, fields, strict=True)), column, FEEDS, {})
    except SdmxRowError as error:
        return str(error)


def _mapped(mapper: RowMapper, fields: list[str]) -> NewReading | str:
    try:
        return mapper.reading(fields)
    except SdmxRowError as error:
        return str(error)


@given(messages())
def test_rows_by_position_become_the_readings_or_problems_of_rows_by_column(
    message: tuple[list[str], list[list[str]]],
) -> None:
    header, rows = message
    column = next(c for c in INDICATOR_COLUMNS if c in header)
    mapper = RowMapper(header, column, FEEDS)  # one per message: its caches are exercised
    for fields in [*rows, *rows]:
        assert _mapped(mapper, fields) == _straightforward(header, fields)


def test_a_row_maps_onto_the_kpi_its_indicator_feeds() -> None:
    header = ["STRUCTURE_ID", "INDICATOR", "REF_AREA", "SEX", "TIME_PERIOD", "OBS_VALUE"]
    mapper = RowMapper(header, "INDICATOR", FEEDS)
    reading = mapper.reading(["X:DF(1.0)", "IND_A", "KEN", "_T", "2027-M03", "12.5"])
    assert (reading.kpi_id, reading.period, str(reading.value)) == ("kpi-a", "2027-03", "12.5")
    assert reading.disaggregation == (("country", "KEN"),)
    assert reading.source is not None
    assert reading.source.reading_id == "IND_A:country=KEN:2027-03"


@given(st.text(alphabet=st.sampled_from('ab ,"\r\n\t\x00;é'), max_size=40))
def test_fields_are_what_the_csv_module_reads(text: str) -> None:
    try:
        expected: list[str] | str = next(csv.reader([text]), [])
    except csv.Error as error:
        expected = str(error)
    try:
        found: list[str] | str = fields_of(text)
    except SdmxRowError as error:  # the csv module's refusal, as the row's problem
        found = str(error).removeprefix("is not a CSV record: ")
    assert found == expected
