"""What execution holds, asked over its query subjects: the state risk starts from."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.nats import NatsBroker

from foxtrot.common import subjects
from foxtrot.common.execution_views import fetch_open_orders
from foxtrot.common.messages.v1 import (
    AccountsQuery,
    AccountsReply,
    AccountView,
    OrderView,
    PositionsQuery,
    PositionsReply,
    PositionView,
)
from foxtrot.common.queries import ask

__all__ = ["ExecutionSnapshot", "fetch_snapshot"]


@dataclass(frozen=True, slots=True)
class ExecutionSnapshot:
    """Open positions, open orders and balances, as execution has them."""

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
    orders = await fetch_open_orders(broker, timeout_s)
    accounts = await ask(
        broker, subjects.QRY_EXEC_ACCOUNTS, AccountsQuery(), AccountsReply, timeout_s
    )
    return ExecutionSnapshot(positions.positions, orders, accounts.accounts)
