"""SDMX-CSV in and out: a statistics office pushes a dataflow's observations to
POST /ingest/readings and reads the series back as SDMX-CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from planapi.domain.sdmx import SdmxRowError, sdmx_period
from tests.sdmx_messages import (
    COUNTRIES,
    DATAFLOW,
    HEADER,
    MEDIA_TYPE,
    sdmx_csv,
    statistics_changes,
)

Amend = Callable[..., Awaitable[dict[str, Any]]]
SDMX_20 = MEDIA_TYPE
SDMX_10 = "application/vnd.sdmx.data+csv; version=1.0.0"


@pytest.fixture
async def plan(amend: Amend, baku: str) -> str:
    applied = await amend(baku, 1, *statistics_changes())
    assert applied["__typename"] == "AmendmentApplied", applied
    return baku


def observations() -> list[tuple[str, str, str, str, str]]:
    """(REF_AREA, SEX, URBANISATION, period, value): 15 countries x 2 x 2 x 48 months of the
    plan's period (readings outside it are refused) = 2,880."""
    months = [f"{year}-{month:02d}" for year in range(2026, 2030) for month in range(1, 13)]
    out = []
    for i, country in enumerate(COUNTRIES[:15]):
        for sex in ("F", "M"):
            for urbanisation in ("U", "R"):
                for n, period in enumerate(months):
                    value = 1000 * i + n + 2 * (sex == "F") + (urbanisation == "U")
                    out.append((country, sex, urbanisation, period, str(value)))
    return out


def message(rows: list[tuple[str, str, str, str, str]], action: str = "I") -> bytes:
    # Both SDMX spellings of a month: 2027-03 and 2027-M03.
    spelled = (
        ("IT_MOB_SUBS", country, sex, urbanisation, _spelled(period), value)
        for country, sex, urbanisation, period, value in rows
    )
    return sdmx_csv(DATAFLOW, spelled, action)


def _spelled(period: str) -> str:
    return period.replace("-", "-M") if int(period[-2:]) % 2 else period


async def ingest(
    client: httpx.AsyncClient, body: bytes, key: str | None = None, kind: str = SDMX_20
) -> httpx.Response:
    headers = {"content-type": kind, **({"idempotency-key": key} if key else {})}
    return await client.post(
        "/ingest/readings", params={"planId": "baku-2026"}, content=body, headers=headers
    )


