"""services/<process>/ and docker/compose.yaml stay in step with the code: every setting listed
with its default, the exact commands, and compose wiring them together."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from planapi.adapters.database import local_file
from planapi.config import Settings
from tests.deploy.dockerfile import ROOT

SERVICES = ["api", "migrate", "relay"]
COMPOSE = ROOT / "docker" / "compose.yaml"
COMMANDS = {"api": "serve", "migrate": "migrate", "relay": "relay"}


def env_file(service: str) -> dict[str, str]:
    found: dict[str, str] = {}
    path = ROOT / "services" / service / "env.example"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path}:{number}: not KEY=VALUE"
        assert key not in found, f"{path}:{number}: {key} twice"
        found[key] = value
    return found


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("service", SERVICES)
def test_the_env_template_lists_every_setting(service: str) -> None:
    expected = {f"PLANAPI_{name.upper()}" for name in Settings.model_fields}
    listed = set(env_file(service))
    assert listed - expected == set(), "settings the code does not have"
    assert expected - listed == set(), "settings missing from the template"


@pytest.mark.parametrize("service", SERVICES)
def test_the_env_template_gives_each_setting_its_default(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith("PLANAPI_")]:
        monkeypatch.delenv(key)
    template = ROOT / "services" / service / "env.example"
    from_template = Settings(_env_file=template)
    assert from_template.model_dump() == Settings().model_dump()


@pytest.mark.parametrize("service", SERVICES)
def test_each_process_has_a_readme_and_its_exact_command(service: str) -> None:
    folder = ROOT / "services" / service
    readme = (folder / "README.md").read_text(encoding="utf-8")
    command = shlex.split((folder / "command").read_text(encoding="utf-8"))
    assert command == ["planapi", COMMANDS[service], *command[2:]]
    assert " ".join(command) in readme
    assert "SIGTERM" in readme
    assert "scale" in readme.lower()


@pytest.mark.parametrize("service", SERVICES)
def test_compose_runs_each_process_with_its_command_and_env_template(
    compose: dict[str, Any], service: str
) -> None:
    defined = compose["services"][service]
    command = shlex.split((ROOT / "services" / service / "command").read_text(encoding="utf-8"))
    assert ["planapi", *defined["command"]] == command  # the image's entrypoint is planapi
    env_files = defined["env_file"]
    env_files = [env_files] if isinstance(env_files, str) else env_files
    assert [(COMPOSE.parent / f).resolve() for f in env_files] == [
        ROOT / "services" / service / "env.example"
    ]
    # Whatever compose overrides is a real setting.
    known = {f"PLANAPI_{name.upper()}" for name in Settings.model_fields}
    assert set(defined.get("environment", {})) <= known


def test_compose_migrates_once_before_two_api_replicas_start(compose: dict[str, Any]) -> None:
    services = compose["services"]
    postgres = services["postgres"]
    assert postgres["image"].split(":")[1].startswith("15")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(volume.split(":")[0] in compose["volumes"] for volume in postgres["volumes"])

    migrate = services["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"

    api = services["api"]
    assert api["deploy"]["replicas"] == 2
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert api["depends_on"]["postgres"]["condition"] == "service_healthy"
    # Requests in flight get PLANAPI_SHUTDOWN_TIMEOUT before docker's SIGKILL.
    grace = int(api["stop_grace_period"].rstrip("s"))
    assert grace > Settings().shutdown_timeout


def test_the_relay_and_nats_are_optional(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["relay"]["profiles"] == ["relay"]
    assert services["nats"]["profiles"] == ["relay"]
    assert "--jetstream" in services["nats"]["command"]
    assert services["relay"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert "profiles" not in services["api"]


def test_every_planapi_service_reaches_the_same_database(compose: dict[str, Any]) -> None:
    urls = {compose["services"][name]["environment"]["PLANAPI_DATABASE_URL"] for name in SERVICES}
    assert len(urls) == 1
    (url,) = urls
    assert url.startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in url
    assert local_file(url) is None  # a server's database, not a file beside one of them


def test_readme_links_the_deployment_guide() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/deployment.md)" in readme
    assert Path(ROOT / "docs" / "deployment.md").exists()
