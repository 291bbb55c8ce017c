"""Seed plans from the data files in `planapi.seeds`, through the same mutation clients use."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import strawberry

from planapi.api.types.context import Context
from planapi.application.access import system
from planapi.application.plan_views import PlanVersion
from planapi.bootstrap import Services

SEEDS = {"baku": "baku-2026.json"}

CREATE_PLAN = """
mutation Seed($input: CreatePlanInput!) {
  createPlan(input: $input) {
    __typename
    ... on PlanCreated { plan { planId version } }
    ... on UserError { message }
  }
}
"""


AMEND_PLAN = """
mutation Correct($input: AmendPlanInput!) {
  amendPlan(input: $input) {
    __typename
    ... on AmendmentApplied { plan { version } }
    ... on UserError { message }
  }
}
"""

# The correction appended to a plan seeded before version 1 carried the draft's links (and was
# recorded with authority WTDC and an effective date, which read as adoption): the log is
# append-only, so the correction is a new version, never a rewrite of version 1.
CORRECTION_RATIONALE = (
    "Correction of the seeded draft: version 1 was recorded with authority WTDC and an effective "
    "date, which reads as adoption; it is the draft (status DRAFT, not adopted). As the draft "
    "says, outputs are inherently cross-cutting, covering all priorities: each output is linked "
    "to all five priorities."
)


class SeedError(RuntimeError):
    pass


def seed_input(name: str) -> dict[str, Any]:
    if name not in SEEDS:
        raise SeedError(f"unknown seed {name!r}; known: {', '.join(sorted(SEEDS))}")
    text = resources.files("planapi.seeds").joinpath(SEEDS[name]).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


async def seed(schema: strawberry.Schema, services: Services, name: str) -> str:
    """Create the named plan unless it exists; say which happened."""
    given = seed_input(name)
    head = await services.plans.plan(given["id"])
    if head is not None:
        return await _correct(schema, services, given, head)
    result = await schema.execute(
        CREATE_PLAN, variable_values={"input": given}, context_value=_context(services)
    )
    if result.errors:
        raise SeedError(f"seeding {name} failed: {result.errors[0].message}")
    outcome = (result.data or {})["createPlan"]
    if outcome["__typename"] == "PlanAlreadyExists":
        return f"plan {given['id']} already exists; nothing changed"
    if outcome["__typename"] != "PlanCreated":
        raise SeedError(f"seeding {name} was refused: {outcome.get('message')}")
    return f"plan {given['id']} created at version {outcome['plan']['version']}"


def _context(services: Services) -> Context:
    return Context(
        plans=services.plans,
        readings=services.readings,
        principal=system(services.settings.default_actor),
        actor=services.settings.default_actor,
    )


def _seed_links(given: dict[str, Any]) -> list[dict[str, Any]]:
    return [change["link"] for change in given["changes"] if "link" in change]


async def _correct(
    schema: strawberry.Schema, services: Services, given: dict[str, Any], head: PlanVersion
) -> str:
    """Append the correction when version 1 is the old seed (no links) and nothing since has
    linked what the seed links; otherwise change nothing."""
    plan_id, state = given["id"], head.state
    first = await services.plans.plan(plan_id, 1)
    wanted = [
        link
        for link in _seed_links(given)
        if link["fromId"] in state.nodes and link["toId"] in state.nodes
    ]
    present = {(link.from_id, link.to_id, link.relation.value) for link in state.links}
    missing = [w for w in wanted if (w["fromId"], w["toId"], w["relation"]) not in present]
    if first is None or first.state.links or len(missing) < len(wanted) or not missing:
        return f"plan {plan_id} already exists; nothing changed"
    correction = {
        "planId": plan_id,
        "expectedVersion": state.version,
        "authority": "BDT",
        "rationale": CORRECTION_RATIONALE,
        "reference": given.get("reference"),
        "changes": [{"link": link} for link in missing],
    }
    result = await schema.execute(
        AMEND_PLAN, variable_values={"input": correction}, context_value=_context(services)
    )
    if result.errors:
        raise SeedError(f"correcting {plan_id} failed: {result.errors[0].message}")
    outcome = (result.data or {})["amendPlan"]
    if outcome["__typename"] != "AmendmentApplied":
        raise SeedError(f"correcting {plan_id} was refused: {outcome.get('message')}")
    version = outcome["plan"]["version"]
    return f"plan {plan_id} was seeded before the draft's links; corrected at version {version}"
