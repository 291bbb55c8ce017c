"""The ASGI application: GraphQL (with GraphiQL) on starlette."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp
from starlette.websockets import WebSocket

from planapi.adapters.failures import as_unavailable
from planapi.api.routes.documents import diff_endpoint, document_endpoint
from planapi.api.routes.events import events_endpoint
from planapi.api.routes.exports import readings_endpoint
from planapi.api.routes.ingest import ingest_endpoint
from planapi.api.routes.log_routes import log_endpoints
from planapi.api.routes.proposal_documents import proposal_document_endpoint
from planapi.api.routes.sdmx_export import series_endpoint
from planapi.api.routes.sdmx_structure import structure_endpoint
from planapi.api.routes.translation_routes import translations_endpoint
from planapi.api.runtime.graphql_http import CachingGraphQL
from planapi.api.schema import build_schema
from planapi.api.types.context import Context, request_id
from planapi.application.authn import Authenticator
from planapi.application.heads_tracker import HeadsTracker
from planapi.application.transparency import Transparency
from planapi.bootstrap import Services, bootstrap
from planapi.config import Settings
from planapi.entrypoints.allocator import map_large_blocks
from planapi.entrypoints.caching import register_metrics, response_caching
from planapi.entrypoints.cors import CorsMiddleware, allowed_origins
from planapi.entrypoints.door_settings import batching, limits
from planapi.entrypoints.graphiql import OfflineGraphiQL, graphiql_routes
from planapi.entrypoints.graphql_access import (
    PlanGraphQLAccess,
    context_access,
    cost_budgets,
    token_limits,
)
from planapi.entrypoints.hit_layer import HitLayer
from planapi.entrypoints.log_follower import following
from planapi.entrypoints.metrics import HttpMetricsMiddleware, Metrics
from planapi.entrypoints.request_ids import RequestIdMiddleware, RequestIds
from planapi.entrypoints.security import AccessMiddleware, Limits
from planapi.entrypoints.seeding import seed
from planapi.entrypoints.tracing import Tracing, tracing

log = logging.getLogger("planapi")


class PlanApp(Starlette):
    """Starlette with one layer in front of its whole stack, its error middleware included:
    the response cache's hits, answered there (`entrypoints.hit_layer`) when `front` is set."""

    front: Callable[[ASGIApp], ASGIApp] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        return stack if self.front is None else self.front(stack)


class PlanGraphQL(OfflineGraphiQL, PlanGraphQLAccess, CachingGraphQL):
    def __init__(self, services: dict[str, Services], **options: Any) -> None:
        self.services = services
        self.authenticator = lambda: _authenticator(services["app"])
        super().__init__(**options)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        services = self.services["app"]
        return Context(
            plans=services.plans,
            readings=services.readings,
            request_id=request_id.get(),
            feed=services.feed,
            live=services.live,
            transparency=services.transparency,
            execution=services.execution,
            proposals=services.proposals,
            search=services.search,
            **context_access(request.scope, _authenticator(services)),
        )


def _heads(services: Services) -> HeadsTracker:
    assert services.heads is not None
    return services.heads


def _authenticator(services: Services) -> Authenticator:
    assert services.authenticator is not None
    return services.authenticator


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    holder: dict[str, Services] = {}
    metrics = Metrics(lambda: holder.get("app"))
    traced = tracing(settings.tracing)
    schema = _schema(settings, [metrics.extension(), *traced.extensions])
    graphql = PlanGraphQL(
        holder,
        schema=schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        caching=response_caching(settings, lambda: _heads(holder["app"])),
        allowed_origins=sorted(allowed_origins(settings.cors_origins)),
    )
    door = limits(settings)
    graphql.batching = batching(settings, door)
    register_metrics(metrics.registry, graphql)
    app = PlanApp(
        routes=_routes(settings, holder, graphql, metrics),
        lifespan=_lifespan(settings, holder, schema, metrics, traced),
    )
    _add_middleware(app, settings, holder, door, metrics, graphql)
    from planapi.entrypoints.audit import audit_routes  # the auditor page: /audit

    app.router.routes.extend(audit_routes())
    if settings.graphiql:
        app.router.routes.extend(graphiql_routes())
    app.router.routes.extend(log_routes(lambda: _transparency(holder["app"])))
    return app


def _schema(settings: Settings, observers: list[Any]) -> strawberry.Schema:
    return build_schema(
        max_depth=settings.max_query_depth,
        max_tokens=settings.max_query_tokens,
        max_aliases=settings.max_query_aliases,
        max_selections=settings.max_query_selections,
        max_field_pairs=settings.max_query_field_pairs,
        tokens_by_role=token_limits(settings),
        observers=observers,
        cost_budgets=cost_budgets(settings),
        classify=as_unavailable,
    )


# Young collections every 50,000 net allocations of containers (default 700), older ones after
# 20 of those, full ones after 10 of those (and only when a quarter of the heap is new).
GC_THRESHOLDS = (50_000, 20, 10)


