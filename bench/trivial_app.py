"""The baseline every HTTP figure stands beside: a trivial starlette JSON endpoint, served by
the same uvicorn (uvloop, httptools, one worker) as planapi."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# The size of planapi's full-tree answer (176 KB): what sending such a body costs the stack
# (uvicorn, the loopback, wrk reading it) with no work behind it.
LARGE = b'{"data":"' + b"x" * (176 * 1024 - 11) + b'"}'


async def hello(request: Request) -> Response:
    return JSONResponse({"hello": "world"})


async def large(request: Request) -> Response:
    return Response(LARGE, media_type="application/json")


app = Starlette(
    routes=[
        Route("/", hello, methods=["GET", "POST"]),
        Route("/large", large, methods=["GET", "POST"]),
    ]
)
