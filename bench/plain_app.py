"""The baseline for cold GraphQL reads: plain strawberry — its stock ASGI view (json, no
response cache) and graphql-core's ordinary execution — over the same schema and the same
in-memory plan versions (the services' version cache), against the bench's database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from planapi.api.runtime.execution import FastExecutionContext
from planapi.api.schema import build_schema
from planapi.api.types.context import Context
from planapi.application.access import Role, anonymous
from planapi.bootstrap import Services, bootstrap
from planapi.config import Settings

FastExecutionContext.enabled = False


class PlainGraphQL(GraphQL[Context, None]):
    def __init__(self, holder: dict[str, Services], **options: Any) -> None:
        self.holder = holder
        super().__init__(**options)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        services = self.holder["app"]
        return Context(
            plans=services.plans,
            readings=services.readings,
            principal=anonymous(Role.READER),
        )


def create_app() -> Starlette:
    settings = Settings()
    holder: dict[str, Services] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        holder["app"] = await bootstrap(settings)
        try:
            yield
        finally:
            await holder["app"].close()

    schema = build_schema(cost_budgets=dict.fromkeys(Role, 10**12))
    view = PlainGraphQL(holder, schema=schema, graphql_ide=None)
    return Starlette(routes=[Route("/graphql", view, methods=["GET", "POST"])], lifespan=lifespan)