def _lifespan(
    settings: Settings,
    holder: dict[str, Services],
    schema: strawberry.Schema,
    metrics: Metrics,
    traced: Tracing,
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = await bootstrap(settings)
        holder["app"] = services
        metrics.instrument(services)
        if services.seed_when_empty and not await services.plans.plans():
            log.info(await seed(schema, services, "baku"))
        # What start-up built lives as long as the process: keep the collector from re-scanning
        # it on every full collection (large ingest batches trigger many).
        gc.freeze()
        # Fewer collections: with the default 700 the caches' churn (versions, answers) promoted
        # enough to trigger a full collection every ~8 s of the soak, each pausing every request
        # 150-480 ms on the loaded 2-core machine (10.6 s of 185 in the collector); with these,
        # a young collection every ~30 s of similar length and no full one in 5 minutes (3.3 s
        # of 305). docs/performance.md, "The soak".
        gc.set_threshold(*GC_THRESHOLDS)
        # Large blocks (answers of 128 KiB and more) unmapped when freed, not kept by the heap
        # when smaller ones take their place: entrypoints/allocator.py.
        map_large_blocks()
        # Wake-ups for subscriptions (PostgreSQL: the LISTEN connection); closed, with every
        # open subscription, by services.close().
        await services.notifier.start()
        # Then the heads, followed from the notifier's wake-ups (stopped by services.close()).
        await _heads(services).start()
        services.warm()  # the dashboards' summaries, built in the background
        try:
            async with following(services.transparency, settings.log_follow_interval):
                yield
        finally:
            await services.close()
            traced.shutdown()

    return lifespan


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _home(request: Request) -> Response:
    return RedirectResponse("/graphql")


def _routes(
    settings: Settings, holder: dict[str, Services], graphql: PlanGraphQL, metrics: Metrics
) -> list[BaseRoute]:
    return [
        # First: the busiest route, matched before the others are tried.
        Route("/graphql", graphql),  # every method: the view answers 405 itself, as JSON
        Route("/", _home),
        Route("/healthz", _health),
        *([Route("/metrics", metrics.endpoint)] if settings.metrics else []),
        Route("/plans/{plan_id}/document", document_endpoint(lambda: holder["app"].plans)),
        Route("/plans/{plan_id}/diff", diff_endpoint(lambda: holder["app"].plans)),
        Route(
            "/plans/{plan_id}/translations",
            translations_endpoint(lambda: holder["app"].plans),
            methods=["GET", "POST"],
        ),
        Route(
            "/plans/{plan_id}/kpis/{kpi_id}/readings",
            readings_endpoint(lambda: holder["app"].readings),
            methods=["GET"],
        ),
        Route(
            "/proposals/{proposal_id}/document",
            proposal_document_endpoint(lambda: holder["app"].proposals),
        ),
        Route(
            "/plans/{plan_id}/kpis/{kpi_id}/series",
            series_endpoint(lambda: holder["app"].readings),
            methods=["GET", "HEAD"],
        ),
        Route(
            "/plans/{plan_id}/sdmx/structure",
            structure_endpoint(lambda: holder["app"].plans),
            methods=["GET", "HEAD"],
        ),
        Route(
            "/ingest/readings",
            ingest_endpoint(lambda: holder["app"].readings, max_body=settings.max_ingest_bytes),
            methods=["POST"],
        ),
        Route("/events", events_endpoint(lambda: holder["app"].feed), methods=["GET"]),
        WebSocketRoute("/graphql", graphql),
    ]


def _add_middleware(
    app: PlanApp,
    settings: Settings,
    holder: dict[str, Services],
    door: Limits,
    metrics: Metrics,
    graphql: PlanGraphQL,
) -> None:
    def authenticator() -> Authenticator:
        return _authenticator(holder["app"])

    # Inside the request id (its refusals carry it), around everything else (docs/security.md).
    app.add_middleware(AccessMiddleware, authenticator=authenticator, limits=door)
    # Outside the door: preflights need no credentials, refusals carry the CORS grant.
    origins = allowed_origins(settings.cors_origins)
    app.add_middleware(CorsMiddleware, origins=origins)
    ids = RequestIds()
    app.add_middleware(RequestIdMiddleware, ids=ids)
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    # In front of them all: the response cache's hits, doing what each of them would do.
    if settings.response_cache_hit_layer and graphql.caching.cache is not None:
        app.front = partial(
            HitLayer,
            hits=graphql.hits,
            authenticator=authenticator,
            limits=door,
            origins=origins,
            ids=ids,
            metrics=metrics,
        )


def _transparency(services: Services) -> Transparency:
    assert services.transparency is not None
    return services.transparency


def log_routes(service: Callable[[], Transparency]) -> list[Route]:
    return [
        Route(path, endpoint, methods=["POST"] if path == "/log/check" else ["GET", "HEAD"])
        for path, endpoint in log_endpoints(service).items()
    ]
