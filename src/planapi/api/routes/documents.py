"""GET /plans/{id}/document and /plans/{id}/diff: a version (or a diff) as a document."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from planapi.api.routes.rendering import FORMATS, render
from planapi.api.routes.spreadsheets import CSV, XLSX, csv_text, xlsx
from planapi.application.document import diff_document, plan_document
from planapi.application.document_languages import in_language
from planapi.application.in_force import read_plan
from planapi.application.plan_views import PlanVersion
from planapi.application.plans import PlanService
from planapi.application.spreadsheets import kpi_sheet, plan_sheets
from planapi.application.translations import localize
from planapi.domain.errors import (
    PlanApiError,
    PlanNotFoundError,
    ValidationError,
    VersionNotFoundError,
)
from planapi.domain.translations import LANGUAGES, language

Endpoint = Callable[[Request], Awaitable[Response]]


class BadQuery(ValueError):
    pass


def _required(request: Request, name: str) -> int:
    found = _int(request, name)
    if found is None:
        raise BadQuery(f"give ?{name}=<version>")
    return found


def _int(request: Request, name: str) -> int | None:
    given = request.query_params.get(name)
    if given is None:
        return None
    try:
        return int(given)
    except ValueError as error:
        raise BadQuery(f"{name}: {given!r} is not a version number") from error


def _instant(request: Request) -> dt.datetime | None:
    given = request.query_params.get("asOf")
    if given is None:
        return None
    try:
        # An unencoded "+01:00" arrives as " 01:00": take it as the client meant it.
        instant = dt.datetime.fromisoformat(given.replace(" ", "+"))
    except ValueError as error:
        raise BadQuery(f"asOf: {given!r} is not an ISO 8601 instant") from error
    if instant.tzinfo is None:
        raise BadQuery("asOf: give a UTC offset (2027-03-01T12:00:00Z)")
    return instant


def _date(request: Request, name: str) -> dt.date | None:
    given = request.query_params.get(name)
    if given is None:
        return None
    try:
        return dt.date.fromisoformat(given)
    except ValueError as error:
        raise BadQuery(f"{name}: {given!r} is not a date (2027-03-01)") from error


# The plan as tables: an operational plan a sheet per year and one of KPIs, an action plan its
# KPI framework (CSV: the KPI framework, one table).
TABLES = ("xlsx", "csv")


def _format(request: Request, tables: tuple[str, ...] = ()) -> str:
    fmt = request.query_params.get("format", "markdown")
    if fmt not in (*FORMATS, *tables):
        raise BadQuery(f"format: {fmt!r}; use one of {', '.join((*FORMATS, *tables))}")
    return fmt


def attachment(name: str) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="{name}"'}


def _as_tables(found: PlanVersion, fmt: str) -> Response:
    state = found.state
    name = f"{state.id}-v{state.version}"
    if fmt == "xlsx":
        return Response(
            xlsx(plan_sheets(state)), media_type=XLSX, headers=attachment(f"{name}.xlsx")
        )
    table = csv_text(kpi_sheet(state, "KPI framework"))
    return Response(table, media_type=CSV, headers=attachment(f"{name}-kpis.csv"))


def wanted_language(given: str | None, headers: Mapping[str, str]) -> str | None:
    """`?lang=` if given (one of the six, or 400), else the best of Accept-Language's six."""
    if given is not None:
        found = language(given)
        if found is None:
            raise BadQuery(f"lang: {given!r}; use one of {', '.join(LANGUAGES)}")
        return found
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(headers.get("accept-language", "").split(",")):
        tag, _, weight = part.strip().partition(";q=")
        found = language(tag) or language(tag.split("-")[0])
        try:
            quality = float(weight) if weight else 1.0
        except ValueError:
            continue
        if found is not None and quality > 0:
            ranked.append((-quality, index, found))
    return min(ranked)[2] if ranked else None


def _language(lang: str) -> dict[str, str]:
    # The same URL answers in the language Accept-Language picks: caches must key on it.
    return {"content-language": lang, "vary": "Accept-Language"}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def document_endpoint(plans: Callable[[], PlanService]) -> Endpoint:
    async def document(request: Request) -> Response:
        plan_id = request.path_params["plan_id"]
        try:
            fmt, version = _format(request, TABLES), _int(request, "version")
            instant = _instant(request)
            wanted = wanted_language(request.query_params.get("lang"), request.headers)
            found = await read_plan(plans(), plan_id, version, instant, _date(request, "inForceOn"))
        except BadQuery as error:
            return _error(400, "bad_request", str(error))
        except PlanApiError as error:
            return _error(400, "bad_request", str(error))
        if found is None:
            return _error(404, "not_found", f"plan {plan_id!r} has no such version")
        if fmt in TABLES:
            return _as_tables(found, fmt)
        lang = wanted or found.state.languages.source
        read = dataclasses.replace(found, state=localize(found.state, lang))
        shown = in_language(plan_document(read), lang)
        return Response(render(shown, fmt), media_type=FORMATS[fmt], headers=_language(lang))

    return document


def diff_endpoint(plans: Callable[[], PlanService]) -> Endpoint:
    async def diff(request: Request) -> Response:
        plan_id = request.path_params["plan_id"]
        try:
            fmt = _format(request)
            start, end = _required(request, "from"), _required(request, "to")
            wanted = wanted_language(request.query_params.get("lang"), request.headers)
            found = await plans().diff(plan_id, start, end)
        except BadQuery as error:
            return _error(400, "bad_request", str(error))
        except (PlanNotFoundError, VersionNotFoundError) as error:
            return _error(404, "not_found", str(error))
        except ValidationError as error:
            return _error(400, "bad_request", str(error))
        lang = wanted or found.after.state.languages.source
        shown = in_language(diff_document(found), lang)
        return Response(render(shown, fmt), media_type=FORMATS[fmt], headers=_language(lang))

    return diff
