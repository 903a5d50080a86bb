"""Execution's writes on the order path, over asyncpg directly.

A transaction stages what it changes while the engine decides, and ``flush`` sends it as
one statement per table, ``INSERT ... SELECT FROM unnest(...)`` with one array per column:
PostgreSQL plans and runs one statement for a hundred rows instead of a hundred, and
asyncpg encodes the arrays in C. Under load SQLAlchemy's per-row parameter processing cost
more than the booking itself, so this path speaks to asyncpg directly; queries and recovery
stay on SQLAlchemy in ``repository``. The statements are written out from the tables in
``tables``, so a column added there is written here too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.messages.v1 import Message
from foxtrot.core.accounts import Balance
from foxtrot.core.orders import Order
from foxtrot.core.portfolio import Position
from foxtrot.execution.adapters.tables import (
    SCHEMA,
    balances,
    fills,
    order_events,
    orders,
    outbox,
    positions,
    processed_messages,
)

__all__ = ["Ledger", "OutboxEntry", "ledger"]

OutboxEntry = tuple[int, str, str, bytes]  # seq, subject, message id, payload


@asynccontextmanager
async def ledger(engine: AsyncEngine) -> AsyncIterator[Ledger]:
    """A Ledger in one transaction on a pooled connection: committed when the block ends,
    rolled back if it raises. Flush before the block ends, or the staged writes are lost."""
    async with engine.connect() as conn:
        driver: asyncpg.Connection = (await conn.get_raw_connection()).driver_connection
        async with driver.transaction():
            yield Ledger(driver)


class Ledger:
    """One transaction's writes: staged by the ``save``/``append``/``mark`` methods, sent
    by ``flush``. A later write of the same row (an order saved twice) replaces the first."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self._clear()

    def _clear(self) -> None:
        self._processed: dict[uuid.UUID, tuple[Any, ...]] = {}
        self._orders: dict[str, tuple[Any, ...]] = {}
        self._events: list[tuple[Any, ...]] = []
        self._payloads: list[bytes] = []
        self._fills: dict[str, tuple[Any, ...]] = {}
        self._positions: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._balances: dict[tuple[str, str], tuple[Any, ...]] = {}

    async def seen(
        self, message_ids: Sequence[uuid.UUID], client_order_ids: Sequence[str]
    ) -> tuple[set[uuid.UUID], set[str]]:
        """Which of these commands were handled before, and which of these client order ids
        are taken, in one round trip."""
        found_messages: set[uuid.UUID] = set()
        found_orders: set[str] = set()
        for message_id, client_order_id in await self.conn.fetch(
            _SEEN, list(message_ids), list(client_order_ids)
        ):
            if message_id is not None:
                found_messages.add(message_id)
            else:
                found_orders.add(client_order_id)
        return found_messages, found_orders

    async def save_outbox_cursor(self, published_through: int) -> None:
        """Record that every event up to ``published_through`` is published."""
        await self.conn.execute(_SAVE_OUTBOX_CURSOR, published_through)

    def mark_processed(self, message_id: uuid.UUID, subject: str, ts: int) -> None:
        """Record that a command was handled, in the same transaction as its effects."""
        self._processed[message_id] = (message_id, subject, ts)

    def append_event(
        self,
        subject: str,
        message: Message,
        client_order_id: str | None,
        causation_id: uuid.UUID | None,
    ) -> None:
        """Append an event to the log; the outbox publishes it after the commit.
        It is encoded once: the log stores the bytes the outbox publishes."""
        payload = message.to_json()
        self._events.append(
            (
                message.message_id,
                causation_id,
                subject,
                type(message).__name__,
                client_order_id,
                payload.decode(),
                message.ts_event,
            )
        )
        self._payloads.append(payload)

    def save_order(self, order: Order, ts: int) -> None:
        """Insert the order or update its state."""
        spec = order.spec
        self._orders[spec.client_order_id] = _row(
            _ORDER_COLUMNS,
            client_order_id=spec.client_order_id,
            venue_order_id=order.venue_order_id,
            strategy_id=spec.strategy_id,
            account_id=spec.account_id,
            instrument_id=str(spec.instrument_id),
            side=spec.side.value,
            order_type=spec.order_type.value,
            time_in_force=spec.time_in_force.value,
            quantity=spec.quantity,
            price=spec.price,
            trigger_price=spec.trigger_price,
            expire_time_ns=spec.expire_time_ns,
            reduce_only=spec.reduce_only,
            post_only=spec.post_only,
            trailing_offset=spec.trailing_offset,
            trailing_offset_type=spec.trailing_offset_type.value,
            limit_offset=spec.limit_offset,
            display_qty=spec.display_qty,
            contingency_type=spec.contingency_type.value,
            order_list_id=spec.order_list_id,
            linked_order_ids=json.dumps(list(spec.linked_order_ids)),
            parent_order_id=spec.parent_order_id,
            status=order.status.value,
            working_status=order.working_status.value if order.working_status else None,
            filled_qty=order.filled_qty,
            avg_px=order.avg_px,
            ts_init=ts,
            ts_last=ts,
        )

    def save_fill(self, values: dict[str, Any]) -> None:
        """Record a fill once; a trade id seen before is ignored."""
        if values["trade_id"] not in self._fills:
            self._fills[values["trade_id"]] = _row(_FILL_COLUMNS, **values)

    def save_position(self, position: Position, currency: str) -> None:
        """Insert or update a position."""
        key = (str(position.strategy_id), str(position.instrument_id))
        self._positions[key] = _row(
            _POSITION_COLUMNS,
            strategy_id=position.strategy_id,
            instrument_id=key[1],
            quantity=position.quantity,
            avg_px_open=position.avg_px_open,
            cost_open=position.cost_open,
            realized_pnl=position.realized_pnl,
            commissions=position.commissions,
            currency=currency,
            ts_opened=position.ts_opened,
            ts_last=position.ts_last or 0,
        )

    def save_balances(self, account_id: str, held: Iterable[Balance], ts: int) -> None:
        """Write an account's balances as they stand."""
        for b in held:
            self._balances[(account_id, b.currency)] = (
                account_id,
                b.currency,
                b.total,
                b.locked,
                ts,
            )

    async def flush(self) -> list[OutboxEntry]:
        """Send every staged write; returns the events appended, as the outbox publishes
        them (sequence number, subject, message id, payload)."""
        appended: list[OutboxEntry] = []
        if self._events:
            rows = await self.conn.fetch(_APPEND_EVENTS, *_arrays(self._events))
            seq_of = {message_id: seq for seq, message_id in rows}
            appended = [
                (seq_of[e[0]], e[2], str(e[0]), payload)
                for e, payload in zip(self._events, self._payloads, strict=True)
            ]
        for statement, staged in (
            (_SAVE_FILLS, self._fills),
            (_SAVE_ORDERS, self._orders),
            (_SAVE_POSITIONS, self._positions),
            (_SAVE_BALANCES, self._balances),
            (_MARK_PROCESSED, self._processed),
        ):
            if staged:
                await self.conn.execute(statement, *_arrays(staged.values()))
        self._clear()
        return appended


