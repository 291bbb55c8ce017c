"""SDMX observations onto KPI readings: which KPI an indicator feeds, and how a row's dimensions,
period, status and unit multiplier become a reading.

A plan declares what feeds a KPI with a reference of vocabulary OTHER whose code is
`SDMX:<indicator>` (the value of the row's INDICATOR or SERIES column) and whose uri, if any,
names the dataflow (`UNSD:DF_SDG_GLH(1.0)`): rows of another dataflow are refused. REF_AREA
fills the KPI's dimension bound to ISO 3166 (or one named REF_AREA); any other dimension column
fills the KPI dimension of the same name, case aside (SEX → sex); `_T`, `_Z` and empty mean the
total and disaggregate nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from planapi.domain.code_lists import ISO_3166
from planapi.domain.nodes import Node, NodeKind, ReferenceVocabulary
from planapi.domain.plan import PlanState
from planapi.domain.readings import NewReading, ReadingSource, ReadingStatus, series_key

PREFIX = "SDMX:"
# Columns that are not dimensions: the message's own, the measure and the attributes.
STRUCTURE_COLUMNS = frozenset({"STRUCTURE", "STRUCTURE_ID", "ACTION", "DATAFLOW"})
INDICATOR_COLUMNS = ("INDICATOR", "SERIES")
NOT_DIMENSIONS = frozenset(
    {
        *STRUCTURE_COLUMNS,
        *INDICATOR_COLUMNS,
        "TIME_PERIOD",
        "OBS_VALUE",
        "OBS_STATUS",
        "UNIT_MEASURE",
        "UNIT_MULT",
        "OBS_COMMENT",
        "COMMENT_OBS",
        "DECIMALS",
        "CONF_STATUS",
        "NATURE",
        "SOURCE_DETAIL",
        "FREQ",
    }
)
TOTALS = frozenset({"", "_T", "_Z"})
# SDMX's OBS_STATUS code list (CL_OBS_STATUS) onto reading statuses; others are refused.
STATUSES = {
    "": ReadingStatus.FINAL,
    "A": ReadingStatus.FINAL,
    "P": ReadingStatus.PROVISIONAL,
    "E": ReadingStatus.ESTIMATED,
    "F": ReadingStatus.FORECAST,
}
STATUS_CODES = {status: code for code, status in STATUSES.items() if code}
APPEND, REPLACE = frozenset({"", "I", "A"}), frozenset({"R"})
_NOT_NCNAME = re.compile(r"[^A-Z0-9_-]", re.ASCII)
_PERIOD = re.compile(r"^(\d{4})(?:-(A1|M(\d{2})|(\d{2})|[QS]\d|W\d{2}))?$", re.ASCII)


class SdmxRowError(ValueError):
    """One row that cannot become a reading; the message names the column."""


@dataclass(frozen=True, slots=True)
class Feed:
    kpi: Node
    indicator: str
    dataflow: str | None


def feeds(state: PlanState) -> dict[str, Feed]:
    """Each SDMX indicator the plan's KPIs declare, to the KPI it feeds."""
    found: dict[str, Feed] = {}
    for node in state.walk():
        if node.kind is not NodeKind.KPI:
            continue
        for ref in node.references:
            if ref.vocabulary is ReferenceVocabulary.OTHER and ref.code.startswith(PREFIX):
                indicator = ref.code[len(PREFIX) :]
                found.setdefault(indicator, Feed(node, indicator, ref.uri))
    return found


def feed_of(kpi: Node) -> Feed | None:
    for ref in kpi.references:
        if ref.vocabulary is ReferenceVocabulary.OTHER and ref.code.startswith(PREFIX):
            return Feed(kpi, ref.code[len(PREFIX) :], ref.uri)
    return None


def sdmx_period(text: str) -> str:
    """The period id of an SDMX TIME_PERIOD: 2027-A1 → 2027, 2027-M03 → 2027-03."""
    match = _PERIOD.fullmatch(text.strip())
    if match is None:
        raise SdmxRowError(f"TIME_PERIOD {text!r} is not a year, semester, quarter, month or week")
    year, rest, month = match.group(1), match.group(2), match.group(3)
    if rest is None or rest == "A1":
        return year
    return f"{year}-{month}" if month else f"{year}-{rest}"


