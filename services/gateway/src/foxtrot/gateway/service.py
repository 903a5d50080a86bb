"""Gateway's use cases: submit manual orders, switch trading states and change limits through
risk; ask the services for state."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from fastapi import HTTPException, status
from faststream.nats import NatsBroker
from pydantic import BaseModel, ValidationError

from foxtrot.common import queries, subjects
from foxtrot.common.errors import QueryError, QueryUnanswered
from foxtrot.common.messages.v1 import SetRiskLimits, SetTradingState, SubmitOrder
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


# A refusal that is the asker's doing is answered as such, not as the gateway's failure.
_ASKER_AT_FAULT = {
    "NOT_FOUND": status.HTTP_404_NOT_FOUND,
    "INVALID": status.HTTP_422_UNPROCESSABLE_ENTITY,
    "CONFLICT": status.HTTP_409_CONFLICT,
}


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
        return await queries.ask(broker, subject, query, reply_type, timeout)
    except QueryUnanswered:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"{service} did not answer {subject} within {timeout}s",
        ) from None
    except QueryError as exc:
        # A QueryFailed's error is the service's own words; an unreadable reply is named.
        detail = f"{service}: {exc}" if exc.unreadable else str(exc)
        code = _ASKER_AT_FAULT.get(exc.code or "", status.HTTP_502_BAD_GATEWAY)
        raise HTTPException(code, detail=detail) from None
