"""What every resolver can reach: the use cases, the caller, and per-request loaders."""

from __future__ import annotations

import contextvars
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from planapi.application.access import Principal
from planapi.application.feed import EventFeed
from planapi.application.live import LiveUpdates
from planapi.application.plans import PlanService
from planapi.application.readings import ReadingService
from planapi.application.search import SearchService
from planapi.application.transparency import Transparency
from planapi.domain.readings import ReadingQuery, ReadingVersion

# Set by the HTTP middleware; read by logging and error masking.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

ReadingKey = tuple[str, str, ReadingQuery]  # (plan id, KPI id, what is asked)


@dataclass
class Context:
    plans: PlanService
    readings: ReadingService
    actor: str | None = None
    request_id: str = "-"
    # The event feed and live updates (subscriptions); None where a caller needs neither.
    feed: EventFeed | None = None
    live: LiveUpdates | None = None
    transparency: Transparency | None = None  # the Merkle logs (api/types/log_fields.py)
    search: SearchService | None = None  # Query.search (api/types/search.py)
    # The caller, set per request from the access middleware (docs/security.md); None: nobody,
    # refused everything. `actor` is its name wherever it writes.
    principal: Principal | None = None
    # Subscriptions outlive their request: do the credentials still hold? None: nothing to ask.
    still_valid: Callable[[], Awaitable[bool]] | None = None
    # The graphql-transport-ws `connection_init` payload (strawberry sets it); may carry a token.
    connection_params: dict[str, object] | None = None
    # One loader per request, so every KPI of a tree asking the same question shares one query.
    reading_loader: DataLoader[ReadingKey, list[ReadingVersion]] = field(init=False)

    def __post_init__(self) -> None:
        self.reading_loader = DataLoader(load_fn=self._load_readings)

    async def _load_readings(self, keys: list[ReadingKey]) -> list[list[ReadingVersion]]:
        groups: defaultdict[tuple[str, ReadingQuery], list[str]] = defaultdict(list)
        for plan_id, kpi_id, query in keys:
            groups[plan_id, query].append(kpi_id)
        found: dict[ReadingKey, list[ReadingVersion]] = {}
        for (plan_id, query), kpi_ids in groups.items():
            per_kpi = await self.readings.readings(plan_id, kpi_ids, query)
            found.update({(plan_id, kpi_id, query): per_kpi[kpi_id] for kpi_id in kpi_ids})
        return [found[key] for key in keys]