def column_id(name: str) -> str:
    """The SDMX column (and component id) of a KPI dimension: its name in upper case, as an
    SDMX NCName (a letter first, then letters, digits, `_` or `-`): `age group` → AGE_GROUP."""
    text = _NOT_NCNAME.sub("_", name.upper())
    return text if text[:1].isascii() and text[:1].isalpha() else f"D_{text}"


def dimension_names(kpi: Node) -> dict[str, str]:
    """SDMX column → the KPI's dimension it fills (its name upper-cased, or as column_id)."""
    names = {d.name.upper(): d.name for d in kpi.dimensions}
    names |= {column_id(d.name): d.name for d in kpi.dimensions}
    area = next((d.name for d in kpi.dimensions if d.code_list == ISO_3166), None)
    if area is not None:
        names["REF_AREA"] = area
    return names


def sdmx_columns(kpi: Node) -> dict[str, str]:
    """The SDMX dimension columns of a KPI's series, in its order → the dimension each carries."""
    area = dimension_names(kpi).get("REF_AREA")
    return {("REF_AREA" if d.name == area else column_id(d.name)): d.name for d in kpi.dimensions}


def to_reading(row: dict[str, str], feed: Feed, dataflow: str, names: dict[str, str]) -> NewReading:
    """A reading from one row of a dataflow's data (its columns by id)."""
    problem = action_problem(row.get("ACTION", "").strip().upper())
    if problem is None:
        problem = dataflow_problem(feed, dataflow)
    if problem is not None:
        raise SdmxRowError(problem)
    pairs = tuple(
        sorted(
            (names.get(column, column.lower()), value)
            for column, value in row.items()
            if column not in NOT_DIMENSIONS and value.strip() not in TOTALS
        )
    )
    period = sdmx_period(row.get("TIME_PERIOD", ""))
    status = STATUSES.get(row.get("OBS_STATUS", "").strip())
    if status is None:
        raise SdmxRowError(status_problem(row["OBS_STATUS"]))
    key = f"{feed.indicator}:{series_key(pairs)}:{period}"
    return NewReading(
        kpi_id=feed.kpi.id,
        period=period,
        status=status,
        value=obs_value(row.get("OBS_VALUE", ""), row.get("UNIT_MULT")),
        disaggregation=pairs,
        source=ReadingSource(dataflow[:200], key[:200]),
    )


def unfed_problem(column: str, indicator: str) -> str:
    return (
        f"{column} {indicator!r} feeds no KPI of the plan (a KPI declares it with the "
        f"reference OTHER 'SDMX:{indicator}')"
    )


def action_problem(action: str) -> str | None:
    """What is wrong with a row's ACTION (stripped, upper case), if anything."""
    if action == "D":
        return (
            "ACTION D (delete) is refused: readings are never deleted; send the corrected "
            "observation with ACTION R, which supersedes it (both stay in the log)"
        )
    if action not in APPEND | REPLACE:
        return f"ACTION {action!r} is not I, A or R"
    return None


def dataflow_problem(feed: Feed, dataflow: str) -> str | None:
    if feed.dataflow is not None and feed.dataflow != dataflow:
        return f"KPI {feed.kpi.id} is fed by {feed.dataflow}, not {dataflow}"
    return None


def status_problem(status: str) -> str:
    known = ", ".join(code for code in STATUSES if code)
    return f"OBS_STATUS {status!r} is not one of {known}"


def obs_value(text: str, multiplier: str | None) -> Decimal | None:
    """An OBS_VALUE times 10 to its UNIT_MULT (None: the column is absent); empty or NaN: none."""
    number = text.strip()
    if not number or number == "NaN":
        return None
    try:
        value = Decimal(number)
        exponent = int((multiplier or "").strip() or 0)
        if not -30 <= exponent <= 30:  # SDMX's CL_UNIT_MULT spans 0-12 (and negatives)
            raise ValueError(exponent)
        return value * Decimal(10) ** exponent if exponent else value
    except (InvalidOperation, ValueError) as error:
        raise SdmxRowError(f"OBS_VALUE {number!r} (UNIT_MULT {multiplier!r})") from error
