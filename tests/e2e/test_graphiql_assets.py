"""The GraphiQL files the service serves are the ones tools/graphiql's lock file pins, unedited:
`tools/graphiql/vendor.mjs` copied them and recorded each one's version and SHA-384."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

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
