"""``/v1/orders``: list orders; submit, modify and cancel manual orders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    CancelOrder,
    ModifyOrder,
    OrdersQuery,
    OrdersReply,
    OrderView,
)
from foxtrot.common.publishing import Publisher, now_ns
from foxtrot.common.streams import COMMANDS
from foxtrot.core.enums import OrderStatus
from foxtrot.gateway.api.deps import BrokerDep, SettingsDep
from foxtrot.gateway.api.schemas import ChangeAccepted, OrderAccepted, OrderChange, OrderRequest
from foxtrot.gateway.service import ask, submit_order, validated

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


ClientOrderIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_\-:.]+$", max_length=64)]


async def _open_order(broker: BrokerDep, settings: SettingsDep, client_order_id: str) -> OrderView:
    """The order as execution knows it: 404 if unknown, 409 if it is no longer open."""
    reply = await ask(
        broker,
        "execution",
        subjects.QRY_EXEC_ORDERS,
        OrdersQuery(client_order_id=client_order_id, limit=1),
        OrdersReply,
        settings.query_timeout_s,
    )
    if not reply.orders:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"execution knows no order {client_order_id!r}"
        )
    order = reply.orders[0]
    if order.status.is_terminal:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"order {client_order_id!r} is {order.status}: it can no longer change",
        )
    return order


async def _send_change(
    broker: BrokerDep,
    order: OrderView,
    kind: type[ModifyOrder | CancelOrder],
    subject: str,
    sent: str,
    **change: Any,
) -> ChangeAccepted:
    """Send a modify or cancel of ``order`` and say it went."""
    now = now_ns()
    command = validated(
        kind,
        client_order_id=order.client_order_id,
        strategy_id=order.strategy_id,
        instrument_id=order.instrument_id,
        ts_event=now,
        ts_init=now,
        **change,
    )
    await Publisher(broker)(subject, command, COMMANDS)
    return ChangeAccepted(
        client_order_id=order.client_order_id, message_id=str(command.message_id), status=sent
    )


@router.patch(
    "/{client_order_id}",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Modify a working order's quantity or prices through risk",
)
async def modify_order(
    client_order_id: ClientOrderIdPath,
    change: OrderChange,
    broker: BrokerDep,
    settings: SettingsDep,
) -> ChangeAccepted:
    order = await _open_order(broker, settings, client_order_id)
    return await _send_change(
        broker, order, ModifyOrder, subjects.RISK_MODIFY_ORDER, "MODIFY_SENT", **change.model_dump()
    )


@router.delete(
    "/{client_order_id}",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Cancel a working order",
)
async def cancel_order(
    client_order_id: ClientOrderIdPath, broker: BrokerDep, settings: SettingsDep
) -> ChangeAccepted:
    order = await _open_order(broker, settings, client_order_id)
    return await _send_change(broker, order, CancelOrder, subjects.EXEC_CANCEL_ORDER, "CANCEL_SENT")
