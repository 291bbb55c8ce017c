"""Persisted queries and trusted documents: hashes instead of text, and the operator's
"only known documents" mode."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from planapi.config import Settings
from planapi.entrypoints.asgi import create_app
from planapi.entrypoints.cli import main
from tests.e2e.conftest import bearer

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "schema" / "trusted-documents.json"
UNKNOWN = "query Unknown($id: ID!) { plan(id: $id) { title version } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def trusted(name: str) -> dict[str, Any]:
    operations = json.loads(MANIFEST.read_text(encoding="utf-8"))["operations"]
    return next(op for op in operations if op["name"] == name)


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_a_client_registers_a_document_then_sends_only_its_hash(
    client: httpx.AsyncClient, baku: str
) -> None:
    digest = sha(UNKNOWN)
    variables = {"id": baku}
    unknown = await client.post(
        "/graphql", json={"variables": variables, "extensions": persisted(digest)}
    )
    assert unknown.status_code == 200
    error = unknown.json()["errors"][0]
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

    registered = await client.post(
        "/graphql",
        json={"query": UNKNOWN, "variables": variables, "extensions": persisted(digest)},
    )
    assert registered.json()["data"]["plan"]["version"] == 1
    by_hash = await client.post(
        "/graphql", json={"variables": variables, "extensions": persisted(digest)}
    )
    assert by_hash.json() == registered.json()
    by_get = await client.get(
        "/graphql",
        params={"variables": json.dumps(variables), "extensions": json.dumps(persisted(digest))},
    )
    assert by_get.json() == registered.json()
    assert by_get.headers["etag"] == by_hash.headers["etag"]


async def test_a_hash_that_is_not_the_texts_is_refused(
    client: httpx.AsyncClient, baku: str
) -> None:
    wrong = await client.post(
        "/graphql",
        json={"query": UNKNOWN, "variables": {"id": baku}, "extensions": persisted("0" * 64)},
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    malformed = await client.post("/graphql", json={"documentId": "md5:abc"})
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_INVALID"


async def test_trusted_documents_are_known_by_their_document_id(
    client: httpx.AsyncClient, baku: str
) -> None:
    plans = trusted("AuditPlans")
    for document_id in (f"sha256:{plans['id']}", plans["id"]):
        found = await client.post("/graphql", json={"documentId": document_id})
        assert found.status_code == 200
        assert found.json()["data"]["plans"][0]["planId"] == baku


@pytest.fixture
async def strict(settings: Settings, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    only = settings.model_copy(
        update={"trusted_documents_only": True, "trusted_documents_file": str(MANIFEST)}
    )
    app = create_app(only)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://planapi", headers=bearer(admin_token)
        ) as http:
            yield http


async def test_only_known_documents_refuses_every_other(
    strict: httpx.AsyncClient, settings: Settings
) -> None:
    if not settings.database_url.startswith("sqlite"):  # only SQLite seeds itself
        from planapi.entrypoints.seeding import CREATE_PLAN, seed_input

        seeded = await strict.post(
            "/graphql", json={"query": CREATE_PLAN, "variables": {"input": seed_input("baku")}}
        )
        assert seeded.json()["data"]["createPlan"]["__typename"] == "PlanCreated"

    refused = await strict.post("/graphql", json={"query": UNKNOWN, "variables": {"id": "x"}})
    assert refused.status_code == 400
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
    # Registering is refused too, and so is a hash nobody trusted.
    registering = await strict.post(
        "/graphql", json={"query": UNKNOWN, "extensions": persisted(sha(UNKNOWN))}
    )
    assert registering.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
    by_hash = await strict.post("/graphql", json={"extensions": persisted(sha(UNKNOWN))})
    assert by_hash.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    by_get = await strict.get("/graphql", params={"query": "{ plans { id } }"})
    assert by_get.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"

    # The auditor page's own documents: by hash, and as text however it is laid out.
    plans = trusted("AuditPlans")
    by_id = await strict.post("/graphql", json={"documentId": f"sha256:{plans['id']}"})
    assert by_id.json()["data"]["plans"][0]["planId"] == "baku-2026"
    squeezed = re.sub(r"\s+", " ", plans["body"])
    as_text = await strict.post("/graphql", json={"query": squeezed})
    assert as_text.json() == by_id.json()


def test_the_manifest_is_the_documents_the_repository_sends(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["trusted-documents", "--check"]) == 0
    names = {op["name"] for op in json.loads(MANIFEST.read_text())["operations"]}
    assert {"AuditPlans", "AuditPlan", "AuditDiff", "AuditVerify", "Seed"} <= names
    stale = tmp_path / "trusted.json"
    stale.write_text(MANIFEST.read_text().replace("AuditPlans", "Renamed"))
    assert main(["trusted-documents", "--check", "--output", str(stale)]) == 1
    assert "run `planapi trusted-documents`" in capsys.readouterr().err
