"""`planapi seed baku`: the draft recorded as a DRAFT whose outputs serve every priority, and a
database seeded before that corrected by a new version (append-only), once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from planapi.api.schema import build_schema
from planapi.api.types.context import Context
from planapi.application.access import system
from planapi.bootstrap import Services, bootstrap
from planapi.config import Settings
from planapi.domain.events import Authority, PlanStatus
from planapi.domain.links import LinkRelation
from planapi.entrypoints.seeding import CREATE_PLAN, seed, seed_input

PLAN = "baku-2026"


@pytest.fixture
async def services(database: tuple[str, dict[str, object]]) -> AsyncIterator[Services]:
    url, options = database
    connect_args: dict[str, Any] = options.get("connect_args", {})  # type: ignore[assignment]
    schema = connect_args.get("server_settings", {}).get("search_path")
    found = await bootstrap(Settings(database_url=url, database_schema=schema))
    try:
        yield found
    finally:
        await found.close()


def _served(services: Services, state: Any) -> dict[str, set[str]]:
    outputs = [n.id for n in state.nodes.values() if n.kind.value == "OUTPUT"]
    return {o: {p.id for p in state.linked_to(o, LinkRelation.SERVES)} for o in outputs}


async def test_a_fresh_seed_is_a_draft_whose_outputs_serve_all_five_priorities(
    services: Services,
) -> None:
    said = await seed(build_schema(), services, "baku")
    again = await seed(build_schema(), services, "baku")

    first = await services.plans.plan(PLAN, 1)
    assert first is not None
    assert said == f"plan {PLAN} created at version 1"
    assert again == f"plan {PLAN} already exists; nothing changed"
    assert first.state.status is PlanStatus.DRAFT
    assert first.amendment.info.authority is Authority.BDT
    assert first.amendment.info.effective_from is None
    priorities = {n.id for n in first.state.nodes.values() if n.kind.value == "PRIORITY"}
    served = _served(services, first.state)
    assert len(priorities) == 5
    assert len(served) == 6
    assert all(found == priorities for found in served.values())
    assert await services.plans.plan(PLAN, 2) is None


async def test_a_database_seeded_before_gets_one_corrective_amendment(
    services: Services,
) -> None:
    old = seed_input("baku")
    old["changes"] = [change for change in old["changes"] if "link" not in change]
    old.pop("status")
    old.update(authority="WTDC", effectiveFrom="2026-01-01")
    context = Context(
        plans=services.plans,
        readings=services.readings,
        principal=system("planapi"),
        actor="planapi",
    )
    created = await build_schema().execute(
        CREATE_PLAN, variable_values={"input": old}, context_value=context
    )
    assert created.data is not None
    assert created.data["createPlan"]["__typename"] == "PlanCreated"

    said = await seed(build_schema(), services, "baku")
    again = await seed(build_schema(), services, "baku")

    assert said == f"plan {PLAN} was seeded before the draft's links; corrected at version 2"
    assert again == f"plan {PLAN} already exists; nothing changed"
    first, head = await services.plans.plan(PLAN, 1), await services.plans.plan(PLAN)
    assert first is not None
    assert head is not None
    assert head.state.version == 2
    assert not first.state.links, "version 1 stays as it was recorded"
    assert first.state.status is head.state.status is PlanStatus.DRAFT
    assert head.amendment.info.authority is Authority.BDT
    assert "reads as adoption" in head.amendment.info.rationale
    assert len(head.state.links) == 30
    assert (await services.plans.verify(PLAN)).ok
