"""Strategy's composition root."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from foxtrot.common.publishing import Publisher
from foxtrot.common.runtime import ServiceRuntime
from foxtrot.strategy import handlers
from foxtrot.strategy.adapters.backtest_store import SqlBacktestStore
from foxtrot.strategy.adapters.execution_state import ExecutionState, NatsExecutionState
from foxtrot.strategy.adapters.instance_store import SqlInstanceStore
from foxtrot.strategy.adapters.tables import SCHEMA
from foxtrot.strategy.backtests import BacktestService
from foxtrot.strategy.config import StrategySettings
from foxtrot.strategy.instance import Hosting
from foxtrot.strategy.migrations import MIGRATIONS
from foxtrot.strategy.service import StrategyService

__all__ = ["MIGRATIONS", "SCHEMA", "create_app"]

log = logging.getLogger(__name__)


def create_app(
    settings: StrategySettings | None = None, *, execution: ExecutionState | None = None
) -> FastAPI:
    """Host the strategy instances on NATS and PostgreSQL, run backtests, and serve the ops
    endpoints. ``execution`` stands in for execution's query subjects (tests)."""
    settings = settings or StrategySettings()
    runtime = ServiceRuntime.create("strategy", settings, database=True)
    assert runtime.engine is not None
    hosting = Hosting(
        feeds=runtime.consumers,
        publish=Publisher(runtime.broker),
        store=SqlInstanceStore(runtime.engine),
        execution=execution or NatsExecutionState(runtime.broker, settings.snapshot_timeout_s),
        fill_wait_s=settings.fill_wait_s,
        save_backlog=settings.save_backlog,
    )
    service = StrategyService(hosting, settings)
    backtests = BacktestService(SqlBacktestStore(runtime.engine), settings.backtest_workers)
    handlers.register(runtime.consumers, service, backtests)
    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        await backtests.resume()
        for work, name in (
            (service.restore_all(), "strategy-restore"),
            (service.run_saves(), "strategy-saves"),
            (service.run_timers(), "strategy-timers"),
        ):
            task = asyncio.create_task(work, name=name)
            task.add_done_callback(_log_failure)
            tasks.append(task)

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await service.close()
        await backtests.close()

    runtime.on_start.append(start)
    runtime.on_stop.append(stop)
    # Ready once every instance was rebuilt and has tried execution for its orders.
    runtime.ready_checks["instances"] = lambda: (
        "ok" if service.restored.is_set() else "restoring the strategy instances"
    )
    return runtime.app()


def _log_failure(task: asyncio.Task[None]) -> None:
    """A background task that ends by an error says so (readiness then stays failing if it
    was the restore)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("%s failed", task.get_name(), exc_info=task.exception())
