"""Gateway's composition root: the public HTTP API."""

from __future__ import annotations

from fastapi import FastAPI

from foxtrot.common.runtime import ServiceRuntime
from foxtrot.gateway.api.routes import (
    accounts,
    backtests,
    bars,
    instruments,
    orders,
    positions,
    quality,
    risk,
    strategies,
)
from foxtrot.gateway.config import GatewaySettings

__all__ = ["create_app"]


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """The API app; its lifespan connects the broker."""
    settings = settings or GatewaySettings()
    runtime = ServiceRuntime.create("gateway", settings)
    app = runtime.app(title="Foxtrot API")
    app.state.broker = runtime.broker
    app.state.settings = settings
    app.include_router(orders.router)
    app.include_router(positions.router)
    app.include_router(accounts.router)
    app.include_router(bars.router)
    app.include_router(quality.router)
    app.include_router(instruments.router)
    app.include_router(risk.router)
    app.include_router(strategies.router)
    app.include_router(backtests.router)
    return app
