"""Risk's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from foxtrot.common.publishing import PipelinedPublisher, Publisher
from foxtrot.common.runtime import ServiceRuntime
from foxtrot.common.streams import COMMANDS
from foxtrot.risk import handlers
from foxtrot.risk.config import RiskSettings
from foxtrot.risk.service import RiskGate

__all__ = ["create_app"]


def create_app(settings: RiskSettings | None = None) -> FastAPI:
    """Wire the risk gate to NATS and serve its ops endpoints."""
    settings = settings or RiskSettings()
    runtime = ServiceRuntime.create("risk", settings)
    handlers.register(
        runtime.consumers,
        RiskGate(settings.limits()),
        Publisher(runtime.broker),
        PipelinedPublisher(lambda: runtime.broker.connection, COMMANDS),
    )
    return runtime.app()
