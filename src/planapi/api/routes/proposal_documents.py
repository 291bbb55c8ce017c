"""GET /proposals/{id}/document: a proposal as a marked-up draft (Markdown, HTML or JSON)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from planapi.api.routes.documents import Endpoint
from planapi.api.routes.rendering import FORMATS, render
from planapi.application.proposal_document import proposal_document
from planapi.application.proposals import ProposalService
from planapi.domain.errors import PlanApiError


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def proposal_document_endpoint(proposals: Callable[[], ProposalService | None]) -> Endpoint:
    async def document(request: Request) -> Response:
        service = proposals()
        assert service is not None, "the server wires ProposalService"
        fmt = request.query_params.get("format", "markdown")
        if fmt not in FORMATS:
            return _error(400, "bad_request", f"format: {fmt!r}; use one of {', '.join(FORMATS)}")
        try:
            found = await service.proposal(request.path_params["proposal_id"])
            if found is None:
                return _error(404, "not_found", "no such proposal")
            drafted = proposal_document(await service.preview(found))
        except PlanApiError as error:
            return _error(400, "bad_request", str(error))
        if drafted is None:
            return _error(409, "conflict", "the proposal conflicts with the current version")
        return Response(render(drafted, fmt), media_type=FORMATS[fmt])

    return document
