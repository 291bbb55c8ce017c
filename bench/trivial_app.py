"""The baseline every HTTP figure stands beside: a trivial starlette JSON endpoint, served by
the same uvicorn (uvloop, httptools, one worker) as planapi."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def hello(request: Request) -> Response:
    return JSONResponse({"hello": "world"})


app = Starlette(routes=[Route("/", hello, methods=["GET", "POST"])])
