"""SDMX-CSV 2.0 data messages as a statistics office sends them: one builder for the end-to-end
tests (observations within the plan's period) and the ingestion benchmark (bench/sdmx.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MEDIA_TYPE = "application/vnd.sdmx.data+csv; version=2.0.0"
HEADER = (
    "STRUCTURE,STRUCTURE_ID,ACTION,INDICATOR,REF_AREA,SEX,URBANISATION,"
    "TIME_PERIOD,OBS_VALUE,OBS_STATUS"
)
# ISO 3166-1 alpha-3 codes, for REF_AREA: the code list the KPIs' country dimension names.
COUNTRIES = [
    "KEN",
    "NGA",
    "GHA",
    "FRA",
    "DEU",
    "BRA",
    "IND",
    "CHN",
    "EGY",
    "RUS",
    "ZAF",
    "ARG",
    "JPN",
    "AUS",
    "CAN",
    "MEX",
    "IDN",
    "TUR",
    "ITA",
    "ESP",
]
# (INDICATOR, REF_AREA, SEX, URBANISATION, TIME_PERIOD, OBS_VALUE)
Observation = tuple[str, str, str, str, str, str]


def sdmx_csv(
    dataflow: str, rows: Iterable[Observation], action: str = "I", status: str = "A"
) -> bytes:
    """A message of `dataflow`'s observations, each with OBS_STATUS `status` (A: normal value)."""
    lines = [HEADER]
    for indicator, country, sex, urbanisation, period, value in rows:
        lines.append(
            f"dataflow,{dataflow},{action},{indicator},{country},{sex},{urbanisation},"
            f"{period},{value},{status}"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


DATAFLOW = "ITU:DF_ICT(1.0)"


def statistics_changes() -> list[dict[str, Any]]:
    """An outcome with the KPI the messages above feed (`IT_MOB_SUBS` of DATAFLOW: country,
    sex and urbanisation), as `amendPlan` changes to the seeded Baku plan."""
    from tests.e2e.queries import add

    return [
        add(
            "OUTCOME", "Statistics", id="outcome-stats", parentId="priority-affordable-connectivity"
        ),
        add(
            "KPI",
            "Mobile subscriptions",
            id="kpi-subs",
            parentId="outcome-stats",
            measure="UNIT",
            unit="subscriptions",
            dimensions=[
                {"name": "country", "codeList": "ISO_3166_1_ALPHA3"},
                {"name": "sex", "values": ["F", "M"]},
                {"name": "urbanisation", "values": ["U", "R"]},
            ],
            references=[{"vocabulary": "OTHER", "code": "SDMX:IT_MOB_SUBS", "uri": DATAFLOW}],
        ),
    ]
