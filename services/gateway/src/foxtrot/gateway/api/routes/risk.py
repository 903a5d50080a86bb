"""``/v1/risk``: the kill switch, live limits, risk's decisions and its live PnL and exposure.

Changes go to risk as commands on JetStream and take effect when risk applies them: the
answer is 202 with the command sent, and the outcome shows in ``GET`` here and as
``evt.v1.risk.*`` events. Every change names its operator (``X-Foxtrot-Operator``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    DecisionsQuery,
    DecisionsReply,
    DecisionView,
    LimitChangesQuery,
    LimitChangesReply,
    LimitChangeView,
    LimitsQuery,
    LimitsReply,
    RiskStatusQuery,
    RiskStatusReply,
    SetRiskLimits,
    SetTradingState,
    TradingStatesQuery,
    TradingStatesReply,
    TradingStateView,
)
from foxtrot.gateway.api.deps import BrokerDep, OperatorDep, SettingsDep
from foxtrot.gateway.api.schemas import LimitsChange, TradingStateRequest
from foxtrot.gateway.service import ask, set_risk_limits, set_trading_state, validated

router = APIRouter(prefix="/v1/risk", tags=["risk"])

PageLimit = Annotated[int, Query(ge=1, le=1000)]


@router.post(
    "/trading-state",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Put an account, strategy or instrument in a trading state (the kill switch)",
)
async def change_trading_state(
    request: TradingStateRequest, operator: OperatorDep, broker: BrokerDep
) -> SetTradingState:
    return await set_trading_state(broker, request, operator)


@router.get("/trading-states", summary="The scopes that are not ACTIVE (every other scope is)")
async def trading_states(broker: BrokerDep, settings: SettingsDep) -> list[TradingStateView]:
    reply = await ask(
        broker,
        "risk",
        subjects.QRY_RISK_TRADING_STATES,
        TradingStatesQuery(),
        TradingStatesReply,
        settings.query_timeout_s,
    )
    return list(reply.states)


@router.get("/limits", summary="Every limit in force by name; null is off")
async def limits(broker: BrokerDep, settings: SettingsDep) -> dict[str, str | None]:
    reply = await ask(
        broker,
        "risk",
        subjects.QRY_RISK_LIMITS,
        LimitsQuery(),
        LimitsReply,
        settings.query_timeout_s,
    )
    return reply.limits


@router.patch(
    "/limits",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Change limits without a restart; null switches a limit off",
)
async def change_limits(
    change: LimitsChange, operator: OperatorDep, broker: BrokerDep
) -> SetRiskLimits:
    return await set_risk_limits(broker, change, operator)


@router.get("/limit-changes", summary="Who changed which limit, when and why; newest first")
async def limit_changes(
    broker: BrokerDep,
    settings: SettingsDep,
    name: Annotated[str | None, Query(examples=["max_position"])] = None,
    limit: PageLimit = 100,
) -> list[LimitChangeView]:
    query = validated(LimitChangesQuery, name=name, limit=limit)
    reply = await ask(
        broker,
        "risk",
        subjects.QRY_RISK_LIMIT_CHANGES,
        query,
        LimitChangesReply,
        settings.query_timeout_s,
    )
    return list(reply.changes)


@router.get("/decisions", summary="Risk's decisions on orders, with each rule's result")
async def decisions(
    broker: BrokerDep,
    settings: SettingsDep,
    client_order_id: str | None = None,
    strategy_id: str | None = None,
    denied_only: bool = False,
    before_id: Annotated[int | None, Query(ge=1, description="page: decisions before")] = None,
    limit: PageLimit = 100,
) -> list[DecisionView]:
    query = validated(
        DecisionsQuery,
        client_order_id=client_order_id,
        strategy_id=strategy_id,
        denied_only=denied_only,
        before_id=before_id,
        limit=limit,
    )
    reply = await ask(
        broker, "risk", subjects.QRY_RISK_DECISIONS, query, DecisionsReply, settings.query_timeout_s
    )
    return list(reply.decisions)


@router.get("/status", summary="Live PnL, drawdown, exposure and trading state per scope")
async def risk_status(broker: BrokerDep, settings: SettingsDep) -> RiskStatusReply:
    return await ask(
        broker,
        "risk",
        subjects.QRY_RISK_STATUS,
        RiskStatusQuery(),
        RiskStatusReply,
        settings.query_timeout_s,
    )
