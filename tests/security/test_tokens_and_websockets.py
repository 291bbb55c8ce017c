"""Against a real `planapi serve` (SQLite): `planapi tokens create|list|revoke` as an operator
runs them, and who may subscribe over graphql-transport-ws — with credentials in the upgrade's
header or in `connection_init`, refused when bad, ended when revoked."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from tests.processes import Process, environment, issue_token, run, serving

WAIT = 10.0
PLAN = "baku-2026"
SUBSCRIBE = """
subscription($planId: ID!, $after: Int) {
  planAmended(planId: $planId, after: $after) { version amendment { actor } }
}
"""
AMEND = """
mutation($input: AmendPlanInput!) {
  amendPlan(input: $input) { __typename ... on Forbidden { reason } }
}
"""


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Anonymous access off; tokens looked up on every request (revocation at once)."""
    folder = tmp_path_factory.mktemp("deployment")
    env = environment(
        PLANAPI_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'planapi.db'}",
        PLANAPI_ANONYMOUS_ROLE="none",
        PLANAPI_TOKEN_CACHE_SECONDS="0",
    )
    migrated = run(["migrate"], env)
    assert migrated.returncode == 0, migrated.stderr
    return env


@pytest.fixture(scope="module")
def server(
    deployment: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    with serving(deployment, tmp_path_factory.mktemp("logs") / "api.log") as running:
        yield running


def graphql(server: Process, token: str | None, query: str, **variables: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=30,
    )


def version(server: Process, token: str) -> int:
    found: int = graphql(server, token, '{ plan(id: "baku-2026") { version } }').json()["data"][
        "plan"
    ]["version"]
    return found


def amend(server: Process, token: str, title: str) -> httpx.Response:
    given = {
        "planId": PLAN,
        "expectedVersion": version(server, token),
        "authority": "TDAG",
        "rationale": title,
        "changes": [{"updateNode": {"id": "output-toolkits", "title": title}}],
    }
    return graphql(server, token, AMEND, input=given)


# -- the command line ------------------------------------------------------------------------
def test_a_token_is_created_shown_once_listed_without_its_secret_and_revoked(
    deployment: dict[str, str], server: Process
) -> None:
    created = run(
        ["tokens", "create", "--name", "ci-editor", "--role", "editor", "--expires-in", "30d"],
        deployment,
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("planapi_")
    assert "shown this once" in created.stderr

    assert amend(server, secret, "Written by CI").json()["data"]["amendPlan"] == {
        "__typename": "AmendmentApplied"
    }

    listed = run(["tokens", "list", "--json"], deployment)
    [token] = [t for t in json.loads(listed.stdout) if t["name"] == "ci-editor"]
    assert secret not in listed.stdout
    assert token["role"] == "editor"
    assert token["state"] == "active"
    assert token["lastUsedAt"] is not None, "the list tells whether a token is still used"
    assert token["expiresAt"] is not None
    assert token["createdBy"].startswith("cli")

    revoked = run(["tokens", "revoke", token["id"]], deployment)
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked token" in revoked.stdout

    refused = graphql(server, secret, "{ plans { id } }")
    assert refused.status_code == 401
    assert run(["tokens", "list"], deployment).stdout.count("ci-editor") == 0
    assert "revoked" in run(["tokens", "list", "--all"], deployment).stdout


def test_the_command_line_refuses_what_makes_no_sense(deployment: dict[str, str]) -> None:
    unscoped = run(["tokens", "create", "--name", "sync", "--role", "integrator"], deployment)
    assert unscoped.returncode == 1
    assert "needs a scope" in unscoped.stderr

    scoped_editor = run(
        ["tokens", "create", "--name", "x", "--role", "editor", "--plan", PLAN], deployment
    )
    assert scoped_editor.returncode == 1
    assert "only integrator tokens have a scope" in scoped_editor.stderr

    assert (
        run(["tokens", "create", "--name", "twice", "--role", "reader"], deployment).returncode == 0
    )
    again = run(["tokens", "create", "--name", "twice", "--role", "reader"], deployment)
    assert again.returncode == 1
    assert "already named 'twice'" in again.stderr

    unknown = run(["tokens", "revoke", "no-such-token"], deployment)
    assert unknown.returncode == 1
    assert "no active token" in unknown.stderr

    bad_duration = run(
        ["tokens", "create", "--name", "y", "--role", "reader", "--expires-in", "soon"], deployment
    )
    assert bad_duration.returncode == 2


def test_an_integrator_token_carries_its_scope(deployment: dict[str, str]) -> None:
    created = run(
        [
            "tokens", "create", "--name", "dhis2", "--role", "integrator",
            "--plan", PLAN, "--kpi", "kpi-1", "--kpi", "kpi-2", "--json",
        ],
        deployment,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)
    assert (token["plans"], token["kpis"]) == ([PLAN], ["kpi-1", "kpi-2"])
    assert token["token"].startswith("planapi_")


# -- WebSockets ------------------------------------------------------------------------------
class Subscription:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def message(self) -> dict[str, Any]:
        async with asyncio.timeout(WAIT):
            while True:
                message: dict[str, Any] = json.loads(await self.ws.recv())
                if message["type"] == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                    continue
                return message


@asynccontextmanager
async def subscribed(
    server: Process, *, header: str | None = None, init: dict[str, Any] | None = None
) -> AsyncIterator[Subscription]:
    url = server.url.replace("http://", "ws://") + "/graphql"
    headers = {"Authorization": header} if header else None
    async with connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")], additional_headers=headers
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": init or {}}))
        ack = json.loads(await ws.recv())
        assert ack == {"type": "connection_ack"}, ack
        payload = {"query": SUBSCRIBE, "variables": {"planId": PLAN, "after": 0}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        yield Subscription(ws)


async def test_without_credentials_a_subscription_is_refused_when_anonymous_is_off(
    server: Process,
) -> None:
    async with subscribed(server) as subscription:
        message = await subscription.message()
    assert message["type"] == "error", message
    assert message["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("where", ["header", "connection_init"])
async def test_a_reader_subscribes_with_its_token_in_the_header_or_in_connection_init(
    deployment: dict[str, str], server: Process, where: str
) -> None:
    token = issue_token(deployment, f"watcher-{where}", "reader")
    options: dict[str, Any] = (
        {"header": f"Bearer {token}"}
        if where == "header"
        else {"init": {"Authorization": f"Bearer {token}"}}
    )
    async with subscribed(server, **options) as subscription:
        message = await subscription.message()
    assert message["type"] == "next", message
    assert message["payload"]["data"]["planAmended"]["version"] == 1


async def test_bad_credentials_close_the_socket(server: Process) -> None:
    with pytest.raises(InvalidStatus):  # refused at the upgrade: HTTP 403
        async with subscribed(server, header="Bearer planapi_" + "A" * 43):
            pass

    url = server.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        init = {"Authorization": "Bearer planapi_" + "B" * 43}
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_a_websocket_message_over_the_anonymous_body_limit_closes_the_socket(
    server: Process,
) -> None:
    """A message is read whole before its sender is known: at most 64 KiB (issue 11, item 5),
    not uvicorn's default of 16 MiB."""
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")], max_size=None
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"pad": "x" * 70_000}}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009  # message too big


async def test_a_subscription_ends_when_its_token_is_revoked(
    deployment: dict[str, str], server: Process
) -> None:
    reader = issue_token(deployment, "soon-revoked", "reader")
    editor = issue_token(deployment, "busy-editor", "editor")
    async with subscribed(server, init={"Authorization": f"Bearer {reader}"}) as subscription:
        first = await subscription.message()
        assert first["type"] == "next", first
        while first["payload"]["data"]["planAmended"]["version"] < version(server, editor):
            first = await subscription.message()  # catch up with earlier tests' amendments

        assert run(["tokens", "revoke", "soon-revoked"], deployment).returncode == 0
        await asyncio.to_thread(amend, server, editor, "After the revocation")

        ended = await subscription.message()
        complete = await subscription.message()
    # The event is not delivered: an error in its place, then the stream is complete.
    assert ended["type"] == "next", ended
    assert ended["payload"]["data"] is None
    [error] = ended["payload"]["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "revoked" in error["message"]
    assert complete == {"id": "1", "type": "complete"}


def test_the_server_log_has_no_traceback_from_any_of_this(server: Process) -> None:
    assert "Traceback" not in server.output()


def test_tokens_work_on_a_fresh_directory_once_it_is_migrated(tmp_path: Path) -> None:
    database = tmp_path / "new.db"
    env = environment(PLANAPI_DATABASE_URL=f"sqlite+aiosqlite:///{database}")
    refused = run(["tokens", "list"], env)  # a token made here would be for no server
    assert refused.returncode == 1
    assert "planapi migrate" in refused.stderr
    assert not database.exists()
    assert run(["migrate"], env).returncode == 0
    listed = run(["tokens", "list"], env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "no tokens"


async def test_a_connection_may_hold_only_so_many_subscriptions(
    deployment: dict[str, str], server: Process
) -> None:
    token = issue_token(deployment, "greedy", "reader")
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        init = {"Authorization": f"Bearer {token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        payload = {"query": SUBSCRIBE, "variables": {"planId": PLAN}}  # live only: quiet
        for number in range(1, 22):
            message = {"id": str(number), "type": "subscribe", "payload": payload}
            await ws.send(json.dumps(message))
        refused = await Subscription(ws).message()
    assert refused["type"] == "error", refused
    assert refused["id"] == "21"
    assert "limit" in refused["payload"][0]["message"]
