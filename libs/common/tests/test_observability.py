"""JSON logs carry trace ids; tracing exports where the standard OTEL_* variables say."""

from __future__ import annotations

import io
import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from foxtrot.common.errors import ConfigurationError
from foxtrot.common.logs import JsonFormatter
from foxtrot.common.settings import ServiceSettings
from foxtrot.common.telemetry import setup_tracing


def _log_line(logger_name: str, **extra: object) -> dict[str, object]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("risk"))
    logger = logging.getLogger(logger_name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.info("denied %s", "o-1", extra=extra)
    parsed: dict[str, object] = json.loads(stream.getvalue())
    return parsed


def test_a_log_line_is_one_json_object_with_service_level_and_extras() -> None:
    line = _log_line("test.logs.plain", client_order_id="o-1")
    assert line["msg"] == "denied o-1"
    assert (line["service"], line["level"]) == ("risk", "INFO")
    assert line["client_order_id"] == "o-1"
    assert "trace_id" not in line
    assert str(line["ts"]).endswith("Z")


def test_a_log_line_inside_a_span_carries_its_trace_and_span_ids() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("handle") as span:
        line = _log_line("test.logs.traced")
        context = span.get_span_context()
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")


def _processors(provider: TracerProvider) -> list[object]:
    return list(provider._active_span_processor._span_processors)


def test_spans_are_not_exported_without_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_EXPORTER", "OTEL_SERVICE_NAME"):
        monkeypatch.delenv(name, raising=False)
    provider = setup_tracing("risk", ServiceSettings())
    assert _processors(provider) == []
    assert provider.resource.attributes["service.name"] == "foxtrot-risk"


def test_spans_go_over_otlp_when_an_endpoint_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "risk-eu")
    provider = setup_tracing("risk", ServiceSettings())
    [processor] = _processors(provider)
    assert isinstance(processor, BatchSpanProcessor)
    assert type(processor.span_exporter).__name__ == "OTLPSpanExporter"
    assert provider.resource.attributes["service.name"] == "risk-eu"
    provider.shutdown()


def test_an_unknown_exporter_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(ConfigurationError, match="otlp, console or none, was 'zipkin'"):
        setup_tracing("risk", ServiceSettings())
