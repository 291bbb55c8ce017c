"""SDMX-CSV 2.0 data messages as a statistics office sends them: one builder for the end-to-end
tests (observations within the plan's period) and the ingestion benchmark (bench/sdmx.py)."""

from __future__ import annotations

from collections.abc import Iterable

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


def sdmx_csv(dataflow: str, rows: Iterable[Observation], action: str = "I") -> bytes:
    """A message of `dataflow`'s observations, each with OBS_STATUS A (normal value)."""
    lines = [HEADER]
    for indicator, country, sex, urbanisation, period, value in rows:
        lines.append(
            f"dataflow,{dataflow},{action},{indicator},{country},{sex},{urbanisation},"
            f"{period},{value},A"
        )
    return ("\r\n".join(lines) + "\r\n").encode()
