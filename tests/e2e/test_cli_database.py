"""Commands that work on a deployment's data refuse a database that is not there, instead of
creating an empty one wherever they were run (and printing a token no server knows);
`migrate` (and `serve`, `seed`) still create the SQLite default, so a fresh clone just works."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.processes import PLANAPI, environment

COMMANDS = {
    "tokens create": ["tokens", "create", "--name", "me", "--role", "admin"],
    "tokens list": ["tokens", "list"],
    "verify": ["verify"],
    "export": ["export", "baku-2026"],
}


def planapi(args: list[str], cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PLANAPI, *args],
        cwd=cwd,
        env=environment(**settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_run_where_there_is_no_database_refuses_and_creates_nothing(
    tmp_path: Path, command: str
) -> None:
    done = planapi(COMMANDS[command], tmp_path)

    assert done.returncode == 1, done.stdout
    assert "there is no database at" in done.stderr
    assert str(tmp_path / "var" / "planapi.db") in done.stderr
    assert "PLANAPI_DATABASE_URL" in done.stderr
    assert "Traceback" not in done.stderr
    assert not done.stdout.startswith("planapi_"), "no token is printed"
    assert not (tmp_path / "var").exists(), "nothing was created"


def test_a_database_file_that_was_never_migrated_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()

    done = planapi(COMMANDS["tokens create"], tmp_path, PLANAPI_DATABASE_URL=f"sqlite:///{empty}")

    assert done.returncode == 1
    assert "has never been migrated" in done.stderr
    assert "planapi migrate" in done.stderr


def test_migrate_still_creates_the_default_database_and_then_tokens_work(tmp_path: Path) -> None:
    migrated = planapi(["migrate"], tmp_path)
    created = planapi(COMMANDS["tokens create"], tmp_path)

    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "var" / "planapi.db").exists()
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("planapi_")


def test_a_token_is_created_with_authority_grants_and_lists_them(tmp_path: Path) -> None:
    assert planapi(["migrate"], tmp_path).returncode == 0
    grants = ["--grant", "review:TDAG", "--grant", "adopt:wtdc"]
    created = planapi([*COMMANDS["tokens create"], *grants, "--json"], tmp_path)
    refused = planapi(
        ["tokens", "create", "--name", "x", "--role", "editor", "--grant", "vote:TDAG"], tmp_path
    )
    listed = planapi(["tokens", "list", "--json"], tmp_path)

    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["grants"] == ["adopt:WTDC", "review:TDAG"]
    assert refused.returncode != 0
    assert "vote:TDAG" in refused.stderr
    assert '"adopt:WTDC"' in listed.stdout
