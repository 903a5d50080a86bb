"""What execution holds, asked over its query subjects: the state risk starts from."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from faststream.nats import NatsBroker

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    AccountsQuery,
    AccountsReply,
    AccountView,
    OrdersQuery,
    OrdersReply,
    OrderView,
    PositionsQuery,
    PositionsReply,
    PositionView,
)
from foxtrot.common.queries import ask
from foxtrot.core.enums import OrderStatus
from foxtrot.core.errors import InvalidOrder
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.orders import OrderSpec
from foxtrot.core.portfolio import Position

__all__ = ["ExecutionSnapshot", "fetch_snapshot", "order_of", "position_of"]

log = logging.getLogger(__name__)
_PAGE = 1000
# Orders that may still fill (or are on their way to the venue).
_OPEN = (
    OrderStatus.SUBMITTED,
    OrderStatus.ACCEPTED,
    OrderStatus.TRIGGERED,
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.PENDING_UPDATE,
    OrderStatus.PENDING_CANCEL,
)


@dataclass(frozen=True, slots=True)
class ExecutionSnapshot:
    positions: tuple[PositionView, ...]
    orders: tuple[OrderView, ...]
    accounts: tuple[AccountView, ...]


async def fetch_snapshot(broker: NatsBroker, timeout_s: float) -> ExecutionSnapshot:
    """Open positions, open orders and balances as execution has them now (QueryUnanswered
    or QueryError if execution cannot say)."""
    positions = await ask(
        broker,
        subjects.QRY_EXEC_POSITIONS,
        PositionsQuery(include_flat=False),
        PositionsReply,
        timeout_s,
    )
    orders: list[OrderView] = []
    for status in _OPEN:
        before: int | None = None
        while True:
            query = OrdersQuery(status=status, limit=_PAGE, before_seq=before)
            page = await ask(broker, subjects.QRY_EXEC_ORDERS, query, OrdersReply, timeout_s)
            orders.extend(page.orders)
            if len(page.orders) < _PAGE:
                break
            before = page.orders[-1].seq
    accounts = await ask(
        broker, subjects.QRY_EXEC_ACCOUNTS, AccountsQuery(), AccountsReply, timeout_s
    )
    return ExecutionSnapshot(positions.positions, tuple(orders), accounts.accounts)


def position_of(view: PositionView) -> Position:
    """The domain position behind a position view (quantity is signed)."""
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


def order_of(view: OrderView) -> OrderSpec | None:
    """The order behind an order view, or None (logged) if it does not make a valid spec."""
    try:
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
    except (InvalidOrder, ValueError) as exc:
        log.warning("open order %s left out of risk's book: %s", view.client_order_id, exc)
        return None


def _decimal(value: str | Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value)
