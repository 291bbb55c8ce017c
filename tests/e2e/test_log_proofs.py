"""The Merkle log as an auditor uses it, on both backends: a checkpoint saved to a witness file
(`planapi checkpoint save`), the public key and checkpoint over HTTP, an inclusion proof checked
with no database (`planapi log check`), and `planapi verify --checkpoint` catching a deletion."""

from __future__ import annotations

import asyncio
import json
from base64 import b64decode
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.tables import events
from planapi.config import Settings
from planapi.domain.merkle import leaf_hash, verify_inclusion
from planapi.domain.notes import SignerKey
from planapi.entrypoints.asgi import create_app
from planapi.entrypoints.log_cli import event_leaf
from tests.e2e.cli import planapi
from tests.e2e.conftest import GraphQL, bearer, issue_token

KEY = SignerKey.generate("planapi.e2e")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with a signing key; the follower off, so the test says when."""
    return settings.model_copy(
        update={
            "log_signing_key": KEY.encode(),
            "log_origin": "planapi.e2e",
            "log_follow_interval": 0,
        }
    )


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("PLANAPI_LOG_SIGNING_KEY", KEY.encode())
    monkeypatch.setenv("PLANAPI_LOG_ORIGIN", "planapi.e2e")
    return monkeypatch


Cli = Callable[..., Awaitable[tuple[int, str]]]


@pytest.fixture
def cli(settings: Settings, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`planapi …` on the test database with the signing key: (exit code, what it printed)."""

    async def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(planapi(settings, env, *argv))
        return code, capsys.readouterr().out

    return run


