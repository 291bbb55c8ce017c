"""The GraphiQL files the service serves are the ones tools/graphiql's lock file pins, unedited:
`tools/graphiql/vendor.mjs` copied them and recorded each one's version and SHA-384."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from planapi.entrypoints.graphiql import STATIC

ROOT = Path(__file__).resolve().parents[2]


def test_vendored_files_are_the_locked_packages_unedited() -> None:
    manifest = json.loads((STATIC / "vendor" / "manifest.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "tools" / "graphiql" / "package-lock.json").read_text())
    pinned = json.loads((ROOT / "tools" / "graphiql" / "package.json").read_text())
    assert set(manifest["files"]) >= {"graphiql.min.js", "react.production.min.js"}
    for name, entry in manifest["files"].items():
        body = (STATIC / "vendor" / name).read_bytes()
        digest = base64.b64encode(hashlib.sha384(body).digest()).decode()
        assert entry["integrity"] == f"sha384-{digest}", f"{name} differs from what was vendored"
        locked = lock["packages"][f"node_modules/{entry['package']}"]["version"]
        assert entry["version"] == locked, f"{name}: vendored {entry['version']}, lock {locked}"
        assert pinned["devDependencies"][entry["package"]] == locked  # an exact pin, no range


def test_the_page_loads_only_vendored_or_own_files() -> None:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    assert "http" not in page.replace("https://", "").split("<!--")[0]
    for ref in ("vendor/graphiql.min.js", "vendor/react-dom.production.min.js"):
        assert f"graphiql/static/{ref}" in page
        assert (STATIC / ref).exists()


def test_vendored_files_match_a_fresh_locked_install() -> None:
    """`npm ci` from tools/graphiql's lock, then `vendor.mjs --check`: nothing to re-vendor."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are needed to check the vendored GraphiQL files")
        pytest.skip("node/npm not installed")
    tools = ROOT / "tools" / "graphiql"
    if not (tools / "node_modules" / ".package-lock.json").exists():
        installed = subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=tools,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert installed.returncode == 0, installed.stderr
    checked = subprocess.run(
        ["node", "vendor.mjs", "--check"], cwd=tools, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
