"""Market data's composition root."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from foxtrot.common.publishing import Publisher
from foxtrot.common.runtime import ServiceRuntime
from foxtrot.market_data import handlers
from foxtrot.market_data.config import MarketDataSettings
from foxtrot.market_data.service import Ingestor, Replayer, open_replay

__all__ = ["create_app"]

log = logging.getLogger(__name__)


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
            task = asyncio.create_task(replayer.run(), name="replay")
            task.add_done_callback(_report_failure)
            tasks.append(task)

        async def stop_replay() -> None:
            for task in tasks:
                if task.done():
                    continue  # finished, or failed and already reported
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

        runtime.on_start.append(start_replay)
        runtime.on_stop.append(stop_replay)
    return runtime.app()


def _report_failure(task: asyncio.Task[None]) -> None:
    # A replay that dies (a bad row, NATS gone for good) must say so, not vanish.
    if not task.cancelled() and task.exception() is not None:
        log.error("replay failed after a bad record or publish", exc_info=task.exception())
