"""The auditor page at `/audit`: static HTML, CSS and plain JS calling `/graphql`.

The page is `GET /audit`; its script and stylesheet are under `/audit/static/` and it links to
them relatively (`audit/static/…`), as it calls `graphql` relatively, so the app can be mounted
under a path prefix. The files ship inside the package (hatch includes package data).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static" / "audit"

# No inline script or style, nothing from elsewhere: the page only talks to this server.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


async def audit_page(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=PAGE_HEADERS)


def audit_routes() -> list[BaseRoute]:
    """`/audit` and its assets; `/audit/` redirects to `/audit` (query string kept)."""
    return [
        Route("/audit", audit_page, methods=["GET", "HEAD"]),
        Mount("/audit/static", StaticFiles(directory=STATIC), name="audit-static"),
    ]
