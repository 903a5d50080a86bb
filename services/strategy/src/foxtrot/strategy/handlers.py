"""Strategy's request/reply subjects: control of its instances and backtests
(``ctl.v1.strategy.*``) and the queries about them (``qry.v1.strategy.*``).

The instances' own subscriptions (market data, order events, balances) are made at run
time by each instance (:mod:`foxtrot.strategy.instance`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel

from foxtrot.common import subjects
from foxtrot.common.consumers import Consumers
from foxtrot.common.messages.v1 import (
    AvailableStrategiesQuery,
    BacktestQuery,
    BacktestsQuery,
    QueryFailed,
    ReloadStrategy,
    RemoveStrategy,
    ResetStrategy,
    RunBacktest,
    StartStrategy,
    StopStrategy,
    StrategyInstanceReply,
    StrategyInstancesQuery,
    StrategyInstanceView,
)
from foxtrot.strategy.backtests import BacktestService
from foxtrot.strategy.service import Refused, StrategyService

__all__ = ["register"]

Q = TypeVar("Q", bound=BaseModel)
log = logging.getLogger(__name__)
_DEFAULT_MAX_PAYLOAD = 1024 * 1024


def _failed(error: str) -> QueryFailed:
    # What Consumers.respond answers itself: a request that did not decode, or a failure.
    return QueryFailed(error=error, code="INVALID" if error.startswith("bad request") else None)


def register(consumers: Consumers, service: StrategyService, backtests: BacktestService) -> None:
    """Answer the control and query subjects of the strategy service."""

    def answer(
        subject: str,
        decode: Callable[[bytes], Q],
        respond: Callable[[Q], Awaitable[BaseModel]],
    ) -> None:
        async def guarded(request: Q) -> BaseModel:
            try:
                return await respond(request)
            except Refused as exc:
                log.info("refused %s: %s", subject, exc)
                return QueryFailed(error=str(exc), code=exc.code)

        consumers.respond(subject, decode=decode, respond=guarded, error_reply=_failed)

    def control(
        subject: str,
        decode: Callable[[bytes], Q],
        act: Callable[[Q], Awaitable[StrategyInstanceView]],
    ) -> None:
        async def respond(request: Q) -> BaseModel:
            return StrategyInstanceReply(instance=await act(request))

        answer(subject, decode, respond)

    control(subjects.STRATEGY_START, StartStrategy.model_validate_json, service.start)
    control(subjects.STRATEGY_STOP, StopStrategy.model_validate_json, service.stop)
    control(subjects.STRATEGY_RELOAD, ReloadStrategy.model_validate_json, service.reload)
    control(subjects.STRATEGY_RESET, ResetStrategy.model_validate_json, service.reset)
    control(subjects.STRATEGY_REMOVE, RemoveStrategy.model_validate_json, service.remove)

    async def instances(query: StrategyInstancesQuery) -> BaseModel:
        return await service.list(query)

    async def available(_: AvailableStrategiesQuery) -> BaseModel:
        return service.available()

    async def backtest(query: BacktestQuery) -> BaseModel:
        connection = consumers.broker.connection
        max_payload = getattr(connection, "max_payload", None) or _DEFAULT_MAX_PAYLOAD
        # Room for the reply's headers (the trace context) besides its body.
        reply = await backtests.get(query, max_payload - 4096)
        if reply is None:
            raise Refused(f"no backtest {query.backtest_id}", "NOT_FOUND")
        return reply

    answer(subjects.QRY_STRATEGY_INSTANCES, StrategyInstancesQuery.model_validate_json, instances)
    answer(subjects.QRY_STRATEGY_AVAILABLE, AvailableStrategiesQuery.model_validate_json, available)
    answer(subjects.STRATEGY_RUN_BACKTEST, RunBacktest.model_validate_json, backtests.submit)
    answer(subjects.QRY_STRATEGY_BACKTESTS, BacktestsQuery.model_validate_json, backtests.list)
    answer(subjects.QRY_STRATEGY_BACKTEST, BacktestQuery.model_validate_json, backtest)
