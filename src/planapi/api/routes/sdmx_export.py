"""GET /plans/{planId}/kpis/{kpiId}/series?format=sdmx-csv: a KPI's current readings as an
SDMX-CSV 2.0 data message of the dataflow that feeds it, so what came in as SDMX goes back out
in the same shape (one row per series and period, dimensions in the KPI's order)."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from planapi.application.readings import ReadingService
from planapi.domain.nodes import Node, NodeKind
from planapi.domain.readings import Reading, ReadingQuery
from planapi.domain.sdmx import STATUS_CODES, feed_of, sdmx_columns
from planapi.domain.sdmx_structure import dataflow_of

MEDIA_TYPE = "application/vnd.sdmx.data+csv; version=2.0.0; charset=utf-8"
Endpoint = Callable[[Request], Awaitable[Response]]


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def series_endpoint(readings: Callable[[], ReadingService]) -> Endpoint:
    async def series(request: Request) -> Response:
        plan_id, kpi_id = request.path_params["plan_id"], request.path_params["kpi_id"]
        if request.query_params.get("format", "sdmx-csv") != "sdmx-csv":
            return _error(400, "bad_format", "format: only sdmx-csv is offered")
        service = readings()
        latest = await service.plans.plan(plan_id)
        kpi = latest.state.nodes.get(kpi_id) if latest else None
        if latest is None or kpi is None or kpi.kind is not NodeKind.KPI:
            return _error(404, "not_found", f"no KPI {kpi_id!r} in plan {plan_id!r}")
        feed = feed_of(kpi)
        if feed is None:
            return _error(
                409, "no_dataflow", f"KPI {kpi_id} declares no SDMX indicator (OTHER 'SDMX:…')"
            )
        found = await service.readings(plan_id, [kpi_id], ReadingQuery())
        dataflow = dataflow_of(plan_id, kpi)
        body = _csv(kpi, feed.indicator, dataflow, [v.reading for v in found[kpi_id]])
        return Response(body, media_type=MEDIA_TYPE)

    return series


def _csv(kpi: Node, indicator: str, dataflow: str, readings: list[Reading]) -> str:
    columns = sdmx_columns(kpi)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["STRUCTURE", "STRUCTURE_ID", "ACTION", "INDICATOR", *columns]
    writer.writerow([*header, "TIME_PERIOD", "OBS_VALUE", "OBS_STATUS"])
    for reading in readings:
        given = dict(reading.disaggregation)
        cells = [given.get(name, "_T") for name in columns.values()]
        value = "" if reading.value is None else str(reading.value)
        status = STATUS_CODES[reading.status]
        writer.writerow(
            ["dataflow", dataflow, "I", indicator, *cells, reading.period, value, status]
        )
    return out.getvalue()
