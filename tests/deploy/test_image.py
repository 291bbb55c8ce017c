"""The image's command, settings and health check, run here without building the image: the
exact ENTRYPOINT + CMD, with the environment compose gives the api service (the image's ENV,
then services/api/env.example, then compose's overrides), on a fresh SQLite file."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from planapi.entrypoints.processes import free_port
from tests.deploy.dockerfile import ROOT, healthcheck_command, instructions
from tests.deploy.test_services import COMPOSE, env_file
from tests.processes import PLANAPI, environment, planapi

# Paths that only exist inside the image; the checkout has its own.
IMAGE_ONLY = {"PATH", "PLANAPI_MIGRATIONS_DIR"}


def image_environment() -> dict[str, str]:
    found: dict[str, str] = {}
    for item in instructions():
        if item.keyword == "ENV":
            for word in shlex.split(item.arguments):
                key, _, value = word.partition("=")
                if key not in IMAGE_ONLY:
                    found[key] = value
    return found


def compose_environment(service: str) -> dict[str, str]:
    compose: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return {k: str(v) for k, v in compose["services"][service]["environment"].items()}


def test_the_image_command_serves_and_its_health_check_passes(tmp_path: Path) -> None:
    items = instructions()
    (entrypoint,) = [i.exec_form() for i in items if i.keyword == "ENTRYPOINT"]
    (default,) = [i.exec_form() for i in items if i.keyword == "CMD"]
    command = [PLANAPI if word == "planapi" else word for word in [*entrypoint, *default]]
    port = free_port()
    env = environment(
        **{
            **image_environment(),
            **env_file("api"),
            **compose_environment("api"),
            # Not the compose network's PostgreSQL: a file of our own, and a port nobody uses.
            "PLANAPI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'planapi.db'}",
            "PLANAPI_PORT": str(port),
        }
    )
    check = healthcheck_command(items)
    check[0] = sys.executable if check[0] == "python" else check[0]

    with planapi([], env, tmp_path / "api.log", port=port, command=command) as api:
        api.wait_healthy()
        healthy = subprocess.run(check, env=env, capture_output=True, timeout=10, check=False)
        assert healthy.returncode == 0, healthy.stderr
        assert api.stop() == 0

    # With the server gone, the same check reports unhealthy.
    down = subprocess.run(check, env=env, capture_output=True, timeout=10, check=False)
    assert down.returncode != 0
    # The compose deployment logs JSON, one object per line, each with a request id.
    lines = [json.loads(line) for line in api.output().splitlines() if line.strip()]
    assert {"time", "level", "logger", "message", "request_id"} <= set(lines[0])
    served = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert served
    assert all(line["request_id"] != "-" and line["path"] == "/healthz" for line in served)
    assert any("Application shutdown complete" in line["message"] for line in lines)


def test_the_migrate_command_of_the_image_migrates_and_is_idempotent(tmp_path: Path) -> None:
    command = shlex.split((ROOT / "services" / "migrate" / "command").read_text())
    env = environment(
        **{
            **image_environment(),
            **env_file("migrate"),
            "PLANAPI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'planapi.db'}",
        }
    )
    for expected in ("migrated from an empty database", "nothing to do"):
        done = subprocess.run(
            [PLANAPI, *command[1:]], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout
