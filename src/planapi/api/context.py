"""What every resolver can reach: the use cases, the caller, and per-request loaders."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from planapi.application.plans import PlanService, PlanVersion

# Set by the HTTP middleware; read by logging and error masking.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


@dataclass
class Context:
    plans: PlanService
    actor: str | None = None
    request_id: str = "-"
    versions: DataLoader[tuple[str, int], PlanVersion | None] = field(init=False)

    def __post_init__(self) -> None:
        async def load(keys: list[tuple[str, int]]) -> list[PlanVersion | None]:
            return [await self.plans.plan(plan_id, version) for plan_id, version in keys]

        # One loader per request: a version asked for twice in one query is read once.
        self.versions = DataLoader(load_fn=load)
