"""Reads and writes execution's schema; every write happens inside the caller's transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, case, func, select, update
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from foxtrot.common.messages.v1 import Message, OrdersQuery, OrderView, PositionsQuery
from foxtrot.core.accounts import Balance
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
from foxtrot.execution.adapters.tables import (
    balances,
    fills,
    order_events,
    orders,
    positions,
    processed_messages,
)

__all__ = ["ExecutionRepository", "OutboxEntry", "order_from_row"]

OutboxEntry = tuple[int, str, str, bytes]


class ExecutionRepository:
    """Execution's persistence port over one connection in a transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._clear()

    def _clear(self) -> None:
        # Writes are staged and sent by ``flush`` as one bulk statement per table.
        self._processed: dict[uuid.UUID, dict[str, Any]] = {}
        self._orders: dict[str, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []
        self._fills: dict[str, dict[str, Any]] = {}
        self._positions: dict[tuple[str, str], dict[str, Any]] = {}
        self._balances: dict[tuple[str, str], dict[str, Any]] = {}

    async def processed_among(self, message_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these commands were handled before."""
        rows = await self.conn.execute(_PROCESSED_AMONG, {"ids": list(message_ids)})
        return {message_id for (message_id,) in rows}

    def mark_processed(self, message_id: uuid.UUID, subject: str, ts: int) -> None:
        """Record that a command was handled, in the same transaction as its effects."""
        self._processed[message_id] = {
            "message_id": message_id,
            "subject": subject,
            "ts_processed": ts,
        }

    async def existing_orders(self, client_order_ids: Sequence[str]) -> set[str]:
        """Which of these client order ids are taken."""
        rows = await self.conn.execute(_EXISTING_ORDERS, {"ids": list(client_order_ids)})
        return {cid for (cid,) in rows}

    def save_order(self, order: Order, ts: int) -> None:
        """Insert the order or update its state."""
        spec = order.spec
        self._orders[spec.client_order_id] = {
            "client_order_id": spec.client_order_id,
            "venue_order_id": order.venue_order_id,
            "strategy_id": spec.strategy_id,
            "account_id": spec.account_id,
            "instrument_id": str(spec.instrument_id),
            "side": spec.side.value,
            "order_type": spec.order_type.value,
            "time_in_force": spec.time_in_force.value,
            "quantity": spec.quantity,
            "price": spec.price,
            "trigger_price": spec.trigger_price,
            "expire_time_ns": spec.expire_time_ns,
            "reduce_only": spec.reduce_only,
            "post_only": spec.post_only,
            "trailing_offset": spec.trailing_offset,
            "trailing_offset_type": spec.trailing_offset_type.value,
            "limit_offset": spec.limit_offset,
            "display_qty": spec.display_qty,
            "contingency_type": spec.contingency_type.value,
            "order_list_id": spec.order_list_id,
            "linked_order_ids": list(spec.linked_order_ids),
            "parent_order_id": spec.parent_order_id,
            "status": order.status.value,
            "working_status": order.working_status.value if order.working_status else None,
            "filled_qty": order.filled_qty,
            "avg_px": order.avg_px,
            "ts_init": ts,
            "ts_last": ts,
        }

    def append_event(
        self,
        subject: str,
        message: Message,
        client_order_id: str | None,
        causation_id: uuid.UUID | None,
    ) -> None:
        """Append an event to the log; it stays unpublished until the outbox is flushed."""
        self._events.append(
            {
                "message_id": message.message_id,
                "causation_id": causation_id,
                "subject": subject,
                "type": type(message).__name__,
                "client_order_id": client_order_id,
                "payload": message.model_dump(mode="json"),
                "ts_event": message.ts_event,
            }
        )

    def save_fill(self, values: dict[str, Any]) -> None:
        """Record a fill once; a trade id seen before is ignored."""
        self._fills.setdefault(values["trade_id"], values)

    async def flush(self) -> list[OutboxEntry]:
        """Send every staged write, one bulk statement per table; returns the events
        appended, as the outbox will publish them."""
        appended: list[OutboxEntry] = []
        if self._events:
            result = await self.conn.execute(_APPEND_EVENTS, self._events)
            appended = [
                (seq, e["subject"], str(e["message_id"]), _json_bytes(e["payload"]))
                for (seq,), e in zip(result.all(), self._events, strict=True)
            ]
        if self._fills:
            await self.conn.execute(_SAVE_FILLS, list(self._fills.values()))
        for statement, rows in (
            (_SAVE_ORDERS, self._orders),
            (_SAVE_POSITIONS, self._positions),
            (_SAVE_BALANCES, self._balances),
            (_MARK_PROCESSED, self._processed),
        ):
            if rows:
                await self.conn.execute(statement, list(rows.values()))
        self._clear()
        return appended

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

    def save_position(self, position: Position, currency: str) -> None:
        """Insert or update a position."""
        key = (str(position.strategy_id), str(position.instrument_id))
        self._positions[key] = {
            "strategy_id": position.strategy_id,
            "instrument_id": str(position.instrument_id),
            "quantity": position.quantity,
            "avg_px_open": position.avg_px_open,
            "cost_open": position.cost_open,
            "realized_pnl": position.realized_pnl,
            "commissions": position.commissions,
            "currency": currency,
            "ts_opened": position.ts_opened,
            "ts_last": position.ts_last or 0,
        }

    async def load_balances(self, account_id: str) -> dict[str, Decimal]:
        """An account's total per currency (empty for an account nothing has moved yet)."""
        rows = await self.conn.execute(
            select(balances.c.currency, balances.c.total).where(balances.c.account_id == account_id)
        )
        return {currency: Decimal(total) for currency, total in rows}

    def save_balances(self, account_id: str, held: Sequence[Balance], ts: int) -> None:
        """Write an account's balances as they stand."""
        for b in held:
            self._balances[(account_id, b.currency)] = {
                "account_id": account_id,
                "currency": b.currency,
                "total": b.total,
                "locked": b.locked,
                "ts_last": ts,
            }

    async def query_accounts(self, account_id: str | None) -> dict[str, list[dict[str, Any]]]:
        """Balance rows per account, currencies in order."""
        stmt = select(balances).order_by(balances.c.account_id, balances.c.currency)
        if account_id:
            stmt = stmt.where(balances.c.account_id == account_id)
        found: dict[str, list[dict[str, Any]]] = {}
        for row in (await self.conn.execute(stmt)).mappings():
            found.setdefault(row["account_id"], []).append(dict(row))
        return found

    async def unpublished(self, limit: int = 1000) -> list[OutboxEntry]:
        """Events written but not yet confirmed published, oldest first."""
        rows = await self.conn.execute(
            select(
                order_events.c.seq,
                order_events.c.subject,
                order_events.c.message_id,
                order_events.c.payload,
            )
            .where(order_events.c.published.is_(False))
            .order_by(order_events.c.seq)
            .limit(limit)
        )
        return [
            (seq, subject, str(message_id), _json_bytes(payload))
            for seq, subject, message_id, payload in rows
        ]

    async def mark_published(self, seqs: Sequence[int]) -> None:
        """Confirm events as published."""
        if seqs:
            await self.conn.execute(_MARK_PUBLISHED, {"seqs": list(seqs)})

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


_CHANGING = (
    "venue_order_id",
    "status",
    "working_status",
    "filled_qty",
    "avg_px",
    "quantity",
    "price",
    "trigger_price",
    "ts_last",
)


def _upsert(table: Table, keys: list[str], changing: Sequence[str] | None = None) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` of ``changing`` (every other column)."""
    stmt = insert(table)
    names = changing or [c.name for c in table.columns if c.name not in keys]
    return stmt.on_conflict_do_update(
        index_elements=keys, set_={name: stmt.excluded[name] for name in names}
    )


# Built once: SQLAlchemy then finds each compiled form in its cache instead of building
# the statement (and ``excluded``'s column proxies) again for every batch.
_APPEND_EVENTS = insert(order_events).returning(order_events.c.seq, sort_by_parameter_order=True)
_SAVE_FILLS = insert(fills).on_conflict_do_nothing()
_SAVE_ORDERS = _upsert(orders, ["client_order_id"], _CHANGING)
_SAVE_POSITIONS = _upsert(positions, ["strategy_id", "instrument_id"])
_SAVE_BALANCES = _upsert(balances, ["account_id", "currency"])
_MARK_PROCESSED = insert(processed_messages).on_conflict_do_nothing()
_PROCESSED_AMONG = select(processed_messages.c.message_id).where(
    processed_messages.c.message_id.in_(bindparam("ids", expanding=True))
)
_EXISTING_ORDERS = select(orders.c.client_order_id).where(
    orders.c.client_order_id.in_(bindparam("ids", expanding=True))
)
_MARK_PUBLISHED = (
    update(order_events)
    .where(order_events.c.seq.in_(bindparam("seqs", expanding=True)))
    .values(published=True)
)


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
