"""The README's worked example of a proposal runs as written, in order, against the seeded plan."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import GraphQL

README = Path(__file__).resolve().parents[2] / "README.md"


def operations() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Proposals: drafted, reviewed, adopted") :]
    block = section[section.index("```graphql") + len("```graphql") : section.index("```\n", 20)]
    parts = re.split(r"^(?=(?:mutation|query) )", block.strip(), flags=re.MULTILINE)
    return [(part.split()[1], part) for part in parts if part.strip()]


async def test_the_readmes_proposal_example_runs_as_written(graphql: GraphQL, baku: str) -> None:
    found = {}
    for name, document in operations():
        body = await graphql(document)
        assert "errors" not in body, (name, body)
        found[name] = body["data"]

    assert [name for name, _ in operations()] == [
        "Draft",
        "Review",
        "Revise",
        "Read",
        "AdoptProposal",
    ]
    assert found["Draft"]["proposeAmendment"]["proposal"]["proposalId"] == "baku-2026.p1"
    assert found["Review"]["reviewProposal"]["__typename"] == "ProposalUpdated"
    read = found["Read"]["proposal"]
    assert read["preview"]["id"] == "Plan:baku-2026.p1~r2:2"
    assert read["conflicts"] == []
    adopted = found["AdoptProposal"]["adoptProposal"]
    assert adopted["__typename"] == "AmendmentApplied", adopted
    assert adopted["amendment"]["proposal"] == {"proposalId": "baku-2026.p1", "status": "ADOPTED"}
