"""docs/architecture.md's layer map names every package and module under src/planapi, and only
those: a module added, moved or removed without the map following fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "planapi"
DOC = ROOT / "docs" / "architecture.md"
INDENT = 2
ENTRY = re.compile(r"^(?P<indent> *)(?P<name>[\w.]+/?)(?: {2,}\S.*)?$")


def map_block(text: str) -> list[str]:
    """The lines of the first fenced block under `## Layers`."""
    section = text.split("\n## Layers\n", 1)[1]
    return section.split("```\n", 2)[1].splitlines()


def mapped(lines: list[str]) -> set[str]:
    """Paths relative to src/planapi the tree names: `api/`, `api/runtime/guard.py`, …"""
    parents: list[str] = []
    found: set[str] = set()
    for number, line in enumerate(lines, 1):
        match = ENTRY.match(line)
        assert match, f"map line {number} is not `name  description`: {line!r}"
        depth, remainder = divmod(len(match["indent"]), INDENT)
        assert remainder == 0, f"map line {number} is misindented"
        assert depth <= len(parents), f"map line {number} is deeper than its package"
        del parents[depth:]
        path = "".join(parents) + match["name"]
        found.add(path)
        if path.endswith("/"):
            parents.append(match["name"])
    return found


def on_disk() -> set[str]:
    found: set[str] = set()
    for module in SOURCE.rglob("*.py"):
        relative = module.relative_to(SOURCE)
        if module.name == "__init__.py":
            if relative.parent != Path("."):
                found.add(relative.parent.as_posix() + "/")
        else:
            found.add(relative.as_posix())
    return found


def test_the_map_names_every_module_and_package() -> None:
    missing = on_disk() - mapped(map_block(DOC.read_text()))
    assert not missing, f"docs/architecture.md's layer map lacks: {sorted(missing)}"


def test_the_map_names_nothing_that_does_not_exist() -> None:
    stale = mapped(map_block(DOC.read_text())) - on_disk()
    assert not stale, f"docs/architecture.md's layer map names what is gone: {sorted(stale)}"


def test_a_module_left_out_is_noticed() -> None:
    lines = [line for line in map_block(DOC.read_text()) if "guard.py" not in line]
    assert "api/runtime/guard.py" in on_disk() - mapped(lines)
