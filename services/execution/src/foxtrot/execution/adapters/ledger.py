"""Execution's writes on the order path, over asyncpg directly.

A batch stages what it changes while the engine decides, and ``flush`` writes all of it
in one statement: one ``INSERT ... SELECT FROM unnest(...)`` per table (one array per
column) joined as data-modifying CTEs, plus the outbox's cursor. One statement is atomic
on its own, so a batch costs two round trips (what was seen before, then everything it
writes) where BEGIN, a statement per table and COMMIT took nine; PostgreSQL runs one
statement for a hundred rows instead of a hundred, and asyncpg encodes the arrays in C.
Under load SQLAlchemy's per-row parameter processing cost more than the booking itself, so
this path speaks to asyncpg directly; queries and recovery stay on SQLAlchemy in
``repository``. The statements are written out from the tables in ``tables``, so a column
added there is written here too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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

__all__ = ["Ledger", "LedgerConnection", "OutboxEntry"]

OutboxEntry = tuple[int, str, str, bytes]  # seq, subject, message id, payload


class LedgerConnection:
    """Where the order path gets its database connection. Each batch checks one out of the
    pool, which SQLAlchemy's asyncpg dialect pings with BEGIN, a query and ROLLBACK: three
    round trips. A running service therefore ``hold``s one between batches; after any
    failure it is dropped, and the next batch takes a fresh (pinged) one."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.holding = False
        self._conn: AsyncConnection | None = None

    def hold(self) -> None:
        """Keep the connection between batches, until ``release``."""
        self.holding = True

    async def release(self) -> None:
        """Give the connection back to the pool."""
        self.holding = False
        await self._drop(invalidate=False)

    @asynccontextmanager
    async def ledger(self) -> AsyncIterator[Ledger]:
        """A Ledger on the connection. Nothing is written until ``flush``, which writes
        everything staged at once, or nothing if it fails."""
        conn = self._conn or await self.engine.connect()
        self._conn = conn
        try:
            yield Ledger((await conn.get_raw_connection()).driver_connection)
        except BaseException:
            await self._drop(invalidate=True)
            raise
        if not self.holding:
            await self._drop(invalidate=False)

    async def _drop(self, invalidate: bool) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            if invalidate:
                await conn.invalidate()
            await conn.close()


class Ledger:
    """One batch's writes: staged by the ``save``/``append``/``mark`` methods, written
    together by ``flush``. A later write of the same row (an order saved twice) replaces
    the first."""

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
        self._published_through = 0

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

    def save_outbox_cursor(self, published_through: int) -> None:
        """Record that every event up to ``published_through`` is published."""
        self._published_through = published_through

    def mark_processed(self, message_id: uuid.UUID, subject: str, ts: int) -> None:
        """Record that a command was handled, in the same transaction as its effects."""
        self._processed[message_id] = _row(
            _PROCESSED.columns, message_id=message_id, subject=subject, ts_processed=ts
        )

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
            _ORDERS.columns,
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
            self._fills[values["trade_id"]] = _row(_FILLS.columns, **values)

    def save_position(self, position: Position, currency: str) -> None:
        """Insert or update a position."""
        key = (str(position.strategy_id), str(position.instrument_id))
        self._positions[key] = _row(
            _POSITIONS.columns,
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
            self._balances[(account_id, b.currency)] = _row(
                _BALANCES.columns,
                account_id=account_id,
                currency=b.currency,
                total=b.total,
                locked=b.locked,
                ts_last=ts,
            )

    async def flush(self) -> list[OutboxEntry]:
        """Write everything staged in one statement; returns the events appended, as the
        outbox publishes them (sequence number, subject, message id, payload)."""
        rows = await self.conn.fetch(
            _FLUSH,
            self._published_through,
            *_arrays(self._events, _EVENTS.columns),
            *_arrays(self._fills.values(), _FILLS.columns),
            *_arrays(self._orders.values(), _ORDERS.columns),
            *_arrays(self._positions.values(), _POSITIONS.columns),
            *_arrays(self._balances.values(), _BALANCES.columns),
            *_arrays(self._processed.values(), _PROCESSED.columns),
        )
        seq_of = {message_id: seq for seq, message_id in rows}
        appended = [
            (seq_of[e[0]], e[2], str(e[0]), payload)
            for e, payload in zip(self._events, self._payloads, strict=True)
        ]
        self._clear()
        return appended


def _row(columns: Sequence[str], **values: Any) -> tuple[Any, ...]:
    return tuple(values[c] for c in columns)


def _arrays(rows: Iterable[tuple[Any, ...]], columns: Sequence[str]) -> list[list[Any]]:
    """Rows turned into one list per column, for ``unnest``."""
    arrays: list[list[Any]] = [[] for _ in columns]
    for row in rows:
        for array, value in zip(arrays, row, strict=True):
            array.append(value)
    return arrays


def _columns(table: Table, *skip: str) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if c.name not in skip)


