"""Strategy's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from foxtrot.common.publishing import Publisher
from foxtrot.common.runtime import ServiceRuntime
from foxtrot.core.strategies.sma_cross import SmaCross
from foxtrot.strategy import handlers
from foxtrot.strategy.config import StrategySettings
from foxtrot.strategy.service import StrategyHost

__all__ = ["create_app"]


def create_app(settings: StrategySettings | None = None) -> FastAPI:
    """Host the sample strategy on NATS and serve the ops endpoints."""
    settings = settings or StrategySettings()
    runtime = ServiceRuntime.create("strategy", settings)
    host = StrategyHost(SmaCross(settings.sma_cross()), Publisher(runtime.broker))
    handlers.register(runtime.consumers, host, settings)
    return runtime.app()
