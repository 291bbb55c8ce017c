"""The rules that matter in docker/Dockerfile, checked without a Docker engine (hadolint's
equivalents in brackets)."""

from __future__ import annotations

import re
import shlex

import pytest

from tests.deploy.dockerfile import DOCKERFILE, ROOT, Instruction, healthcheck_command, instructions


@pytest.fixture(scope="module")
def items() -> list[Instruction]:
    return instructions()


def of(items: list[Instruction], keyword: str) -> list[Instruction]:
    return [item for item in items if item.keyword == keyword]


def test_every_base_image_is_pinned_to_a_patch_release(items: list[Instruction]) -> None:
    # [DL3006, DL3007] an explicit tag, never `latest`, and precise enough to rebuild the same.
    for base in of(items, "FROM"):
        image = base.arguments.split()[0]
        assert "@sha256:" in image or re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*", image), image
        assert not image.endswith(":latest")


def test_the_word_latest_appears_nowhere() -> None:
    code = [line for line in DOCKERFILE.read_text().splitlines() if not line.startswith("#")]
    assert not any(re.search(r"\blatest\b", line) for line in code)


def test_the_build_is_multi_stage_and_the_runtime_takes_only_the_environment(
    items: list[Instruction],
) -> None:
    stages = of(items, "FROM")
    assert len(stages) >= 2
    assert all(" AS " in stage.arguments.upper() for stage in stages)
    copied = [c for c in of(items, "COPY") if "from" in c.flags()]
    assert copied, "the runtime stage copies the built environment from the build stage"


def test_dependencies_come_from_the_lock_file_with_their_hashes(items: list[Instruction]) -> None:
    installs = [r.arguments for r in of(items, "RUN") if "pip install" in r.arguments]
    locked = [i for i in installs if "-r requirements.lock" in i]
    assert locked
    assert all("--require-hashes" in i for i in locked)
    # The project itself adds nothing that the lock file did not pin.
    project = [i for i in installs if "requirements" not in i]
    assert project
    assert all("--no-deps" in i for i in project)
    assert any(c.arguments.split()[0] == "requirements.lock" for c in of(items, "COPY"))
    assert (ROOT / "requirements.lock").exists()


def test_the_process_runs_as_an_unprivileged_user(items: list[Instruction]) -> None:
    # [DL3002] the last USER is not root, and it comes before the ENTRYPOINT.
    keywords = [item.keyword for item in items]
    users = of(items, "USER")
    assert users
    last_user = max(i for i, k in enumerate(keywords) if k == "USER")
    assert last_user < keywords.index("ENTRYPOINT")
    name = users[-1].arguments.split(":")[0]
    assert name not in {"root", "0"}
    assert any("useradd" in r.arguments and name in r.arguments for r in of(items, "RUN"))


def test_it_has_a_healthcheck_on_healthz_without_curl(items: list[Instruction]) -> None:
    checks = of(items, "HEALTHCHECK")
    assert len(checks) == 1
    assert "NONE" not in checks[0].arguments
    command = healthcheck_command(items)
    assert command[:2] == ["python", "-c"]
    assert "/healthz" in command[2]
    assert "urllib" in command[2]
    assert not any("curl" in r.arguments or "wget" in r.arguments for r in of(items, "RUN"))


def test_planapi_is_the_entrypoint_and_serving_the_default_command(
    items: list[Instruction],
) -> None:
    (entrypoint,) = of(items, "ENTRYPOINT")
    (command,) = of(items, "CMD")
    assert entrypoint.exec_form() == ["planapi"]  # exec form: planapi itself gets SIGTERM
    service = shlex.split((ROOT / "services" / "api" / "command").read_text())
    assert [*entrypoint.exec_form(), *command.exec_form()] == service


def test_the_migrations_ship_in_the_image_where_planapi_looks(items: list[Instruction]) -> None:
    copies = [c.arguments.split() for c in of(items, "COPY")]
    assert ["migrations", "./migrations"] in copies
    env = " ".join(e.arguments for e in of(items, "ENV"))
    assert "PLANAPI_MIGRATIONS_DIR=/app/migrations" in env
    (workdir,) = {w.arguments for w in of(items, "WORKDIR")} & {"/app"}
    assert workdir == "/app"


def test_no_remote_add_and_no_package_manager_caches(items: list[Instruction]) -> None:
    # [DL3020] COPY, not ADD; [DL3042] pip keeps no cache in the image.
    assert not of(items, "ADD")
    env = " ".join(e.arguments for e in of(items, "ENV"))
    assert "PIP_NO_CACHE_DIR=1" in env
