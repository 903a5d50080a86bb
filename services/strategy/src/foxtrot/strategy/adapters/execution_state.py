"""What execution holds for a strategy instance, asked over its query subjects: the
positions and open orders an instance is restored with when it is rebuilt."""

from __future__ import annotations

from dataclasses import dataclass, field

from faststream.nats import NatsBroker

from foxtrot.common import subjects
from foxtrot.common.execution_views import fetch_open_orders
from foxtrot.common.messages.v1 import (
    OrdersQuery,
    OrdersReply,
    OrderView,
    PositionsQuery,
    PositionsReply,
    PositionView,
)
from foxtrot.common.queries import ask

__all__ = ["ExecutionSnapshot", "ExecutionState", "NatsExecutionState"]


@dataclass(frozen=True, slots=True)
class ExecutionSnapshot:
    """One strategy's positions (flat ones included) and open orders, as execution has them."""

    positions: tuple[PositionView, ...] = ()
    orders: tuple[OrderView, ...] = ()


@dataclass
class ExecutionState:
    """The port: what execution holds for a strategy. This one answers from what it was
    given (tests); :class:`NatsExecutionState` asks execution."""

    snapshots: dict[str, ExecutionSnapshot] = field(default_factory=dict)
    known: dict[str, OrderView] = field(default_factory=dict)

    async def snapshot(self, strategy_id: str) -> ExecutionSnapshot:
        """Positions first, then open orders (QueryUnanswered or QueryError if execution
        cannot say)."""
        return self.snapshots.get(strategy_id, ExecutionSnapshot())

    async def order(self, client_order_id: str) -> OrderView | None:
        """One order by its id, whatever its status; None if execution does not know it."""
        return self.known.get(client_order_id)


class NatsExecutionState(ExecutionState):
    """Asks execution over ``qry.v1.exec.positions`` and ``qry.v1.exec.orders``."""

    def __init__(self, broker: NatsBroker, timeout_s: float) -> None:
        super().__init__()
        self.broker = broker
        self.timeout_s = timeout_s

    async def snapshot(self, strategy_id: str) -> ExecutionSnapshot:
        positions = await ask(
            self.broker,
            subjects.QRY_EXEC_POSITIONS,
            PositionsQuery(strategy_id=strategy_id, include_flat=True),
            PositionsReply,
            self.timeout_s,
        )
        orders = await fetch_open_orders(self.broker, self.timeout_s, strategy_id)
        return ExecutionSnapshot(positions.positions, orders)

    async def order(self, client_order_id: str) -> OrderView | None:
        page = await ask(
            self.broker,
            subjects.QRY_EXEC_ORDERS,
            OrdersQuery(client_order_id=client_order_id, limit=1),
            OrdersReply,
            self.timeout_s,
        )
        return page.orders[0] if page.orders else None
