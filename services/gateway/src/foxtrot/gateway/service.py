"""Gateway's use cases: submit manual orders, switch trading states and change limits through
risk; ask the services for state."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from fastapi import HTTPException, status
from faststream.nats import NatsBroker
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from pydantic import BaseModel, ValidationError

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import QueryFailed, SetRiskLimits, SetTradingState, SubmitOrder
from foxtrot.common.publishing import Publisher, now_ns
from foxtrot.common.streams import COMMANDS
from foxtrot.gateway.api.schemas import LimitsChange, OrderRequest, TradingStateRequest

__all__ = ["ask", "set_risk_limits", "set_trading_state", "submit_order", "validated"]

R = TypeVar("R", bound=BaseModel)
M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], **fields: Any) -> M:
    """``model`` built from an HTTP request's fields; a 422 naming each bad field if not."""
    try:
        return model(**fields)
    except ValidationError as exc:
        detail = exc.errors(include_url=False, include_context=False, include_input=False)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail) from None


async def submit_order(
    broker: NatsBroker, request: OrderRequest, default_account: str
) -> SubmitOrder:
    """Turn a manual order into SubmitOrder on cmd.v1.risk.submit_order."""
    now = now_ns()
    client_order_id = request.client_order_id or f"M-{uuid.uuid4().hex[:20]}"
    fields = request.model_dump(exclude={"client_order_id", "account_id"})
    command = validated(
        SubmitOrder,
        client_order_id=client_order_id,
        account_id=request.account_id or default_account,
        ts_event=now,
        ts_init=now,
        **fields,
    )
    await Publisher(broker)(subjects.RISK_SUBMIT_ORDER, command, COMMANDS)
    return command


async def set_trading_state(
    broker: NatsBroker, request: TradingStateRequest, operator: str
) -> SetTradingState:
    """Turn a kill-switch request into SetTradingState on cmd.v1.risk.set_trading_state."""
    now = now_ns()
    command = validated(
        SetTradingState, ts_event=now, ts_init=now, requested_by=operator, **request.model_dump()
    )
    await Publisher(broker)(subjects.RISK_SET_TRADING_STATE, command, COMMANDS)
    return command


async def set_risk_limits(
    broker: NatsBroker, request: LimitsChange, operator: str
) -> SetRiskLimits:
    """Turn a limits change into SetRiskLimits on cmd.v1.risk.set_limits."""
    now = now_ns()
    command = validated(
        SetRiskLimits, ts_event=now, ts_init=now, requested_by=operator, **request.model_dump()
    )
    await Publisher(broker)(subjects.RISK_SET_LIMITS, command, COMMANDS)
    return command


async def ask(
    broker: NatsBroker,
    service: str,
    subject: str,
    query: BaseModel,
    reply_type: type[R],
    timeout: float,
) -> R:
    """Request/reply to a service; 503 when it does not answer, 502 when it fails."""
    try:
        reply = await broker.request(query.model_dump_json().encode(), subject, timeout=timeout)
    except (NatsTimeoutError, NoRespondersError, TimeoutError):
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"{service} did not answer {subject} within {timeout}s",
        ) from None
    body = reply.body
    try:
        return reply_type.model_validate_json(body)
    except ValidationError:
        try:
            failed = QueryFailed.model_validate_json(body)
        except ValidationError:
            raise HTTPException(
                status.HTTP_502_BAD_GATEWAY, detail=f"{service} sent an unreadable reply"
            ) from None
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=failed.error) from None
