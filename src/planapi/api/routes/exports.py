"""GET /plans/{id}/kpis/{kpiId}/readings?format=csv|xlsx: a KPI's readings as a table, for the
delegates and auditors who circulate spreadsheets. `asOf` reads what was known then;
superseded readings are listed too, each with the reading that superseded it."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from planapi.api.routes.documents import BadQuery, Endpoint, _error, _instant, attachment
from planapi.api.routes.spreadsheets import CSV, XLSX, csv_text, xlsx
from planapi.application.readings import ReadingService
from planapi.application.spreadsheets import readings_sheet
from planapi.domain.errors import PlanApiError
from planapi.domain.nodes import NodeKind
from planapi.domain.readings import ReadingQuery


def readings_endpoint(readings: Callable[[], ReadingService]) -> Endpoint:
    async def export(request: Request) -> Response:
        plan_id, kpi_id = request.path_params["plan_id"], request.path_params["kpi_id"]
        fmt = request.query_params.get("format", "csv")
        if fmt not in ("csv", "xlsx"):
            return _error(400, "bad_request", f"format: {fmt!r}; use csv or xlsx")
        try:
            query = ReadingQuery(as_of=_instant(request), include_superseded=True)
            service = readings()
            found = await service.plans.plan(plan_id)
            kpi = found.state.node(kpi_id) if found else None
            if kpi is None or kpi.kind is not NodeKind.KPI:
                return _error(404, "not_found", f"plan {plan_id!r} has no KPI {kpi_id!r}")
            listed = (await service.readings(plan_id, [kpi_id], query))[kpi_id]
        except (BadQuery, PlanApiError) as error:
            return _error(400, "bad_request", str(error))
        sheet = readings_sheet(kpi, listed)
        name = f"{plan_id}-{kpi_id}-readings.{fmt}"
        if fmt == "xlsx":
            return Response(xlsx([sheet]), media_type=XLSX, headers=attachment(name))
        return Response(csv_text(sheet), media_type=CSV, headers=attachment(name))

    return export
