"""``/v1/strategies``: the strategy instances the strategy service hosts, and their control.

Each change is a request the strategy service answers once it has made it (the instance
as it now is), and records on ``evt.v1.strategy.{strategy_id}``. Every change names its
operator (``X-Foxtrot-Operator``). An unknown instance is 404, a bad strategy or config
422, and a change the instance's state forbids (removing a running one) 409.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, status
from pydantic import BaseModel

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    AvailableStrategiesQuery,
    AvailableStrategiesReply,
    AvailableStrategy,
    ReloadStrategy,
    RemoveStrategy,
    ResetStrategy,
    StartStrategy,
    StopStrategy,
    StrategyInstanceReply,
    StrategyInstancesQuery,
    StrategyInstancesReply,
    StrategyInstanceView,
)
from foxtrot.core.strategy import StrategyState
from foxtrot.gateway.api.deps import BrokerDep, OperatorDep, SettingsDep
from foxtrot.gateway.api.schemas import StrategyRequest
from foxtrot.gateway.service import ask

router = APIRouter(prefix="/v1/strategies", tags=["strategies"])

StrategyIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_\-]+$", max_length=36)]


async def _control(
    broker: BrokerDep, settings: SettingsDep, subject: str, request: BaseModel
) -> StrategyInstanceView:
    reply = await ask(
        broker, "strategy", subject, request, StrategyInstanceReply, settings.control_timeout_s
    )
    return reply.instance


@router.get("", summary="Every hosted strategy instance, or those in one state")
async def list_strategies(
    broker: BrokerDep, settings: SettingsDep, state: StrategyState | None = None
) -> list[StrategyInstanceView]:
    reply = await ask(
        broker,
        "strategy",
        subjects.QRY_STRATEGY_INSTANCES,
        StrategyInstancesQuery(state=state),
        StrategyInstancesReply,
        settings.query_timeout_s,
    )
    return list(reply.instances)


@router.get("/available", summary="The strategy classes installed (entry points)")
async def available_strategies(broker: BrokerDep, settings: SettingsDep) -> list[AvailableStrategy]:
    reply = await ask(
        broker,
        "strategy",
        subjects.QRY_STRATEGY_AVAILABLE,
        AvailableStrategiesQuery(),
        AvailableStrategiesReply,
        settings.query_timeout_s,
    )
    return list(reply.strategies)


@router.get("/{strategy_id}", summary="One instance: state, fault, positions, open orders")
async def get_strategy(
    strategy_id: StrategyIdPath, broker: BrokerDep, settings: SettingsDep
) -> StrategyInstanceView:
    reply = await ask(
        broker,
        "strategy",
        subjects.QRY_STRATEGY_INSTANCES,
        StrategyInstancesQuery(strategy_id=strategy_id),
        StrategyInstancesReply,
        settings.query_timeout_s,
    )
    if not reply.instances:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no strategy instance {strategy_id}")
    return reply.instances[0]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create and start an instance of a strategy with its config",
)
async def create_strategy(
    request: StrategyRequest, operator: OperatorDep, broker: BrokerDep, settings: SettingsDep
) -> StrategyInstanceView:
    start = StartStrategy(
        strategy_id=request.config.get("strategy_id"),
        strategy=request.strategy,
        config=request.config,
        requested_by=operator,
    )
    return await _control(broker, settings, subjects.STRATEGY_START, start)


@router.post("/{strategy_id}/start", summary="Start a stopped instance again")
async def start_strategy(
    strategy_id: StrategyIdPath, operator: OperatorDep, broker: BrokerDep, settings: SettingsDep
) -> StrategyInstanceView:
    start = StartStrategy(strategy_id=strategy_id, requested_by=operator)
    return await _control(broker, settings, subjects.STRATEGY_START, start)


@router.post("/{strategy_id}/stop", summary="Stop an instance (its state is kept)")
async def stop_strategy(
    strategy_id: StrategyIdPath, operator: OperatorDep, broker: BrokerDep, settings: SettingsDep
) -> StrategyInstanceView:
    stop = StopStrategy(strategy_id=strategy_id, requested_by=operator)
    return await _control(broker, settings, subjects.STRATEGY_STOP, stop)


@router.post(
    "/{strategy_id}/reload",
    summary="Re-import the strategy's code (and take a new config) without a restart",
)
async def reload_strategy(
    strategy_id: StrategyIdPath,
    operator: OperatorDep,
    broker: BrokerDep,
    settings: SettingsDep,
    config: Annotated[dict[str, Any] | None, Body(embed=True)] = None,
) -> StrategyInstanceView:
    reload = ReloadStrategy(strategy_id=strategy_id, config=config, requested_by=operator)
    return await _control(broker, settings, subjects.STRATEGY_RELOAD, reload)


@router.post("/{strategy_id}/reset", summary="Clear a fault and what the strategy learnt")
async def reset_strategy(
    strategy_id: StrategyIdPath, operator: OperatorDep, broker: BrokerDep, settings: SettingsDep
) -> StrategyInstanceView:
    reset = ResetStrategy(strategy_id=strategy_id, requested_by=operator)
    return await _control(broker, settings, subjects.STRATEGY_RESET, reset)


@router.delete("/{strategy_id}", summary="Remove a stopped instance and its saved state")
async def remove_strategy(
    strategy_id: StrategyIdPath, operator: OperatorDep, broker: BrokerDep, settings: SettingsDep
) -> StrategyInstanceView:
    remove = RemoveStrategy(strategy_id=strategy_id, requested_by=operator)
    return await _control(broker, settings, subjects.STRATEGY_REMOVE, remove)
