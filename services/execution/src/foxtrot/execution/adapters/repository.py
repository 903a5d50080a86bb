"""Reads execution's schema: recovery, reconciliation and the state queries."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from foxtrot.common.messages.v1 import OrdersQuery, OrderView, PositionsQuery
from foxtrot.core.enums import (
    ContingencyType,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from foxtrot.core.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.orders import Order
from foxtrot.core.portfolio import Position
from foxtrot.execution.adapters.ledger import OutboxEntry
from foxtrot.execution.adapters.tables import (
    balances,
    fills,
    order_events,
    orders,
    outbox,
    positions,
)

__all__ = ["ExecutionRepository", "order_from_row"]


class ExecutionRepository:
    """Execution's queries and recovery reads over one connection (the order path writes
    through ``ledger``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def load_positions(self) -> list[Position]:
        """Every position, flat ones included."""
        rows = (await self.conn.execute(select(positions))).mappings()
        return [
            Position(
                StrategyId(row["strategy_id"]),
                InstrumentId.parse(row["instrument_id"]),
                row["quantity"],
                row["cost_open"],
                row["realized_pnl"],
                row["commissions"],
                row["ts_opened"],
                row["ts_last"],
            )
            for row in rows
        ]

    async def load_balances(self, account_id: str) -> dict[str, Decimal]:
        """An account's total per currency (empty for an account nothing has moved yet)."""
        rows = await self.conn.execute(
            select(balances.c.currency, balances.c.total).where(balances.c.account_id == account_id)
        )
        return {currency: Decimal(total) for currency, total in rows}

    async def query_accounts(self, account_id: str | None) -> dict[str, list[dict[str, Any]]]:
        """Balance rows per account, currencies in order."""
        stmt = select(balances).order_by(balances.c.account_id, balances.c.currency)
        if account_id:
            stmt = stmt.where(balances.c.account_id == account_id)
        found: dict[str, list[dict[str, Any]]] = {}
        for row in (await self.conn.execute(stmt)).mappings():
            found.setdefault(row["account_id"], []).append(dict(row))
        return found

    async def outbox_cursor(self) -> int:
        """How far the event log is published without a gap."""
        rows = await self.conn.execute(select(outbox.c.published_through))
        return int(rows.scalar_one())

    async def unpublished(self, after: int, limit: int = 1000) -> list[OutboxEntry]:
        """The events after the outbox's cursor, oldest first."""
        rows = await self.conn.execute(
            select(
                order_events.c.seq,
                order_events.c.subject,
                order_events.c.message_id,
                order_events.c.payload,
            )
            .where(order_events.c.seq > after)
            .order_by(order_events.c.seq)
            .limit(limit)
        )
        return [
            (seq, subject, str(message_id), _json_bytes(payload))
            for seq, subject, message_id, payload in rows
        ]

    async def open_orders(self) -> list[tuple[Order, int, int]]:
        """Orders still working (or waiting for their parent), each with its fill count and
        the time it started working."""
        live = [s.value for s in OrderStatus if s.is_open or s is OrderStatus.INITIALIZED]
        rows = (await self.conn.execute(select(orders).where(orders.c.status.in_(live)))).mappings()
        found = [(order_from_row(dict(row)), int(row["ts_init"])) for row in rows]
        counts = await self.conn.execute(
            select(fills.c.client_order_id, func.count())
            .where(fills.c.client_order_id.in_([o.client_order_id for o, _ in found]))
            .group_by(fills.c.client_order_id)
        )
        by_order = {cid: int(n) for cid, n in counts}
        return [(o, by_order.get(o.client_order_id, 0), ts) for o, ts in found]

    async def net_positions(self) -> dict[str, Decimal]:
        """The net quantity per instrument over every strategy's position."""
        rows = await self.conn.execute(
            select(positions.c.instrument_id, func.sum(positions.c.quantity)).group_by(
                positions.c.instrument_id
            )
        )
        return {instrument_id: Decimal(total) for instrument_id, total in rows}

    async def trade_ids(self, client_order_ids: Sequence[str]) -> set[TradeId]:
        """The trade ids of the fills booked for these orders."""
        rows = await self.conn.execute(
            select(fills.c.trade_id).where(fills.c.client_order_id.in_(client_order_ids))
        )
        return {TradeId(trade_id) for (trade_id,) in rows}

    async def ledger_problems(self) -> list[str]:
        """Where the books disagree with their own fills: an order whose filled quantity, or
        a position whose quantity, is not what its fills add up to."""
        by_order = (
            select(fills.c.client_order_id, func.sum(fills.c.last_qty).label("qty"))
            .group_by(fills.c.client_order_id)
            .subquery()
        )
        filled = func.coalesce(by_order.c.qty, 0)
        rows = await self.conn.execute(
            select(orders.c.client_order_id, orders.c.filled_qty, filled)
            .select_from(
                orders.outerjoin(by_order, by_order.c.client_order_id == orders.c.client_order_id)
            )
            .where(orders.c.filled_qty != filled)
        )
        problems = [
            f"order {cid} says {qty} filled but its fills add up to {total}"
            for cid, qty, total in rows
        ]
        signed = case(
            (fills.c.side == OrderSide.BUY.value, fills.c.last_qty), else_=-fills.c.last_qty
        )
        sums = await self.conn.execute(
            select(fills.c.strategy_id, fills.c.instrument_id, func.sum(signed)).group_by(
                fills.c.strategy_id, fills.c.instrument_id
            )
        )
        expected = {(s, i): Decimal(q) for s, i, q in sums}
        held = await self.conn.execute(
            select(positions.c.strategy_id, positions.c.instrument_id, positions.c.quantity)
        )
        books = {(s, i): Decimal(q) for s, i, q in held}
        for key in sorted(set(expected) | set(books)):
            want, have = expected.get(key, Decimal(0)), books.get(key, Decimal(0))
            if want != have:
                problems.append(
                    f"position {key[0]} {key[1]} is {have} but its fills add up to {want}"
                )
        return problems

    async def query_orders(self, query: OrdersQuery) -> list[OrderView]:
        """Orders matching a query, newest first."""
        stmt = select(orders).order_by(orders.c.seq.desc()).limit(query.limit)
        if query.client_order_id:
            stmt = stmt.where(orders.c.client_order_id == query.client_order_id)
        if query.strategy_id:
            stmt = stmt.where(orders.c.strategy_id == query.strategy_id)
        if query.instrument_id:
            stmt = stmt.where(orders.c.instrument_id == query.instrument_id)
        if query.status:
            stmt = stmt.where(orders.c.status == query.status.value)
        if query.before_seq:
            stmt = stmt.where(orders.c.seq < query.before_seq)
        rows = await self.conn.execute(stmt)
        return [OrderView.model_validate(dict(r)) for r in rows.mappings()]

    async def query_positions(self, query: PositionsQuery) -> list[dict[str, Any]]:
        """Position rows matching a query."""
        stmt = select(positions).order_by(positions.c.strategy_id, positions.c.instrument_id)
        if query.strategy_id:
            stmt = stmt.where(positions.c.strategy_id == query.strategy_id)
        if query.instrument_id:
            stmt = stmt.where(positions.c.instrument_id == query.instrument_id)
        if not query.include_flat:
            stmt = stmt.where(positions.c.quantity != 0)
        return [dict(r) for r in (await self.conn.execute(stmt)).mappings()]


