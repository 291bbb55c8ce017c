"""GraphiQL at `/graphql` (GET, Accept: text/html) from files this server holds.

strawberry's own page loads React, GraphiQL, the explorer plugin and js-cookie from unpkg.com:
offline, or under a CSP that allows nothing from elsewhere, it stays at "Loading…". This page
loads pinned builds of the same libraries from `/graphiql/static/`, package data committed under
`static/graphiql/vendor/` by `tools/graphiql/vendor.mjs` from a locked npm install (why committed
rather than built: docs/deployment.md). js-cookie is gone: it only read Django's CSRF cookie.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static" / "graphiql"

# What the editor needs and nothing more: its scripts and stylesheets from here; fonts and
# icons GraphiQL's stylesheet inlines as data: URLs; fetch and the graphql-ws WebSocket to this
# origin ('self' covers ws:/wss: to the same host); no inline script, no eval, no frames.
# GraphiQL 3 edits with CodeMirror 5: no web workers, so no worker-src or blob: either.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self' data:; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class OfflineGraphiQL:
    """Mixed into the GraphQL view before strawberry's: replaces the page it renders."""

    async def render_graphql_ide(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=PAGE_HEADERS)


class _Assets(StaticFiles):
    """The vendored files never change under one name within a release; revalidated daily."""

    def file_response(self, *args: object, **kwargs: object) -> Response:
        response = super().file_response(*args, **kwargs)  # type: ignore[arg-type]
        response.headers["Cache-Control"] = "public, max-age=86400"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def graphiql_routes() -> list[BaseRoute]:
    return [Mount("/graphiql/static", _Assets(directory=STATIC), name="graphiql-static")]
