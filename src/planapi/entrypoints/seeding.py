"""Seed plans from the data files in `planapi.seeds`, through the same mutation clients use."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import strawberry

from planapi.api.types.context import Context
from planapi.application.access import system
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
    if await services.plans.plan(given["id"]) is not None:
        return f"plan {given['id']} already exists; nothing changed"
    result = await schema.execute(
        CREATE_PLAN,
        variable_values={"input": given},
        context_value=Context(
            plans=services.plans,
            readings=services.readings,
            principal=system(services.settings.default_actor),
            actor=services.settings.default_actor,
        ),
    )
    if result.errors:
        raise SeedError(f"seeding {name} failed: {result.errors[0].message}")
    outcome = (result.data or {})["createPlan"]
    if outcome["__typename"] == "PlanAlreadyExists":
        return f"plan {given['id']} already exists; nothing changed"
    if outcome["__typename"] != "PlanCreated":
        raise SeedError(f"seeding {name} was refused: {outcome.get('message')}")
    return f"plan {given['id']} created at version {outcome['plan']['version']}"
