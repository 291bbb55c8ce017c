"""The Baku seed document: a faithful, well-formed ``createPlan`` input for the draft plan."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

DRAFT_RELATIVE = "shared/reference/baku-action-plan-draft.txt"
ALLOWED_NODE_KEYS = {"kind", "id", "parentId", "code", "title", "description", "contents"}
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")
HEADING_NUMBER = re.compile(r"^\d+(?:\.\d+)*\s+")


def _seed() -> dict[str, Any]:
    text = files("planapi.seeds").joinpath("baku-2026.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def _nodes() -> list[dict[str, Any]]:
    return [change["addNode"] for change in _seed()["changes"] if "addNode" in change]


# The draft as it was when the seed was written from it; the shared reference copy, when it is
# beside the checkout, must still say the same (test below).
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "baku-action-plan-draft.txt"


def _shared_draft() -> Path | None:
    candidates = [Path(__file__).resolve().parents[3] / DRAFT_RELATIVE]
    env = os.environ.get("PLANAPI_DRAFT_PATH")
    if env:
        candidates.append(Path(env))
    return next((path for path in candidates if path.is_file()), None)


def _draft_path() -> Path | None:
    return _shared_draft() or (FIXTURE if FIXTURE.is_file() else None)


def test_the_committed_draft_is_the_shared_reference() -> None:
    shared = _shared_draft()
    if shared is None:
        pytest.skip("no shared reference beside this checkout to compare with")
    assert FIXTURE.read_bytes() == shared.read_bytes()


def _draft_lines(raw: str) -> list[str]:
    lines = []
    for line in raw.splitlines():
        cleaned = BOOKMARK.sub("", line).strip()
        cleaned = HEADING_NUMBER.sub("", cleaned)
        if cleaned.startswith("·"):
            cleaned = cleaned[1:]
        cleaned = cleaned.strip()
        if cleaned:
            lines.append(cleaned)
    return lines


def test_seed_is_a_create_plan_input() -> None:
    seed = _seed()
    assert seed["id"] == "baku-2026"
    assert seed["periodStart"] == 2026
    assert seed["periodEnd"] == 2029
    # The draft, recorded as such: no adopting authority, no date it takes effect.
    assert seed["status"] == "DRAFT"
    assert seed["authority"] == "BDT"
    assert "effectiveFrom" not in seed
    for change in seed["changes"]:
        assert list(change) in (["addNode"], ["link"])
        if "addNode" in change:
            assert set(change["addNode"]) <= ALLOWED_NODE_KEYS
            assert {"kind", "id", "title"} <= set(change["addNode"])


def test_outputs_are_cross_cutting_each_linked_to_every_priority() -> None:
    """The draft: "Outputs are inherently cross-cutting, covering all priorities." """
    links = [change["link"] for change in _seed()["changes"] if "link" in change]
    priorities = [n["id"] for n in _nodes() if n["kind"] == "PRIORITY"]
    outputs = [n["id"] for n in _nodes() if n["kind"] == "OUTPUT"]
    draft = _draft_path()
    if draft is not None:
        assert "Outputs are inherently cross-cutting, covering all priorities" in draft.read_text(
            encoding="utf-8"
        )
    assert sorted((link["fromId"], link["toId"]) for link in links) == sorted(
        (output, priority) for output in outputs for priority in priorities
    )
    assert {link["relation"] for link in links} == {"SERVES"}


def test_every_heading_and_paragraph_of_the_draft_is_in_the_seed() -> None:
    path = _draft_path()
    if path is None:
        pytest.skip(f"draft not found (looked for …/{DRAFT_RELATIVE} and $PLANAPI_DRAFT_PATH)")
    texts: set[str] = set()
    for node in _nodes():
        texts.add(node["title"])
        texts.update(node.get("description", "").split("\n\n"))

    missing = [line for line in _draft_lines(path.read_text(encoding="utf-8")) if line not in texts]

    assert missing == []


def test_ids_are_unique_slugs_and_parents_come_first() -> None:
    seen: set[str] = set()
    for node in _nodes():
        assert ID_PATTERN.match(node["id"]), node["id"]
        assert node["id"] not in seen, f"duplicate id {node['id']}"
        if "parentId" in node:
            assert node["parentId"] in seen, f"{node['id']} has unknown parent {node['parentId']}"
        seen.add(node["id"])


def test_node_counts_and_priority_codes() -> None:
    nodes = _nodes()

    assert Counter(node["kind"] for node in nodes) == {
        "SECTION": 11,
        "TERM": 11,
        "PRIORITY": 5,
        "OUTPUT": 6,
        "ENABLER": 7,
    }
    assert [n["code"] for n in nodes if n["kind"] == "PRIORITY"] == ["1", "2", "3", "4", "5"]


def test_nodes_are_grouped_by_kind_in_document_order() -> None:
    kinds = [node["kind"] for node in _nodes()]
    order = ["SECTION", "TERM", "PRIORITY", "OUTPUT", "ENABLER"]

    assert kinds == sorted(kinds, key=order.index)
