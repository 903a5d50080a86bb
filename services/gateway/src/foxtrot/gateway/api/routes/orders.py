"""``/v1/orders``: list orders, submit a manual order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import OrdersQuery, OrdersReply, OrderView
from foxtrot.core.enums import OrderStatus
from foxtrot.gateway.api.deps import BrokerDep, SettingsDep
from foxtrot.gateway.api.schemas import OrderAccepted, OrderRequest
from foxtrot.gateway.service import ask, submit_order

router = APIRouter(prefix="/v1/orders", tags=["orders"])


@router.get("", summary="Orders, newest first")
async def list_orders(
    broker: BrokerDep,
    settings: SettingsDep,
    strategy_id: str | None = None,
    instrument_id: str | None = None,
    order_status: Annotated[OrderStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_seq: Annotated[int | None, Query(ge=1)] = None,
) -> list[OrderView]:
    query = OrdersQuery(
        strategy_id=strategy_id,
        instrument_id=instrument_id,
        status=order_status,
        limit=limit,
        before_seq=before_seq,
    )
    reply = await ask(
        broker, "execution", subjects.QRY_EXEC_ORDERS, query, OrdersReply, settings.query_timeout_s
    )
    return list(reply.orders)


@router.post("", status_code=status.HTTP_202_ACCEPTED, summary="Submit a manual order through risk")
async def create_order(
    request: OrderRequest, broker: BrokerDep, settings: SettingsDep
) -> OrderAccepted:
    command = await submit_order(broker, request, settings.default_account_id)
    return OrderAccepted(
        client_order_id=command.client_order_id, message_id=str(command.message_id)
    )
