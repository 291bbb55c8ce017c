"""OpenTelemetry spans per GraphQL operation (parse, validate, execute), off by default.

`PLANAPI_TRACING=console` prints spans on stdout (to try it out); `otlp` exports them over
OTLP/HTTP, configured by the standard variables (`OTEL_EXPORTER_OTLP_ENDPOINT`,
`OTEL_SERVICE_NAME`, ...). OpenTelemetry is an optional extra: `pip install 'planapi[tracing]'`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


class TracingUnavailableError(RuntimeError):
    """Tracing was asked for, but OpenTelemetry is not installed."""


@dataclass
class Tracing:
    """The schema extensions to add, and what to flush when the process stops."""

    extensions: list[Any] = field(default_factory=list)
    provider: Any = None

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()


def tracing(mode: str) -> Tracing:
    if mode == "off":
        return Tracing()
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            ConsoleSpanExporter,
            SimpleSpanProcessor,
        )
        from strawberry.extensions import SchemaExtension
        from strawberry.extensions.tracing import OpenTelemetryExtension

        if mode == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as missing:
        raise TracingUnavailableError(
            f"PLANAPI_TRACING={mode} needs OpenTelemetry, which is not installed "
            f"(no module {missing.name!r}): install the extra with "
            "`pip install 'planapi[tracing]'`, or set PLANAPI_TRACING=off"
        ) from missing

    # OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES name the service when set.
    named = "OTEL_SERVICE_NAME" in os.environ or "service.name" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    resource = Resource.create({} if named else {"service.name": "planapi"})
    provider = TracerProvider(resource=resource)
    processor: SpanProcessor
    if mode == "console":
        processor = SimpleSpanProcessor(ConsoleSpanExporter())
    else:
        processor = BatchSpanProcessor(OTLPSpanExporter())
    provider.add_span_processor(processor)

    class OperationTracing(OpenTelemetryExtension):
        """Spans for the operation and its phases, none per field: a whole-plan query resolves
        thousands of fields, and a span each would cost more than the query."""

        resolve = SchemaExtension.resolve  # type: ignore[assignment]

    return Tracing([lambda: OperationTracing(tracer_provider=provider)], provider)
