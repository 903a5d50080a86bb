"""Risk's composition root."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from foxtrot.common.publishing import PipelinedPublisher, Publisher
from foxtrot.common.runtime import ServiceRuntime
from foxtrot.common.streams import COMMANDS, EVENTS
from foxtrot.risk import handlers
from foxtrot.risk.adapters.tables import SCHEMA
from foxtrot.risk.config import RiskSettings
from foxtrot.risk.migrations import MIGRATIONS
from foxtrot.risk.service import RiskService

__all__ = ["MIGRATIONS", "SCHEMA", "create_app"]


def create_app(settings: RiskSettings | None = None) -> FastAPI:
    """Wire the risk gate to NATS and PostgreSQL and serve its ops endpoints."""
    settings = settings or RiskSettings()
    runtime = ServiceRuntime.create("risk", settings, database=True)
    assert runtime.engine is not None
    service = RiskService(runtime.engine, settings.account_id)
    connection = lambda: runtime.broker.connection  # noqa: E731
    wiring = handlers.Wiring(
        Publisher(runtime.broker),
        PipelinedPublisher(connection, COMMANDS),
        PipelinedPublisher(connection, EVENTS),
    )
    on_event = handlers.register(runtime.consumers, service, wiring, settings.state_wait_s)
    background: set[asyncio.Task[None]] = set()

    async def start() -> None:
        await handlers.start(
            runtime.consumers,
            service,
            settings.initial_limits(),
            settings.snapshot_timeout_s,
            settings.snapshot_retry_s,
            background,
            on_event,
        )

    async def stop() -> None:
        for task in background:
            task.cancel()

    runtime.before_subscribe.append(start)
    # Ready once risk knows what execution holds: until then it would deny every order.
    runtime.ready_checks["execution state"] = lambda: (
        f"waiting for {missing}"
        if (missing := service.book.unknown())
        else ("ok" if service.following else "waiting for execution's events")
    )
    runtime.on_stop.append(stop)
    return runtime.app()
