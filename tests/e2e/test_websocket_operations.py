"""Operations on one graphql-transport-ws connection read what the same query over HTTP reads:
the memos a request keeps (the latest versions its root read, loaders, figures) last one
operation, not the connection (`Context.for_operation`, `PlanSchema.stream`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from planapi.config import Settings
from planapi.entrypoints.asgi import create_app
from planapi.entrypoints.seeding import CREATE_PLAN, seed_input
from tests.e2e.conftest import bearer
from tests.e2e.queries import AMEND, add, move
from tests.operational_fixtures import CONNECTIVITY, DIGITAL, activity, operational_input
from tests.websocket_handshake import websocket_scope

PLAN = "baku-2026"
BUDGET = """{ plan(id: "bdt-operational-2027") {
  budget(by: PRIORITY, year: 2027) { items { key amount } } } }"""
Ask = Callable[[str], Awaitable[dict[str, Any]]]


@asynccontextmanager
async def connection(app: Any, token: str) -> AsyncIterator[Ask]:
    """A graphql-transport-ws connection straight to the ASGI app; yields `ask(query)`, which
    subscribes with a new id and returns the operation's first `next` payload."""
    scope = websocket_scope([(b"authorization", f"Bearer {token}".encode())])
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    said: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(app(scope, inbox.get, said.put))
    ids = iter(range(1, 1_000))

    async def until(kind: str) -> dict[str, Any]:
        while True:
            message = await asyncio.wait_for(said.get(), 10)
            assert message["type"] != "websocket.close", message
            if message["type"] == "websocket.send":
                payload: dict[str, Any] = json.loads(message["text"])
                if payload["type"] == kind:
                    return payload

    async def ask(query: str) -> dict[str, Any]:
        given = {"id": str(next(ids)), "type": "subscribe", "payload": {"query": query}}
        await inbox.put({"type": "websocket.receive", "text": json.dumps(given)})
        found: dict[str, Any] = (await until("next"))["payload"]
        return found

    await inbox.put({"type": "websocket.connect"})
    try:
        assert (await asyncio.wait_for(said.get(), 10))["type"] == "websocket.accept"
        init = {"type": "connection_init", "payload": {}}
        await inbox.put({"type": "websocket.receive", "text": json.dumps(init)})
        await until("connection_ack")
        yield ask
    finally:
        await inbox.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 10)


def amending(version: int, *changes: dict[str, Any]) -> dict[str, Any]:
    given = {"planId": PLAN, "expectedVersion": version, "authority": "TDAG", "rationale": "ws"}
    return {"query": AMEND, "variables": {"input": {**given, "changes": list(changes)}}}


async def test_a_later_operation_on_a_connection_prices_against_the_latest_action_plan(
    settings: Settings, admin_token: str
) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://planapi")
        http.headers.update(bearer(admin_token))

        async def post(given: dict[str, Any]) -> dict[str, Any]:
            answer: dict[str, Any] = (await http.post("/graphql", json=given)).json()
            assert "errors" not in answer, answer
            return answer

        seeded = {"query": CREATE_PLAN, "variables": {"input": seed_input("baku")}}
        await post(seeded)  # seeded already on SQLite: PlanAlreadyExists
        outcome = add("OUTCOME", "Broadband", id="outcome-x", parentId=CONNECTIVITY)
        await post(amending(1, outcome))
        served = activity("act-1", "1.1", servesIds=["outcome-x"])
        await post({"query": CREATE_PLAN, "variables": {"input": operational_input(served)}})
        async with connection(app, admin_token) as ask:
            # The root reads the action plan's latest version (2) on this connection...
            assert (await ask(f'{{ plan(id: "{PLAN}") {{ version }} }}'))["data"] == {
                "plan": {"version": 2}
            }
            # ...then the outcome the activity serves moves to another priority (version 3).
            await post(amending(2, move("outcome-x", DIGITAL)))
            over_ws = await ask(BUDGET)
        over_http = await post({"query": BUDGET})
        await http.aclose()
    items = over_http["data"]["plan"]["budget"]["items"]
    assert [item["key"] for item in items if float(item["amount"])] == [DIGITAL]
    assert over_ws["data"] == over_http["data"]
