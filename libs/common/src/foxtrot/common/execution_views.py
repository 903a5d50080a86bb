"""Execution's state as other services read it: its open orders, asked page by page over
``qry.v1.exec.orders``, and the domain objects behind its order and position views.

Risk starts its book from them and the strategy service restores an instance's view from
them; both read execution's answers the same way through this module.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from faststream.nats import NatsBroker

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import OrdersQuery, OrdersReply, OrderView, PositionView
from foxtrot.common.queries import ask
from foxtrot.core.enums import OrderStatus
from foxtrot.core.errors import InvalidOrder
from foxtrot.core.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    VenueOrderId,
)
from foxtrot.core.orders import Order, OrderSpec
from foxtrot.core.portfolio import Position

__all__ = ["OPEN_STATUSES", "fetch_open_orders", "order_of", "position_of", "spec_of"]

log = logging.getLogger(__name__)
_PAGE = 1000
# Orders that may still trade (or are on their way to the venue).
OPEN_STATUSES = (
    OrderStatus.SUBMITTED,
    OrderStatus.ACCEPTED,
    OrderStatus.TRIGGERED,
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.PENDING_UPDATE,
    OrderStatus.PENDING_CANCEL,
)


async def fetch_open_orders(
    broker: NatsBroker, timeout_s: float, strategy_id: str | None = None
) -> tuple[OrderView, ...]:
    """Every open order (of one strategy, if named), status by status and page by page,
    newest first within a status (QueryUnanswered or QueryError if execution cannot say)."""
    orders: list[OrderView] = []
    for status in OPEN_STATUSES:
        before: int | None = None
        while True:
            query = OrdersQuery(
                strategy_id=strategy_id, status=status, limit=_PAGE, before_seq=before
            )
            page = await ask(broker, subjects.QRY_EXEC_ORDERS, query, OrdersReply, timeout_s)
            orders.extend(page.orders)
            if len(page.orders) < _PAGE:
                break
            before = page.orders[-1].seq
    return tuple(orders)


def position_of(view: PositionView) -> Position:
    """The domain position behind a position view (its quantity is signed)."""
    quantity = Decimal(view.quantity)
    return Position(
        StrategyId(view.strategy_id),
        InstrumentId.parse(view.instrument_id),
        quantity=quantity,
        cost_open=Decimal(view.avg_px_open) * abs(quantity),
        realized_pnl=Decimal(view.realized_pnl),
        commissions=Decimal(view.commissions),
        ts_last=view.ts_last,
    )


def spec_of(view: OrderView) -> OrderSpec | None:
    """The order spec behind an order view; None (logged) if it makes none, such as an
    order written by an older version under rules it no longer meets."""
    try:
        return _spec(view)
    except (InvalidOrder, ValueError) as exc:
        log.warning("order %s from execution left out: %s", view.client_order_id, exc)
        return None


def order_of(view: OrderView) -> Order | None:
    """The order behind an order view, in its state; None (logged) as :func:`spec_of`."""
    spec = spec_of(view)
    if spec is None:
        return None
    return Order(
        spec,
        status=view.status,
        filled_qty=Decimal(view.filled_qty),
        avg_px=_decimal(view.avg_px),
        venue_order_id=VenueOrderId(view.venue_order_id) if view.venue_order_id else None,
        working_status=view.working_status,
    )


def _spec(view: OrderView) -> OrderSpec:
    return OrderSpec(
        ClientOrderId(view.client_order_id),
        StrategyId(view.strategy_id),
        AccountId(view.account_id),
        InstrumentId.parse(view.instrument_id),
        view.side,
        view.order_type,
        Decimal(view.quantity),
        time_in_force=view.time_in_force,
        price=_decimal(view.price),
        trigger_price=_decimal(view.trigger_price),
        expire_time_ns=view.expire_time_ns,
        reduce_only=view.reduce_only,
        post_only=view.post_only,
        trailing_offset=_decimal(view.trailing_offset),
        trailing_offset_type=view.trailing_offset_type,
        limit_offset=_decimal(view.limit_offset),
        display_qty=_decimal(view.display_qty),
        contingency_type=view.contingency_type,
        order_list_id=view.order_list_id,
        linked_order_ids=tuple(ClientOrderId(i) for i in view.linked_order_ids),
        parent_order_id=ClientOrderId(view.parent_order_id) if view.parent_order_id else None,
    )


def _decimal(value: str | Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value)