@dataclass(frozen=True)
class _Bulk:
    """A bulk insert into ``table`` of rows given as one array per column: on a row whose
    ``keys`` exist it updates ``changing`` (every other column when None), or does nothing
    when that is empty; ``returning`` columns come back."""

    table: Table
    columns: tuple[str, ...]
    keys: tuple[str, ...] = ()
    changing: tuple[str, ...] | None = None
    returning: tuple[str, ...] = ()

    def sql(self, first: int) -> str:
        """The statement, its arrays numbered from ``$first``. JSONB travels as text and is
        cast on the way in."""
        dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
        arrays, picks = [], []
        for i, name in enumerate(self.columns, first):
            column_type = self.table.c[name].type
            is_json = isinstance(column_type, JSONB)
            sql_type = "TEXT" if is_json else column_type.compile(dialect=dialect)
            arrays.append(f"${i}::{sql_type}[]")
            picks.append(f"{name}::JSONB" if is_json else name)
        names = ", ".join(self.columns)
        sql = (
            f"INSERT INTO {SCHEMA}.{self.table.name} ({names}) SELECT {', '.join(picks)} "
            f"FROM unnest({', '.join(arrays)}) WITH ORDINALITY AS staged({names}, n) ORDER BY n"
        )
        if self.keys:
            sql += f" ON CONFLICT ({', '.join(self.keys)}) "
            names_set = (
                [c for c in self.columns if c not in self.keys]
                if self.changing is None
                else self.changing
            )
            sql += (
                "DO UPDATE SET " + ", ".join(f"{n} = EXCLUDED.{n}" for n in names_set)
                if names_set
                else "DO NOTHING"
            )
        if self.returning:
            sql += f" RETURNING {', '.join(self.returning)}"
        return sql


def _flush_statement(tables: dict[str, _Bulk]) -> str:
    """Every table's bulk insert as a data-modifying CTE, after the outbox's cursor ($1,
    which only moves forward); returns the events' sequence numbers."""
    parts = [
        f"outbox_cursor AS (UPDATE {SCHEMA}.{outbox.name} SET published_through = $1 "
        "WHERE published_through < $1)"
    ]
    first = 2
    for name, bulk in tables.items():
        parts.append(f"{name} AS ({bulk.sql(first)})")
        first += len(bulk.columns)
    return "WITH " + ",\n".join(parts) + "\nSELECT seq, message_id FROM events"


_EVENTS = _Bulk(
    order_events,
    ("message_id", "causation_id", "subject", "type", "client_order_id", "payload", "ts_event"),
    returning=("seq", "message_id"),
)
_FILLS = _Bulk(fills, _columns(fills), ("trade_id",), ())
_ORDERS = _Bulk(
    orders,
    _columns(orders, "seq"),
    ("client_order_id",),
    (
        "venue_order_id",
        "status",
        "working_status",
        "filled_qty",
        "avg_px",
        "quantity",
        "price",
        "trigger_price",
        "ts_last",
    ),
)
_POSITIONS = _Bulk(positions, _columns(positions), ("strategy_id", "instrument_id"))
_BALANCES = _Bulk(balances, _columns(balances), ("account_id", "currency"))
_PROCESSED = _Bulk(processed_messages, _columns(processed_messages), ("message_id",), ())
_FLUSH = _flush_statement(
    {
        "events": _EVENTS,
        "fills": _FILLS,
        "orders": _ORDERS,
        "positions": _POSITIONS,
        "balances": _BALANCES,
        "processed": _PROCESSED,
    }
)
_SEEN = f"""
    SELECT message_id, NULL::text FROM {SCHEMA}.{processed_messages.name}
    WHERE message_id = ANY($1::uuid[])
    UNION ALL
    SELECT NULL::uuid, client_order_id FROM {SCHEMA}.{orders.name}
    WHERE client_order_id = ANY($2::text[])
"""
