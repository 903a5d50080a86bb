"""Market data's composition root."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import FastAPI

from foxtrot.common.publishing import Publisher
from foxtrot.common.runtime import ServiceRuntime
from foxtrot.market_data import handlers
from foxtrot.market_data.config import MarketDataSettings
from foxtrot.market_data.service import Ingestor, Replayer, open_replay

__all__ = ["create_app"]


def create_app(settings: MarketDataSettings | None = None) -> FastAPI:
    """Wire ingest and replay to NATS and serve the ops endpoints."""
    settings = settings or MarketDataSettings()
    runtime = ServiceRuntime.create("market_data", settings)
    publish = Publisher(runtime.broker)
    handlers.register(runtime.consumers, Ingestor(publish))
    tasks: list[asyncio.Task[None]] = []

    if settings.replay_source:
        replayer = Replayer(
            publish,
            open_replay(settings),
            settings.replay_speed,
            settings.replay_limit,
            settings.replay_source,
        )

        async def start_replay() -> None:
            tasks.append(asyncio.create_task(replayer.run(), name="replay"))

        async def stop_replay() -> None:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

        runtime.on_start.append(start_replay)
        runtime.on_stop.append(stop_replay)
    return runtime.app()
