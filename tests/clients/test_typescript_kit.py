"""The TypeScript client kit (clients/typescript/) as a front-end team starts from it: installed
from its lock file, types generated for the repository's documents, `tsc --strict`, then real
Apollo Client, @urql/core and graphql-ws (node:test) against a live `planapi serve` on a fresh,
seeded SQLite file.

Needs Node 20+ and npm (and, the first time, the npm registry for `npm ci`): skipped without
them, except in CI (CI=true).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import environment, issue_token, serving

KIT = Path(__file__).resolve().parents[2] / "clients" / "typescript"


def npm() -> str:
    found = shutil.which("npm")
    if found and shutil.which("node"):
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("node and npm are needed for the client kit's checks")
    pytest.skip("node/npm not installed")


def step(*command: str, env: dict[str, str] | None = None, timeout: int = 600) -> str:
    done = subprocess.run(
        list(command), cwd=KIT, env=env, capture_output=True, text=True, timeout=timeout
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


@pytest.fixture(scope="module")
def built() -> Path:
    """npm ci (when node_modules is absent), codegen, tsc --strict, compiled to dist/."""
    binary = npm()
    if not (KIT / "node_modules" / ".package-lock.json").exists():
        step(binary, "ci", "--ignore-scripts", "--no-audit", "--no-fund")
    step(binary, "run", "--silent", "codegen")
    step(binary, "exec", "--", "tsc", "--strict", "--noEmit", "-p", "tsconfig.json")
    shutil.rmtree(KIT / "dist", ignore_errors=True)
    step(binary, "exec", "--", "tsc", "-p", "tsconfig.json")
    return KIT / "dist" / "test"


@dataclass
class Live:
    env: dict[str, str]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    npm()
    workdir = tmp_path_factory.mktemp("kit-server")
    env = environment(
        PLANAPI_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'planapi.db'}",
        PLANAPI_RATE_LIMIT_PER_SECOND="0",
    )
    with serving(env, workdir / "server.log") as server:
        token = issue_token(env, "kit-admin", "admin")
        yield Live(
            {**os.environ, "PLANAPI_URL": f"{server.url}/graphql", "PLANAPI_ADMIN_TOKEN": token}
        )


def node_test(built: Path, live: Live, name: str) -> str:
    return step(
        "node", "--test", "--test-concurrency=1", str(built / name), env=live.env, timeout=120
    )


def test_apollo_urql_and_graphql_ws_against_a_live_server(built: Path, live: Live) -> None:
    """Amends with an admin token (Apollo, urql), a VersionConflict for a stale version (urql),
    a refusal without a token, the subscription over graphql-ws, fragments on interfaces read
    whole (Apollo with the generated possibleTypes)."""
    output = node_test(built, live, "kit.test.js")
    assert "# fail 0" in output, output
    assert "# pass 5" in output, output


@pytest.mark.parametrize(
    "name",
    [
        # Apollo reads version 1 then latest from one default InMemoryCache, gets each right.
        pytest.param("after-global-ids.test.js", id="apollo-cache-keeps-versions-apart"),
        # Apollo shows the server's message for a bad query.
        pytest.param("after-graphql-response-json.test.js", id="apollo-shows-the-servers-message"),
    ],
)
def test_after_merging_other_branches(built: Path, live: Live, name: str) -> None:
    output = node_test(built, live, name)
    assert "# fail 0" in output, output
