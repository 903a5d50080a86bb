"""Every NATS subject Foxtrot uses, built in one place.

The shape is ``<domain>.v<major>.<type>.<qualifiers>``.
"""

from __future__ import annotations

from typing import Final

from foxtrot.core.identifiers import InstrumentId

__all__ = [
    "DEAD_LETTER_ALL",
    "EXEC_CANCEL_ORDER",
    "EXEC_COMMANDS",
    "EXEC_MODIFY_ORDER",
    "EXEC_SUBMIT_ORDER",
    "INGEST_BARS",
    "INGEST_TRADES",
    "MD_ALL_BARS",
    "MD_ALL_TRADES",
    "ORDER_EVENTS_ALL",
    "POSITION_EVENTS_ALL",
    "QRY_EXEC_ORDERS",
    "QRY_EXEC_POSITIONS",
    "QRY_MD_BARS",
    "QRY_MD_QUALITY",
    "RISK_COMMANDS",
    "RISK_MODIFY_ORDER",
    "RISK_SUBMIT_ORDER",
    "account_events",
    "bar",
    "book",
    "dead_letter",
    "ingest_bar",
    "ingest_trade",
    "order_events",
    "position_events",
    "quality",
    "quote",
    "risk_events",
    "trade",
]


def trade(instrument_id: InstrumentId) -> str:
    """Trades of one instrument: ``md.v1.trade.{venue}.{symbol}``."""
    return f"md.v1.trade.{instrument_id.venue}.{instrument_id.symbol}"


def quote(instrument_id: InstrumentId) -> str:
    """Quotes of one instrument: ``md.v1.quote.{venue}.{symbol}``."""
    return f"md.v1.quote.{instrument_id.venue}.{instrument_id.symbol}"


def bar(instrument_id: InstrumentId, spec: str) -> str:
    """Bars of one instrument and spec: ``md.v1.bar.{venue}.{symbol}.{spec}``."""
    return f"md.v1.bar.{instrument_id.venue}.{instrument_id.symbol}.{spec}"


def book(instrument_id: InstrumentId) -> str:
    """Book deltas and snapshots of one instrument: ``md.v1.book.{venue}.{symbol}``."""
    return f"md.v1.book.{instrument_id.venue}.{instrument_id.symbol}"


def quality(instrument_id: InstrumentId) -> str:
    """Data quality issues of one instrument: ``md.v1.quality.{venue}.{symbol}``."""
    return f"md.v1.quality.{instrument_id.venue}.{instrument_id.symbol}"


def ingest_trade(instrument_id: InstrumentId) -> str:
    """Where external tools publish trades: ``md.v1.ingest.trade.{venue}.{symbol}``."""
    return f"md.v1.ingest.trade.{instrument_id.venue}.{instrument_id.symbol}"


def ingest_bar(instrument_id: InstrumentId, spec: str) -> str:
    """Where external tools publish bars: ``md.v1.ingest.bar.{venue}.{symbol}.{spec}``."""
    return f"md.v1.ingest.bar.{instrument_id.venue}.{instrument_id.symbol}.{spec}"


def order_events(strategy_id: str) -> str:
    """Order events of one strategy: ``evt.v1.order.{strategy_id}``."""
    return f"evt.v1.order.{strategy_id}"


def position_events(strategy_id: str) -> str:
    """Position events of one strategy: ``evt.v1.position.{strategy_id}``."""
    return f"evt.v1.position.{strategy_id}"


def account_events(account_id: str) -> str:
    """Account states of one account: ``evt.v1.account.{account_id}``."""
    return f"evt.v1.account.{account_id}"


def risk_events(scope: str) -> str:
    """Trading-state and limit events of one scope: ``evt.v1.risk.{scope}``."""
    return f"evt.v1.risk.{scope}"


def dead_letter(service: str) -> str:
    """Where a service puts input it could not process: ``dlq.v1.{service}``."""
    return f"dlq.v1.{service}"


MD_ALL_TRADES: Final = "md.v1.trade.*.*"
MD_ALL_BARS: Final = "md.v1.bar.*.*.*"
INGEST_TRADES: Final = "md.v1.ingest.trade.*.*"
INGEST_BARS: Final = "md.v1.ingest.bar.*.*.*"

RISK_SUBMIT_ORDER: Final = "cmd.v1.risk.submit_order"
RISK_MODIFY_ORDER: Final = "cmd.v1.risk.modify_order"
RISK_COMMANDS: Final = "cmd.v1.risk.*"
EXEC_SUBMIT_ORDER: Final = "cmd.v1.exec.submit_order"
EXEC_MODIFY_ORDER: Final = "cmd.v1.exec.modify_order"
EXEC_CANCEL_ORDER: Final = "cmd.v1.exec.cancel_order"
EXEC_COMMANDS: Final = "cmd.v1.exec.*"

ORDER_EVENTS_ALL: Final = "evt.v1.order.*"
POSITION_EVENTS_ALL: Final = "evt.v1.position.*"
DEAD_LETTER_ALL: Final = "dlq.v1.*"

QRY_EXEC_ORDERS: Final = "qry.v1.exec.orders"
QRY_EXEC_POSITIONS: Final = "qry.v1.exec.positions"
QRY_MD_BARS: Final = "qry.v1.md.bars"
QRY_MD_QUALITY: Final = "qry.v1.md.quality"
