"""GET and POST /plans/{id}/translations: translators' files over plain HTTP, beside GraphQL's
`translationsPo` / `translationsXliff` and `importTranslations` / `importTranslationsXliff`.

GET `?lang=ar&format=xliff|po` (`version` optional) downloads a language's file. POST takes one
back, its kind by Content-Type (`application/xliff+xml`, or `text/x-gettext-translation` with
`?lang=`), the amendment's terms in the query: `expectedVersion`, `authority`, `rationale`,
`reference`. A refused file is 422 with a problem per unit or entry, and records nothing."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from planapi.api.routes.documents import BadQuery, Endpoint, _error, _int, _required, attachment
from planapi.api.types.naming import render_path
from planapi.application.access import AccessDeniedError, Permission, Principal
from planapi.application.plans import PlanService
from planapi.application.translation_files import ImportTranslations, export_po, import_po
from planapi.application.translation_xliff import XLIFF, export_xliff, import_xliff
from planapi.domain.errors import (
    PlanApiError,
    PlanNotFoundError,
    ValidationError,
    VersionConflictError,
)
from planapi.domain.events import Authority
from planapi.domain.translations import language

PO = "text/x-gettext-translation"
_KINDS = {XLIFF: "xliff", "application/x-xliff+xml": "xliff", PO: "po", "text/x-po": "po"}


def translations_endpoint(plans: Callable[[], PlanService]) -> Endpoint:
    async def translations(request: Request) -> Response:
        if request.method == "POST":
            return await _import(plans(), request)
        return await _export(plans(), request)

    return translations


async def _export(plans: PlanService, request: Request) -> Response:
    plan_id = request.path_params["plan_id"]
    fmt = request.query_params.get("format", "xliff")
    lang = language(request.query_params.get("lang", ""))
    if fmt not in ("xliff", "po"):
        return _error(400, "bad_request", f"format: {fmt!r}; use xliff or po")
    if lang is None:
        return _error(400, "bad_request", "lang: give one of ar, zh, en, fr, ru, es")
    try:
        found = await plans.plan(plan_id, _int(request, "version"))
    except (BadQuery, PlanApiError) as error:
        return _error(400, "bad_request", str(error))
    if found is None:
        return _error(404, "not_found", f"plan {plan_id!r} has no such version")
    state = found.state
    name = f"{state.id}-v{state.version}-{lang}"
    if fmt == "po":
        body = export_po(state, lang)
        return Response(body, media_type=PO, headers=attachment(f"{name}.po"))
    return Response(export_xliff(state, lang), media_type=XLIFF, headers=attachment(f"{name}.xlf"))


async def _import(plans: PlanService, request: Request) -> Response:
    # The door let in whoever may read; recording an amendment asks for more.
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None or not principal.authenticated:
        refused = _error(401, "unauthenticated", "send a bearer token of a role that may amend")
        refused.headers["www-authenticate"] = "Bearer"
        return refused
    if not principal.can(Permission.AMEND):
        return _error(403, "forbidden", f"the role {principal.role} may not amend plans")
    kind = _KINDS.get(request.headers.get("content-type", "").split(";")[0].strip().lower())
    if kind is None:
        return _error(415, "unsupported_media_type", f"send {XLIFF} or {PO}")
    try:
        command = ImportTranslations(
            plan_id=request.path_params["plan_id"],
            expected_version=_required(request, "expectedVersion"),
            lang=request.query_params.get("lang"),
            text=(await request.body()).decode("utf-8"),
            authority=Authority(request.query_params.get("authority", "")),
            rationale=request.query_params.get("rationale", ""),
            reference=request.query_params.get("reference"),
        )
    except (BadQuery, ValueError) as error:
        return _error(400, "bad_request", _why(error))
    importer = import_xliff if kind == "xliff" else import_po
    try:
        found, count = await importer(plans, command, principal.name)
    except ValidationError as error:
        return _refused(error)
    except VersionConflictError as error:
        return _error(409, "version_conflict", str(error))
    except PlanNotFoundError as error:
        return _error(404, "not_found", str(error))
    except AccessDeniedError as error:
        return _error(403, "forbidden", str(error))
    return JSONResponse(
        {"planId": found.state.id, "version": found.state.version, "imported": count}
    )


def _why(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "the body must be UTF-8"
    if isinstance(error, BadQuery):
        return str(error)
    names = ", ".join(each.value for each in Authority)
    return f"authority: give one of {names}"


def _refused(error: ValidationError) -> JSONResponse:
    problems = [{"path": render_path(p.path), "message": p.message} for p in error.problems]
    body = {"error": "validation_failed", "message": str(error), "problems": problems}
    return JSONResponse(body, status_code=422)
