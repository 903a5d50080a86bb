"""Execution's tables in its own ``execution`` schema: an event log plus current state."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Identity,
    MetaData,
    Numeric,
    String,
    Table,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

SCHEMA = "execution"
metadata = MetaData(schema=SCHEMA)

processed_messages = Table(
    "processed_messages",
    metadata,
    Column("message_id", UUID(as_uuid=True), primary_key=True),
    Column("subject", String(255), nullable=False),
    Column("ts_processed", BigInteger, nullable=False),
    comment="inbox: every command handled, so a redelivery is recognised",
)

order_events = Table(
    "order_events",
    metadata,
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("message_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("causation_id", UUID(as_uuid=True), nullable=True, index=True),
    Column("subject", String(255), nullable=False),
    Column("type", String(64), nullable=False),
    Column("client_order_id", String(64), nullable=True, index=True),
    Column("payload", JSONB, nullable=False),
    Column("ts_event", BigInteger, nullable=False),
    comment="event log and outbox: every event execution emits, in order",
)

outbox = Table(
    "outbox",
    metadata,
    Column("one", Boolean, primary_key=True, server_default=true()),
    Column("published_through", BigInteger, nullable=False),
    CheckConstraint("one", name="outbox_has_one_row"),
    comment="how far the event log is published without a gap",
)

orders = Table(
    "orders",
    metadata,
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("client_order_id", String(64), nullable=False, unique=True),
    Column("venue_order_id", String(128), nullable=True),
    Column("strategy_id", String(64), nullable=False, index=True),
    Column("account_id", String(64), nullable=False),
    Column("instrument_id", String(129), nullable=False, index=True),
    Column("side", String(8), nullable=False),
    Column("order_type", String(32), nullable=False),
    Column("time_in_force", String(8), nullable=False),
    Column("quantity", Numeric, nullable=False),
    Column("price", Numeric, nullable=True),
    Column("trigger_price", Numeric, nullable=True),
    Column("expire_time_ns", BigInteger, nullable=True),
    Column("reduce_only", Boolean, nullable=False),
    Column("post_only", Boolean, nullable=False),
    Column("status", String(32), nullable=False, index=True),
    Column("filled_qty", Numeric, nullable=False),
    Column("avg_px", Numeric, nullable=True),
    Column("ts_init", BigInteger, nullable=False),
    Column("ts_last", BigInteger, nullable=False),
    Column("trailing_offset", Numeric, nullable=True),
    Column("trailing_offset_type", String(16), nullable=False, server_default="PRICE"),
    Column("limit_offset", Numeric, nullable=True),
    Column("display_qty", Numeric, nullable=True),
    Column("contingency_type", String(8), nullable=False, server_default="NONE"),
    Column("order_list_id", String(64), nullable=True, index=True),
    Column("linked_order_ids", JSONB, nullable=False, server_default="[]"),
    Column("parent_order_id", String(64), nullable=True),
    Column(
        "working_status",
        String(32),
        nullable=True,
        comment="under PENDING_UPDATE / PENDING_CANCEL: the state the order returns to",
    ),
)

fills = Table(
    "fills",
    metadata,
    Column("trade_id", String(128), primary_key=True),
    Column("client_order_id", String(64), nullable=False, index=True),
    Column("venue_order_id", String(128), nullable=True),
    Column("strategy_id", String(64), nullable=False),
    Column("instrument_id", String(129), nullable=False),
    Column("side", String(8), nullable=False),
    Column("last_qty", Numeric, nullable=False),
    Column("last_px", Numeric, nullable=False),
    Column("commission", Numeric, nullable=False),
    Column("commission_currency", String(16), nullable=False),
    Column("liquidity_side", String(8), nullable=False),
    Column("ts_event", BigInteger, nullable=False),
)

positions = Table(
    "positions",
    metadata,
    Column("strategy_id", String(64), primary_key=True),
    Column("instrument_id", String(129), primary_key=True),
    Column("quantity", Numeric, nullable=False),
    Column("avg_px_open", Numeric, nullable=False),
    Column("cost_open", Numeric, nullable=False, comment="exact cost of the open quantity"),
    Column("realized_pnl", Numeric, nullable=False),
    Column("commissions", Numeric, nullable=False),
    Column("currency", String(16), nullable=False),
    Column("ts_opened", BigInteger, nullable=True),
    Column("ts_last", BigInteger, nullable=False),
)

balances = Table(
    "balances",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("currency", String(16), primary_key=True),
    Column("total", Numeric, nullable=False),
    Column("locked", Numeric, nullable=False),
    Column("ts_last", BigInteger, nullable=False),
)

__all__ = [
    "SCHEMA",
    "balances",
    "fills",
    "metadata",
    "order_events",
    "orders",
    "outbox",
    "positions",
    "processed_messages",
]
