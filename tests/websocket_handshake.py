"""A WebSocket handshake sent straight to the ASGI app, for what the door answers before any
subscription: accept, a close, or an HTTP refusal (ASGI's denial response)."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.applications import Starlette


def websocket_scope(headers: list[tuple[bytes, bytes]], *, denial: bool = False) -> dict[str, Any]:
    """A graphql-transport-ws upgrade of `/graphql` as uvicorn hands it to the app; with
    `denial`, offering ASGI's denial response."""
    return {
        "type": "websocket",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "scheme": "ws",
        "server": ("planapi", 80),
        "client": ("127.0.0.1", 5000),
        "subprotocols": ["graphql-transport-ws"],
        "headers": [(b"host", b"planapi"), *headers],
        "extensions": {"websocket.http.response": {}} if denial else {},
    }


async def handshake(
    app: Starlette, headers: list[tuple[bytes, bytes]], *, denial: bool = False
) -> list[dict[str, Any]]:
    """What the app says to the handshake: its first message, or the whole HTTP refusal. With
    `denial`, the scope offers ASGI's denial response (as uvicorn's does)."""
    scope = websocket_scope(headers, denial=denial)
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "websocket.connect"})
    said: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(app(scope, inbox.get, said.put))
    messages: list[dict[str, Any]] = []
    try:
        while not messages or _refusal_goes_on(messages[-1]):
            messages.append(await asyncio.wait_for(said.get(), 10))
    finally:
        await inbox.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 10)
    return messages


def _refusal_goes_on(message: dict[str, Any]) -> bool:
    kind = message["type"]
    return kind == "websocket.http.response.start" or (
        kind == "websocket.http.response.body" and bool(message.get("more_body"))
    )