@pytest.fixture
async def anonymous(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://planapi") as http:
            yield http


async def test_an_auditor_checks_an_event_against_a_signed_checkpoint_without_the_database(
    client: httpx.AsyncClient,
    baku: str,
    cli: Cli,
    tmp_path: Path,
) -> None:
    witness = tmp_path / "witness.txt"
    code, out = await cli("checkpoint", "save", str(witness))
    assert code == 0, out
    assert "events: saved the checkpoint of 1 leaves" in out

    note = (await client.get("/log/checkpoint")).text
    assert note == witness.read_text()
    key = await client.get("/log/key")
    assert key.text == KEY.verifier().encode() + "\n"
    line = (await client.get("/events?after=0&limit=1")).text
    proof = await client.get("/log/proof/inclusion", params={"leaf": 0, "treeSize": 1})
    assert proof.status_code == 200, proof.text
    files = {"key": key.text, "proof": proof.text, "event": line}
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    argv = ["log", "check", "--key", str(tmp_path / "key"), "--checkpoint", str(witness)]
    argv += ["--proof", str(tmp_path / "proof"), "--event", str(tmp_path / "event")]

    code, out = await cli(*argv)
    assert code == 0, out
    assert out.startswith("ok: the event at position ")
    assert "is leaf 0 of planapi.e2e/events's signed tree of 1 leaves" in out

    event = json.loads(line)
    event["meta"]["actor"] = "mallory"  # the mirror's copy, altered
    (tmp_path / "event").write_text(json.dumps(event))
    code, out = await cli(*argv)
    assert code == 1
    assert out == "REFUSED: the proof fails: the proof does not lead to the root hash\n"


async def test_verify_against_a_witness_file_names_a_deleted_last_event(
    client: httpx.AsyncClient,
    baku: str,
    raw_engine: AsyncEngine,
    cli: Cli,
    tmp_path: Path,
) -> None:
    witness = tmp_path / "witness.txt"
    assert (await cli("checkpoint", "save", str(witness)))[0] == 0
    code, out = await cli("verify", "--checkpoint", str(witness))
    assert code == 0, out
    assert "events: ok, the log's first 1 leaves match the checkpoint" in out

    async with raw_engine.begin() as conn:
        last = (await conn.execute(select(func.max(events.c.position)))).scalar_one()
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
            await conn.execute(delete(events).where(events.c.position == last))
            await conn.execute(text("ALTER TABLE events ENABLE TRIGGER USER"))
        else:
            await conn.execute(text("DROP TRIGGER events_no_delete"))
            await conn.execute(delete(events).where(events.c.position == last))

    code, out = await cli("verify", "--checkpoint", str(witness))
    assert code == 1
    assert (
        f"events: BROKEN against the checkpoint of 1 leaves: leaf 0 (position {last}) is gone; "
        "the log holds 0 leaves"
    ) in out


async def test_checkpoints_are_public_and_proofs_are_for_auditors_with_named_errors(
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    baku: str,
    cli: Cli,
    settings: Settings,
    tmp_path: Path,
) -> None:
    missing = await anonymous.get("/log/checkpoint")
    assert missing.status_code == 404
    assert missing.json()["message"] == "log: the events log has no checkpoint: none signed yet"
    await cli("checkpoint", "save", str(tmp_path / "w"))

    assert (await anonymous.get("/log/checkpoint")).text.startswith("planapi.e2e/events\n1\n")
    assert (await anonymous.get("/log/key")).status_code == 200
    refused = await anonymous.get("/log/proof/inclusion", params={"leaf": 0})
    assert refused.status_code in (401, 403)
    reader = await issue_token(settings, "a-reader", "reader")
    as_reader = await anonymous.get("/log/proof/consistency?from=0", headers=bearer(reader))
    assert as_reader.status_code == 403

    cases = {
        "/log/proof/inclusion?leaf=x": "leaf: must be a non-negative integer",
        "/log/proof/inclusion": "leaf: is required",
        "/log/proof/inclusion?leaf=1": "leaf: leaf 1 is not in a tree of 1 leaves",
        "/log/proof/inclusion?leaf=0&treeSize=5": "treeSize: the events log holds 1 leaves, not 5",
        "/log/proof/consistency?from=2&to=1": "from: no consistency proof from 2 leaves to 1",
        "/log/checkpoint?log=plans": "log: must be one of events, readings",
    }
    for path, message in cases.items():
        answer = await client.get(path)
        assert answer.status_code == 400, path
        assert answer.json()["message"] == message
    proof = (await client.get("/log/proof/consistency?from=0")).json()
    assert proof == {"log": "events", "origin": "planapi.e2e/events", "from": 0, "to": 1,
                     "hashes": []}  # fmt: skip


PROOFS = """
query Proofs($log: LogName!) {
  checkpoint(log: $log) { origin treeSize rootHash note }
  plan(id: "baku-2026") {
    amendments(first: 5) { nodes { version inclusionProof { leaf position treeSize hashes } } }
  }
}
"""


async def test_graphql_gives_the_checkpoint_and_each_amendments_inclusion_proof(
    client: httpx.AsyncClient,
    graphql: GraphQL,
    baku: str,
    cli: Cli,
    tmp_path: Path,
) -> None:
    before = await graphql(PROOFS, log="EVENTS")
    assert before["data"]["checkpoint"] is None, before
    assert before["data"]["plan"]["amendments"]["nodes"][0]["inclusionProof"] is None
    code, out = await cli("checkpoint", "save", str(tmp_path / "w"))
    assert code == 0, out

    body = await graphql(PROOFS, log="EVENTS")
    assert "errors" not in body, body
    checkpoint = body["data"]["checkpoint"]
    assert checkpoint["note"] == (tmp_path / "w").read_text()
    assert (checkpoint["origin"], checkpoint["treeSize"]) == ("planapi.e2e/events", 1)
    [amendment] = body["data"]["plan"]["amendments"]["nodes"]
    proof = amendment["inclusionProof"]
    line = (await client.get("/events?after=0&limit=1")).text
    assert (proof["leaf"], proof["position"]) == (0, json.loads(line)["position"])
    verify_inclusion(
        0, 1, leaf_hash(event_leaf(line)), [b64decode(h) for h in proof["hashes"]],
        b64decode(checkpoint["rootHash"]),
    )  # fmt: skip
    readings = await graphql(PROOFS, log="READINGS")
    assert readings["data"]["checkpoint"] is None  # no batch recorded: nothing to sign


async def test_the_follower_in_serve_keeps_the_tree_and_signs_as_amendments_arrive(
    settings: Settings, admin_token: str
) -> None:
    following = settings.model_copy(update={"log_follow_interval": 0.05, "checkpoint_every": 1})
    app = create_app(following)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://planapi", headers=bearer(admin_token)
        ) as http:
            from planapi.entrypoints.seeding import CREATE_PLAN, seed_input

            request = {"query": CREATE_PLAN, "variables": {"input": seed_input("baku")}}
            await http.post("/graphql", json=request)
            events = (await http.get("/events?after=0&limit=1000")).text.splitlines()
            async with asyncio.timeout(20):
                while True:
                    answer = await http.get("/log/checkpoint")
                    if answer.status_code == 200 and f"\n{len(events)}\n" in answer.text:
                        break
                    await asyncio.sleep(0.05)


async def test_the_audit_page_checks_a_pasted_checkpoint_against_the_log(
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    baku: str,
    cli: Cli,
    tmp_path: Path,
) -> None:
    page = (await client.get("/audit")).text
    assert 'id="checkpoint-section"' in page
    assert "Check against the log" in page
    await cli("checkpoint", "save", str(tmp_path / "w"))
    saved = (tmp_path / "w").read_text()

    answer = await client.post("/log/check", content=saved.replace("\n", "\r\n"))
    assert answer.json() == {
        "ok": True,
        "message": "ok: the events log's latest checkpoint (1 leaves) is a consistent "
        "extension of the saved one (1 leaves)",
    }
    forged = KEY.sign(saved.split("\n\n")[0].replace("\n1\n", "\n2\n") + "\n")
    answer = await client.post("/log/check", content=forged)
    assert answer.json() == {
        "ok": False,
        "message": "NOT extended: the events log's latest checkpoint has 1 leaves, fewer than "
        "the saved one's 2",
    }
    tampered = saved.replace("\n1\n", "\n0\n")
    answer = await client.post("/log/check", content=tampered)
    assert answer.json()["ok"] is False
    assert "does not verify" in answer.json()["message"]
    assert (await anonymous.post("/log/check", content=saved)).status_code in (401, 403)
