"""The NATS broker every service uses, with tracing and Prometheus middlewares installed."""

from __future__ import annotations

import logging

from faststream.nats import NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.nats.prometheus import NatsPrometheusMiddleware
from nats.js import JetStreamContext
from opentelemetry.trace import TracerProvider
from prometheus_client import REGISTRY, CollectorRegistry

from foxtrot.common.settings import ServiceSettings

__all__ = ["inbox_prefix", "jetstream", "make_broker"]


def make_broker(
    service: str,
    settings: ServiceSettings,
    tracer_provider: TracerProvider | None = None,
    registry: CollectorRegistry = REGISTRY,
) -> NatsBroker:
    """A broker named after the service, traced and metered.

    FastStream's own per-message INFO log is off unless ``FOXTROT_LOG_EACH_MESSAGE`` is set:
    it costs a large share of throughput and the dead-letter path logs what matters.
    """
    return NatsBroker(
        settings.nats_servers(),
        name=f"foxtrot-{service}",
        logger=logging.getLogger(f"faststream.{service}") if settings.log_each_message else None,
        middlewares=(
            NatsTelemetryMiddleware(tracer_provider=tracer_provider),
            NatsPrometheusMiddleware(
                registry=registry, app_name=f"foxtrot-{service}", metrics_prefix="foxtrot"
            ),
        ),
        # Replies come back on the service's own inbox subjects, which only its NATS user
        # may subscribe to (see foxtrot.common.access).
        inbox_prefix=inbox_prefix(service),
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        graceful_timeout=10.0,
    )


def inbox_prefix(service: str) -> str:
    """The prefix of the service's reply subjects: ``_INBOX.{service}``."""
    return f"_INBOX.{service}"


def jetstream(broker: NatsBroker) -> JetStreamContext:
    """The JetStream context of a started broker's connection."""
    return broker.connection.jetstream()
