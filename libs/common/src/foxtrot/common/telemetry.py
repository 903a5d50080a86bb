"""OpenTelemetry tracing set up from the standard ``OTEL_*`` variables."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

from foxtrot.common.errors import ConfigurationError
from foxtrot.common.settings import ServiceSettings

__all__ = ["setup_tracing"]


def setup_tracing(service: str, settings: ServiceSettings) -> TracerProvider:
    """Install the global tracer provider and its exporter.

    Spans are exported over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, to stdout
    with ``OTEL_TRACES_EXPORTER=console``, and nowhere otherwise (they still carry trace ids
    into logs and across NATS headers).
    """
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": settings.otel_service_name or f"foxtrot-{service}"}
        )
    )
    if not settings.otel_sdk_disabled:
        exporter_name = settings.otel_traces_exporter or (
            "otlp" if settings.otel_exporter_otlp_endpoint else "none"
        )
        if exporter_name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        elif exporter_name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        elif exporter_name != "none":
            raise ConfigurationError(
                f"OTEL_TRACES_EXPORTER must be otlp, console or none, was {exporter_name!r}"
            )
    trace.set_tracer_provider(provider)
    return provider
