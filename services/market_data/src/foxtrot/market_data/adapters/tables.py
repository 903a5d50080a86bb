"""Market data's tables in its own ``market_data`` schema: bar history and instruments."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Integer, MetaData, Numeric, String, Table

__all__ = ["SCHEMA", "bars", "instruments", "metadata"]

SCHEMA = "market_data"
metadata = MetaData(schema=SCHEMA)

bars = Table(
    "bars",
    metadata,
    Column("instrument_id", String(129), primary_key=True),
    Column("spec", String(16), primary_key=True),
    Column("ts_event", BigInteger, primary_key=True, comment="bar close, UTC ns"),
    Column("ts_open", BigInteger, nullable=True),
    Column("open", Numeric, nullable=False),
    Column("high", Numeric, nullable=False),
    Column("low", Numeric, nullable=False),
    Column("close", Numeric, nullable=False),
    Column("volume", Numeric, nullable=False),
    Column("vwap", Numeric, nullable=True),
    Column("trade_count", Integer, nullable=True),
    Column("ts_init", BigInteger, nullable=False),
    comment="every bar published on md.v1.bar.*, once (the primary key drops repeats)",
)

instruments = Table(
    "instruments",
    metadata,
    Column("instrument_id", String(129), primary_key=True),
    Column("base_currency", String(64), nullable=False),
    Column("quote_currency", String(64), nullable=False),
    Column("tick_size", Numeric, nullable=False),
    Column("lot_size", Numeric, nullable=False),
    Column("min_quantity", Numeric, nullable=False),
    Column("max_quantity", Numeric, nullable=True, comment="null: no limit"),
    Column("min_notional", Numeric, nullable=True, comment="null: no limit"),
    Column("tradable", Boolean, nullable=False),
    Column("ts_updated", BigInteger, nullable=False, comment="when the rules last changed, UTC ns"),
    comment="each instrument's current trading rules, as published on md.v1.instrument.*",
)
