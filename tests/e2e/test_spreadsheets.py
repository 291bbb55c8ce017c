"""Plans and readings as spreadsheets, for delegates and auditors who circulate them: the
operational plan as XLSX (a sheet per year of activities with budget lines, a sheet of KPIs),
the action plan's KPI framework and a KPI's readings as XLSX and CSV, on both backends."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from openpyxl import load_workbook

from planapi.api.routes.spreadsheets import xlsx
from planapi.application.spreadsheets import Sheet
from tests.e2e.conftest import GraphQL
from tests.e2e.queries import CREATE, add
from tests.e2e.test_readings_http import RECORD, numeric
from tests.operational_fixtures import PLAN_ID, activity, operational_input
from tests.readings_fixtures import PLAN_ID as KPI_PLAN
from tests.readings_fixtures import create_plan_input

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheets(body: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(body), read_only=True)
    return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}


async def test_the_operational_plan_as_xlsx_has_a_sheet_per_year_and_one_of_kpis(
    client: httpx.AsyncClient, graphql: GraphQL, baku: str
) -> None:
    kpi = add("KPI", "Toolkits used", id="kpi-toolkits", parentId="act-toolkit", unit="toolkits")
    body = await graphql(CREATE, input=operational_input(activity("act-toolkit", "A1"), kpi))
    assert body["data"]["createPlan"]["__typename"] == "PlanCreated", body

    response = await client.get(f"/plans/{PLAN_ID}/document", params={"format": "xlsx"})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert f"{PLAN_ID}-v1.xlsx" in response.headers["content-disposition"]
    sheets = _sheets(response.content)
    assert list(sheets) == ["2027", "2028", "2029", "2030", "KPIs"]
    header, line = sheets["2027"]
    assert header[0] == "Activity id"
    assert header[-2:] == ("Funding source", "Amount (CHF)")
    assert line[0] == "act-toolkit"
    assert line[-2:] == ("REGULAR_BUDGET", 120000)
    assert sheets["2028"][1][-2:] == ("ICT_DEVELOPMENT_FUND", 45000.5)
    assert sheets["2030"] == [header]  # nothing budgeted: the header alone
    assert sheets["KPIs"][1][:4] == ("kpi-toolkits", None, "Toolkits used", "act-toolkit")


async def test_the_kpi_framework_and_a_kpis_readings_as_csv_and_xlsx(
    client: httpx.AsyncClient, graphql: GraphQL
) -> None:
    created = await graphql(CREATE, input=create_plan_input())
    assert created["data"]["createPlan"]["__typename"] == "PlanCreated", created
    given = {"planId": KPI_PLAN, "readings": [numeric("2026", "70.5"), numeric("2027", "71")]}
    recorded = await graphql(RECORD, input=given)
    assert recorded["data"]["recordReadings"]["__typename"] == "ReadingsRecorded", recorded

    framework = await client.get(f"/plans/{KPI_PLAN}/document", params={"format": "csv"})
    readings_csv = await client.get(f"/plans/{KPI_PLAN}/kpis/kpi-1/readings")
    readings_xlsx = await client.get(
        f"/plans/{KPI_PLAN}/kpis/kpi-1/readings", params={"format": "xlsx"}
    )
    missing = await client.get(f"/plans/{KPI_PLAN}/kpis/nowhere/readings")
    bad = await client.get(f"/plans/{KPI_PLAN}/kpis/kpi-1/readings", params={"format": "pdf"})

    assert framework.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(framework.text)))
    assert rows[0][:3] == ["KPI id", "Code", "Title"]
    assert "kpi-1" in {row[0] for row in rows[1:]}
    table = list(csv.reader(io.StringIO(readings_csv.text)))
    assert [(row[1], row[4]) for row in table[1:]] == [("2026", "70.5"), ("2027", "71")]
    [sheet] = _sheets(readings_xlsx.content).values()
    assert [row[1] for row in sheet[1:]] == ["2026", "2027"]
    assert missing.status_code == 404
    assert bad.status_code == 400


async def test_an_unknown_format_names_the_table_formats(
    client: httpx.AsyncClient, baku: str
) -> None:
    response = await client.get(f"/plans/{baku}/document", params={"format": "ods"})
    assert response.status_code == 400
    assert "xlsx" in response.json()["message"]


def test_a_sheet_longer_than_a_worksheet_continues_on_the_next() -> None:
    sheet = Sheet("2027", ("n",), [(i,) for i in range(5)])

    sheets = _sheets(xlsx([sheet], max_rows=3))

    assert list(sheets) == ["2027", "2027 (2)", "2027 (3)"]
    assert [row for part in sheets.values() for row in part if row != ("n",)] == [
        (i,) for i in range(5)
    ]
    assert all(part[0] == ("n",) for part in sheets.values())
