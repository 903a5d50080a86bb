"""Execution's composition root."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI

from foxtrot.common.publishing import PipelinedPublisher
from foxtrot.common.runtime import ServiceRuntime
from foxtrot.common.streams import EVENTS
from foxtrot.execution import handlers
from foxtrot.execution.adapters.tables import SCHEMA
from foxtrot.execution.config import ExecutionSettings
from foxtrot.execution.service import ExecutionService, Ticker
from foxtrot.execution.venues import LiveVenue

__all__ = ["MIGRATIONS", "SCHEMA", "create_app"]

MIGRATIONS = str(files("foxtrot.execution") / "migrations")


def create_app(settings: ExecutionSettings | None = None) -> FastAPI:
    """Wire order management to NATS and PostgreSQL and serve its ops endpoints."""
    settings = settings or ExecutionSettings()
    runtime = ServiceRuntime.create("execution", settings, database=True)
    assert runtime.engine is not None
    service = ExecutionService(
        runtime.engine,
        settings.venue_factory(),
        PipelinedPublisher(lambda: runtime.broker.connection, EVENTS).send,
        settings.account_id,
        settings.opening_balances(),
    )
    handlers.register(runtime.consumers, service)
    live = service.venue if isinstance(service.venue, LiveVenue) else None
    clock = Ticker(service.tick, settings.tick_interval_s, live.events_ready if live else None)
    runtime.on_start.append(clock.start)
    runtime.on_stop.append(clock.stop)
    runtime.on_stop.append(service.stop)
    # Before the subscribers take commands: the market's latest state, resting orders back
    # on the book, events a crash left unpublished sent out, the books reconciled.
    runtime.before_subscribe.append(lambda: handlers.start(runtime.consumers, service))
    return runtime.app()