def order_from_row(row: Mapping[str, Any]) -> Order:
    """An order as its row in ``orders`` stores it."""
    spec = OrderSpec(
        client_order_id=ClientOrderId(str(row["client_order_id"])),
        strategy_id=StrategyId(str(row["strategy_id"])),
        account_id=AccountId(str(row["account_id"])),
        instrument_id=InstrumentId.parse(str(row["instrument_id"])),
        side=OrderSide(row["side"]),
        order_type=OrderType(row["order_type"]),
        quantity=row["quantity"],
        time_in_force=TimeInForce(row["time_in_force"]),
        price=row["price"],
        trigger_price=row["trigger_price"],
        expire_time_ns=row["expire_time_ns"],
        reduce_only=bool(row["reduce_only"]),
        post_only=bool(row["post_only"]),
        trailing_offset=row["trailing_offset"],
        trailing_offset_type=TrailingOffsetType(row["trailing_offset_type"]),
        limit_offset=row["limit_offset"],
        display_qty=row["display_qty"],
        contingency_type=ContingencyType(row["contingency_type"]),
        order_list_id=row["order_list_id"],
        linked_order_ids=tuple(ClientOrderId(i) for i in row["linked_order_ids"]),
        parent_order_id=(
            ClientOrderId(row["parent_order_id"]) if row["parent_order_id"] is not None else None
        ),
    )
    venue_order_id = row["venue_order_id"]
    working = row["working_status"]
    return Order(
        spec,
        status=OrderStatus(row["status"]),
        filled_qty=row["filled_qty"],
        avg_px=row["avg_px"],
        venue_order_id=VenueOrderId(str(venue_order_id)) if venue_order_id else None,
        working_status=OrderStatus(working) if working else None,
    )


def _json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