def _row(columns: Sequence[str], **values: Any) -> tuple[Any, ...]:
    return tuple(values[c] for c in columns)


def _arrays(rows: Iterable[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows turned into one list per column, for ``unnest``."""
    return [list(column) for column in zip(*rows, strict=True)]


def _columns(table: Table, *skip: str) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if c.name not in skip)


def _bulk_insert(table: Table, columns: Sequence[str]) -> str:
    """``INSERT INTO table (columns) SELECT ... FROM unnest($1::type[], ...)`` in the order
    of the arrays. JSONB travels as text and is cast on the way in."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    arrays, picks = [], []
    for i, name in enumerate(columns, 1):
        column_type = table.c[name].type
        is_json = isinstance(column_type, JSONB)
        arrays.append(f"${i}::{'TEXT' if is_json else column_type.compile(dialect=dialect)}[]")
        picks.append(f"{name}::JSONB" if is_json else name)
    names = ", ".join(columns)
    return (
        f"INSERT INTO {SCHEMA}.{table.name} ({names}) SELECT {', '.join(picks)} "
        f"FROM unnest({', '.join(arrays)}) WITH ORDINALITY AS staged({names}, n) ORDER BY n"
    )


def _upsert(
    table: Table,
    columns: Sequence[str],
    keys: Sequence[str],
    changing: Sequence[str] | None = None,
) -> str:
    """A bulk insert that, for a row whose ``keys`` exist, updates ``changing`` (every other
    column when None), or does nothing when it is empty."""
    sql = f"{_bulk_insert(table, columns)} ON CONFLICT ({', '.join(keys)}) "
    names = [c for c in columns if c not in keys] if changing is None else changing
    if not names:
        return sql + "DO NOTHING"
    return sql + "DO UPDATE SET " + ", ".join(f"{n} = EXCLUDED.{n}" for n in names)


_ORDER_COLUMNS = _columns(orders, "seq")
_FILL_COLUMNS = _columns(fills)
_POSITION_COLUMNS = _columns(positions)
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
_SAVE_ORDERS = _upsert(orders, _ORDER_COLUMNS, ["client_order_id"], _CHANGING)
_SAVE_FILLS = _upsert(fills, _FILL_COLUMNS, ["trade_id"], [])
_SAVE_POSITIONS = _upsert(positions, _POSITION_COLUMNS, ["strategy_id", "instrument_id"])
_SAVE_BALANCES = _upsert(balances, _columns(balances), ["account_id", "currency"])
_MARK_PROCESSED = _upsert(processed_messages, _columns(processed_messages), ["message_id"], [])
_APPEND_EVENTS = (
    _bulk_insert(
        order_events,
        ("message_id", "causation_id", "subject", "type", "client_order_id", "payload", "ts_event"),
    )
    + " RETURNING seq, message_id"
)
_SEEN = f"""
    SELECT message_id, NULL::text FROM {SCHEMA}.{processed_messages.name}
    WHERE message_id = ANY($1::uuid[])
    UNION ALL
    SELECT NULL::uuid, client_order_id FROM {SCHEMA}.{orders.name}
    WHERE client_order_id = ANY($2::text[])
"""
_SAVE_OUTBOX_CURSOR = (
    f"UPDATE {SCHEMA}.{outbox.name} SET published_through = $1 WHERE published_through < $1"
)