async def exported(client: httpx.AsyncClient) -> list[dict[str, str]]:
    response = await client.get(
        "/plans/baku-2026/kpis/kpi-subs/series", params={"format": "sdmx-csv"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.sdmx.data+csv")
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_a_dataflow_ingests_replays_and_exports_back_equal(
    client: httpx.AsyncClient, plan: str
) -> None:
    sent = observations()
    assert len(sent) == 2_880
    body = message(sent)

    first = await ingest(client, body, key="ict-2026-06")
    again = await ingest(client, body, key="ict-2026-06")
    resent = await ingest(client, body)  # no key: every observation is a duplicate

    assert first.status_code == 200, first.text
    assert (first.json()["stored"], first.json()["replayed"]) == (2_880, False)
    assert (again.json()["batchId"], again.json()["replayed"]) == (first.json()["batchId"], True)
    assert (resent.json()["stored"], resent.json()["duplicates"]) == (0, 2_880)
    rows = await exported(client)
    assert {row["STRUCTURE_ID"] for row in rows} == {DATAFLOW}
    assert {row["INDICATOR"] for row in rows} == {"IT_MOB_SUBS"}
    back = {
        (r["REF_AREA"], r["SEX"], r["URBANISATION"], r["TIME_PERIOD"], r["OBS_VALUE"]) for r in rows
    }
    assert len(rows) == 2_880
    assert back == set(sent)


async def test_a_bad_ref_area_is_refused_by_its_line_and_nothing_is_stored(
    client: httpx.AsyncClient, plan: str
) -> None:
    rows = [
        ("KEN", "F", "U", "2028", "10"),
        ("XXK", "F", "U", "2028", "11"),
        ("FRA", "M", "R", "2028", "12"),
    ]

    response = await ingest(client, message(rows))

    assert response.status_code == 422
    assert response.json()["problems"] == [
        {
            "line": 3,
            "path": "readings[1].disaggregation.country",
            "message": "'XXK' is not a code of ISO_3166_1_ALPHA3",
        }
    ]
    assert await exported(client) == []


async def test_sdmx_csv_1_0_and_totals_corrections_and_deletions(
    client: httpx.AsyncClient, plan: str
) -> None:
    v1 = (
        "DATAFLOW,INDICATOR,REF_AREA,SEX,URBANISATION,TIME_PERIOD,OBS_VALUE,OBS_STATUS,UNIT_MULT\r\n"
        f"{DATAFLOW},IT_MOB_SUBS,KEN,_T,_T,2028,1.5,P,3\r\n"
    ).encode()
    assert (await ingest(client, v1, kind=SDMX_10)).json()["stored"] == 1
    correction = sdmx_csv(DATAFLOW, [("IT_MOB_SUBS", "KEN", "_T", "_T", "2028", "1600")], "R")
    assert (await ingest(client, correction)).json()["stored"] == 1
    rows = await exported(client)
    assert [(r["REF_AREA"], r["SEX"], r["OBS_VALUE"], r["OBS_STATUS"]) for r in rows] == [
        ("KEN", "_T", "1600", "A")
    ]

    deletion = f"{HEADER}\r\ndataflow,{DATAFLOW},D,IT_MOB_SUBS,KEN,_T,_T,2028,,\r\n".encode()
    unknown = f"{HEADER}\r\ndataflow,{DATAFLOW},I,IT_MOB_SUBS,KEN,_T,_T,2028,1,Z\r\n".encode()
    other_flow = sdmx_csv("UNSD:DF_SDG(1.0)", [("IT_MOB_SUBS", "KEN", "_T", "_T", "2028", "1")])
    refused = [await ingest(client, body) for body in (deletion, unknown, other_flow)]
    assert [r.status_code for r in refused] == [422, 422, 422]
    messages = [r.json()["problems"][0]["message"] for r in refused]
    assert "ACTION D" in messages[0]
    assert "R" in messages[0]
    assert "OBS_STATUS 'Z'" in messages[1]
    assert DATAFLOW in messages[2]


@pytest.mark.parametrize(
    ("given", "period"),
    [
        ("2027", "2027"),
        ("2027-A1", "2027"),
        ("2027-03", "2027-03"),
        ("2027-M03", "2027-03"),
        ("2027-Q1", "2027-Q1"),
        ("2027-S2", "2027-S2"),
        ("2027-W14", "2027-W14"),
    ],
)
def test_every_sdmx_spelling_of_a_period_is_read(given: str, period: str) -> None:
    assert sdmx_period(given) == period


@pytest.mark.parametrize("given", ["27", "2027-13-01", "2027-D001", "", "2027-A2"])
def test_periods_sdmx_cannot_mean_here_are_refused(given: str) -> None:
    with pytest.raises(SdmxRowError, match="TIME_PERIOD"):
        sdmx_period(given)


def json_message(action: str = "Information") -> dict[str, Any]:
    """An SDMX-JSON 2.0 data message: two series (KEN and FRA women in towns), three years."""
    return {
        "meta": {"schema": "https://json.sdmx.org/2.0.0/sdmx-json-data-schema.json"},
        "data": {
            "structures": [
                {
                    "links": [
                        {"urn": f"urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow={DATAFLOW}"}
                    ],
                    "dimensions": {
                        "series": [
                            {"id": "INDICATOR", "values": [{"id": "IT_MOB_SUBS"}]},
                            {"id": "REF_AREA", "values": [{"id": "KEN"}, {"id": "FRA"}]},
                            {"id": "SEX", "values": [{"id": "F"}]},
                            {"id": "URBANISATION", "values": [{"id": "U"}]},
                        ],
                        "observation": [
                            {
                                "id": "TIME_PERIOD",
                                "values": [
                                    {"value": "2028"},
                                    {"value": "2026-A1"},
                                    {"value": "2027"},
                                ],
                            }
                        ],
                    },
                    "measures": {"observation": [{"id": "OBS_VALUE"}]},
                    "attributes": {
                        "observation": [{"id": "OBS_STATUS", "values": [{"id": "A"}, {"id": "P"}]}]
                    },
                }
            ],
            "dataSets": [
                {
                    "action": action,
                    "structure": 0,
                    "series": {
                        "0:0:0:0": {"observations": {"0": [10, 0], "1": [11, 0], "2": [12, 1]}},
                        "0:1:0:0": {"observations": {"0": [20, 0], "1": [21.5, 0]}},
                    },
                }
            ],
        },
    }


SDMX_JSON = "application/vnd.sdmx.data+json; version=2.0.0"


async def test_sdmx_json_data_messages_ingest_and_export_as_csv(
    client: httpx.AsyncClient, plan: str
) -> None:
    body = json.dumps(json_message()).encode()

    response = await ingest(client, body, key="json-1", kind=SDMX_JSON)

    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 5
    rows = await exported(client)
    assert sorted(
        (r["REF_AREA"], r["TIME_PERIOD"], r["OBS_VALUE"], r["OBS_STATUS"]) for r in rows
    ) == [
        ("FRA", "2026", "21.5", "A"),
        ("FRA", "2028", "20", "A"),
        ("KEN", "2026", "11", "A"),
        ("KEN", "2027", "12", "P"),
        ("KEN", "2028", "10", "A"),
    ]
    deleted = await ingest(client, json.dumps(json_message("Delete")).encode(), kind=SDMX_JSON)
    assert deleted.status_code == 422
    assert "ACTION D" in deleted.json()["problems"][0]["message"]
    garbage = await ingest(client, b'{"data": 3}', kind=SDMX_JSON)
    assert garbage.status_code == 422
    assert "SDMX-JSON" in garbage.json()["problems"][0]["message"]


async def test_a_line_break_outside_quotes_is_refused_by_its_line(
    client: httpx.AsyncClient, plan: str
) -> None:
    rows = [("KEN", "F", "U", "2028", "10"), ("FRA", "M", "R", "2028", "12")]
    body = message(rows).replace(b"FRA", b"FR\rA")

    response = await ingest(client, body)

    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["line"] == 3
    assert "new-line character seen in unquoted field" in problem["message"]
    assert await exported(client) == []
