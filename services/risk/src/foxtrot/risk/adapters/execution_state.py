"""What execution holds, asked over its query subjects: the state risk starts from."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from faststream.nats import NatsBroker
from pydantic import BaseModel

from foxtrot.common import subjects
from foxtrot.common.errors import InfrastructureError
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
    QueryFailed,
)
from foxtrot.core.enums import OrderStatus
from foxtrot.core.errors import InvalidOrder
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.orders import OrderSpec
from foxtrot.core.portfolio import Position

__all__ = ["ExecutionSnapshot", "fetch_snapshot", "order_of", "position_of"]

log = logging.getLogger(__name__)
R = TypeVar("R", bound=BaseModel)
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


class SnapshotUnavailable(InfrastructureError):
    """Execution did not answer, or answered with an error."""


@dataclass(frozen=True, slots=True)
class ExecutionSnapshot:
    positions: tuple[PositionView, ...]
    orders: tuple[OrderView, ...]
    accounts: tuple[AccountView, ...]


async def fetch_snapshot(broker: NatsBroker, timeout_s: float) -> ExecutionSnapshot:
    """Open positions, open orders and balances as execution has them now."""
    positions = await _ask(
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
            page = await _ask(broker, subjects.QRY_EXEC_ORDERS, query, OrdersReply, timeout_s)
            orders.extend(page.orders)
            if len(page.orders) < _PAGE:
                break
            before = page.orders[-1].seq
    accounts = await _ask(
        broker, subjects.QRY_EXEC_ACCOUNTS, AccountsQuery(), AccountsReply, timeout_s
    )
    return ExecutionSnapshot(positions.positions, tuple(orders), accounts.accounts)


async def _ask(
    broker: NatsBroker, subject: str, query: BaseModel, reply: type[R], timeout_s: float
) -> R:
    try:
        answer = await broker.request(query.model_dump_json().encode(), subject, timeout=timeout_s)
    except Exception as exc:
        raise SnapshotUnavailable(f"execution did not answer {subject}: {exc!r}") from exc
    try:
        return reply.model_validate_json(answer.body)
    except ValueError:
        try:
            failed = QueryFailed.model_validate_json(answer.body)
        except ValueError:
            raise SnapshotUnavailable(f"unreadable answer on {subject}") from None
        raise SnapshotUnavailable(f"execution failed {subject}: {failed.error}") from None


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
