"""Every NATS subject Foxtrot uses, built in one place.

The shape is ``<domain>.v<major>.<type>.<qualifiers>``.
"""

from __future__ import annotations

from typing import Final

from foxtrot.core.identifiers import InstrumentId

__all__ = [
    "ACCOUNT_EVENTS_ALL",
    "DEAD_LETTER_ALL",
    "EXEC_CANCEL_ORDER",
    "EXEC_COMMANDS",
    "EXEC_MODIFY_ORDER",
    "EXEC_SUBMIT_ORDER",
    "EXEC_SUBMIT_ORDER_LIST",
    "INGEST_BARS",
    "INGEST_INSTRUMENTS",
    "INGEST_PARTITIONED",
    "INGEST_PARTITIONS",
    "INGEST_QUOTES",
    "INGEST_TRADES",
    "INGEST_TRADE_BATCHES",
    "MD_ALL_BARS",
    "MD_ALL_INSTRUMENTS",
    "MD_ALL_QUOTES",
    "MD_ALL_TRADES",
    "MD_ALL_TRADE_BATCHES",
    "ORDER_EVENTS_ALL",
    "POSITION_EVENTS_ALL",
    "QRY_EXEC_ACCOUNTS",
    "QRY_EXEC_ORDERS",
    "QRY_EXEC_POSITIONS",
    "QRY_MD_BARS",
    "QRY_MD_INSTRUMENTS",
    "QRY_MD_QUALITY",
    "QRY_RISK_DECISIONS",
    "QRY_RISK_LIMITS",
    "QRY_RISK_LIMIT_CHANGES",
    "QRY_RISK_STATUS",
    "QRY_RISK_TRADING_STATES",
    "QRY_STRATEGY_AVAILABLE",
    "QRY_STRATEGY_BACKTEST",
    "QRY_STRATEGY_BACKTESTS",
    "QRY_STRATEGY_INSTANCES",
    "QRY_STRATEGY_QUERIES",
    "RISK_COMMANDS",
    "RISK_EVENTS_ALL",
    "RISK_MODIFY_ORDER",
    "RISK_SET_LIMITS",
    "RISK_SET_TRADING_STATE",
    "RISK_SUBMIT_ORDER",
    "RISK_SUBMIT_ORDER_LIST",
    "STRATEGY_CONTROL",
    "STRATEGY_EVENTS_ALL",
    "STRATEGY_RELOAD",
    "STRATEGY_REMOVE",
    "STRATEGY_RESET",
    "STRATEGY_RUN_BACKTEST",
    "STRATEGY_START",
    "STRATEGY_STOP",
    "account_events",
    "bar",
    "book",
    "dead_letter",
    "ingest_bar",
    "ingest_instrument",
    "ingest_mappings",
    "ingest_partition",
    "ingest_partition_of",
    "ingest_quote",
    "ingest_trade",
    "ingest_trades",
    "instrument",
    "matches",
    "order_events",
    "position_events",
    "quality",
    "quote",
    "risk_events",
    "strategy_events",
    "trade",
    "trades",
]


def trade(instrument_id: InstrumentId) -> str:
    """Trades of one instrument: ``md.v1.trade.{venue}.{symbol}``."""
    return f"md.v1.trade.{instrument_id.venue}.{instrument_id.symbol}"


def trades(instrument_id: InstrumentId) -> str:
    """Trade batches of one instrument: ``md.v1.trades.{venue}.{symbol}``."""
    return f"md.v1.trades.{instrument_id.venue}.{instrument_id.symbol}"


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


def instrument(instrument_id: InstrumentId) -> str:
    """Trading rules of one instrument: ``md.v1.instrument.{venue}.{symbol}``."""
    return f"md.v1.instrument.{instrument_id.venue}.{instrument_id.symbol}"


def ingest_trades(instrument_id: InstrumentId) -> str:
    """Where external publishers send batches of one instrument's trades (IngestTrades)."""
    return f"md.v1.ingest.trades.{instrument_id.venue}.{instrument_id.symbol}"


def ingest_quote(instrument_id: InstrumentId) -> str:
    """Where external tools publish best bid/ask: ``md.v1.ingest.quote.{venue}.{symbol}``."""
    return f"md.v1.ingest.quote.{instrument_id.venue}.{instrument_id.symbol}"


def ingest_trade(instrument_id: InstrumentId) -> str:
    """Where external tools publish trades: ``md.v1.ingest.trade.{venue}.{symbol}``."""
    return f"md.v1.ingest.trade.{instrument_id.venue}.{instrument_id.symbol}"


def ingest_bar(instrument_id: InstrumentId, spec: str) -> str:
    """Where external tools publish bars: ``md.v1.ingest.bar.{venue}.{symbol}.{spec}``."""
    return f"md.v1.ingest.bar.{instrument_id.venue}.{instrument_id.symbol}.{spec}"


def ingest_instrument(instrument_id: InstrumentId) -> str:
    """Where external tools define instruments: ``md.v1.ingest.instrument.{venue}.{symbol}``."""
    return f"md.v1.ingest.instrument.{instrument_id.venue}.{instrument_id.symbol}"


# Ingest partitions. nats-server maps every ingest subject onto one of
# INGEST_PARTITIONS partition subjects, md.v1.ingestp.{partition}.{kind}.{venue}.{symbol}...,
# by a hash of venue and symbol (the mapping is rendered into nats.conf by make nats-config,
# see ingest_mappings). One market_data replica at a time leases a partition, so each
# instrument is aggregated by exactly one replica. Changing the count means changing every
# nats.conf and restarting market_data.
INGEST_PARTITIONS: Final = 16
INGEST_PARTITIONED: Final = "md.v1.ingestp"


def ingest_partition(partition: int) -> str:
    """Filter for everything mapped into one partition: ``md.v1.ingestp.{partition}.>``."""
    return f"{INGEST_PARTITIONED}.{partition}.>"


def ingest_partition_of(venue: str, symbol: str, partitions: int = INGEST_PARTITIONS) -> int:
    """The partition nats-server maps ``venue``/``symbol`` to: FNV-1a (32 bit) of the two
    tokens joined without separator, modulo the count, as its ``partition()`` function does."""
    digest = 0x811C9DC5
    for byte in (venue + symbol).encode():
        digest = ((digest ^ byte) * 0x01000193) & 0xFFFFFFFF
    return digest % partitions


def ingest_mappings(partitions: int = INGEST_PARTITIONS) -> dict[str, str]:
    """nats-server subject mappings from ingest subjects (5 and 6 tokens after the domain
    and version: kind, venue, symbol and, for bars, spec) to their partition subjects."""
    part = f"{{{{partition({partitions},2,3)}}}}"
    three = "{{wildcard(1)}}.{{wildcard(2)}}.{{wildcard(3)}}"
    return {
        "md.v1.ingest.*.*.*": f"{INGEST_PARTITIONED}.{part}.{three}",
        "md.v1.ingest.*.*.*.*": f"{INGEST_PARTITIONED}.{part}.{three}.{{{{wildcard(4)}}}}",
    }


def order_events(strategy_id: str) -> str:
    """Order events of one strategy: ``evt.v1.order.{strategy_id}``."""
    return f"evt.v1.order.{strategy_id}"


def position_events(strategy_id: str) -> str:
    """Position events of one strategy: ``evt.v1.position.{strategy_id}``."""
    return f"evt.v1.position.{strategy_id}"


def account_events(account_id: str) -> str:
    """Account states of one account: ``evt.v1.account.{account_id}``."""
    return f"evt.v1.account.{account_id}"


def risk_events(scope: str, key: str) -> str:
    """Trading-state and limit events of one scope: ``evt.v1.risk.{scope}.{key}``, e.g.
    ``evt.v1.risk.strategy.sma-1`` or ``evt.v1.risk.instrument.BTCUSDT.BINANCE``."""
    return f"evt.v1.risk.{scope.lower()}.{key}"


def strategy_events(strategy_id: str) -> str:
    """Lifecycle events of one hosted strategy instance: ``evt.v1.strategy.{strategy_id}``
    (StrategyStarted, StrategyStopped, StrategyReloaded, StrategyFaulted, ...)."""
    return f"evt.v1.strategy.{strategy_id}"


def dead_letter(service: str) -> str:
    """Where a service puts input it could not process: ``dlq.v1.{service}``."""
    return f"dlq.v1.{service}"


MD_ALL_TRADES: Final = "md.v1.trade.*.*"
MD_ALL_TRADE_BATCHES: Final = "md.v1.trades.*.*"
MD_ALL_BARS: Final = "md.v1.bar.*.*.*"
MD_ALL_QUOTES: Final = "md.v1.quote.*.*"
MD_ALL_INSTRUMENTS: Final = "md.v1.instrument.*.*"
INGEST_TRADES: Final = "md.v1.ingest.trade.*.*"
INGEST_TRADE_BATCHES: Final = "md.v1.ingest.trades.*.*"
INGEST_QUOTES: Final = "md.v1.ingest.quote.*.*"
INGEST_BARS: Final = "md.v1.ingest.bar.*.*.*"
INGEST_INSTRUMENTS: Final = "md.v1.ingest.instrument.*.*"

RISK_SUBMIT_ORDER: Final = "cmd.v1.risk.submit_order"
RISK_MODIFY_ORDER: Final = "cmd.v1.risk.modify_order"
RISK_SUBMIT_ORDER_LIST: Final = "cmd.v1.risk.submit_order_list"
RISK_SET_TRADING_STATE: Final = "cmd.v1.risk.set_trading_state"
RISK_SET_LIMITS: Final = "cmd.v1.risk.set_limits"
RISK_COMMANDS: Final = "cmd.v1.risk.*"
RISK_EVENTS_ALL: Final = "evt.v1.risk.>"
EXEC_SUBMIT_ORDER: Final = "cmd.v1.exec.submit_order"
EXEC_MODIFY_ORDER: Final = "cmd.v1.exec.modify_order"
EXEC_SUBMIT_ORDER_LIST: Final = "cmd.v1.exec.submit_order_list"
EXEC_CANCEL_ORDER: Final = "cmd.v1.exec.cancel_order"
EXEC_COMMANDS: Final = "cmd.v1.exec.*"

ORDER_EVENTS_ALL: Final = "evt.v1.order.*"
POSITION_EVENTS_ALL: Final = "evt.v1.position.*"
ACCOUNT_EVENTS_ALL: Final = "evt.v1.account.*"
DEAD_LETTER_ALL: Final = "dlq.v1.*"

# Control of the strategy service's instances and backtests: NATS request/reply, answered at
# once by the strategy service. ``ctl``, not ``cmd``: the FOXTROT_COMMANDS stream captures
# ``cmd.v1.>``, and a request on a subject a stream captures is answered by the stream's
# publish acknowledgement before any service can answer it. What a control request changes
# is recorded on ``evt.v1.strategy.{strategy_id}`` (the EVENTS stream) instead.
STRATEGY_START: Final = "ctl.v1.strategy.start"
STRATEGY_STOP: Final = "ctl.v1.strategy.stop"
STRATEGY_RELOAD: Final = "ctl.v1.strategy.reload"
STRATEGY_RESET: Final = "ctl.v1.strategy.reset"
STRATEGY_REMOVE: Final = "ctl.v1.strategy.remove"
STRATEGY_RUN_BACKTEST: Final = "ctl.v1.strategy.run_backtest"
STRATEGY_CONTROL: Final = "ctl.v1.strategy.>"
STRATEGY_EVENTS_ALL: Final = "evt.v1.strategy.*"

QRY_EXEC_ACCOUNTS: Final = "qry.v1.exec.accounts"
QRY_EXEC_ORDERS: Final = "qry.v1.exec.orders"
QRY_EXEC_POSITIONS: Final = "qry.v1.exec.positions"
QRY_RISK_TRADING_STATES: Final = "qry.v1.risk.trading_states"
QRY_RISK_LIMITS: Final = "qry.v1.risk.limits"
QRY_RISK_LIMIT_CHANGES: Final = "qry.v1.risk.limit_changes"
QRY_RISK_DECISIONS: Final = "qry.v1.risk.decisions"
QRY_RISK_STATUS: Final = "qry.v1.risk.status"
QRY_MD_BARS: Final = "qry.v1.md.bars"
QRY_MD_QUALITY: Final = "qry.v1.md.quality"
QRY_MD_INSTRUMENTS: Final = "qry.v1.md.instruments"
QRY_STRATEGY_INSTANCES: Final = "qry.v1.strategy.instances"
QRY_STRATEGY_AVAILABLE: Final = "qry.v1.strategy.available"
QRY_STRATEGY_BACKTESTS: Final = "qry.v1.strategy.backtests"
QRY_STRATEGY_BACKTEST: Final = "qry.v1.strategy.backtest"
QRY_STRATEGY_QUERIES: Final = "qry.v1.strategy.>"


def matches(pattern: str, subject: str) -> bool:
    """Whether ``subject`` is on ``pattern`` as NATS matches them: ``*`` is exactly one
    token, a final ``>`` one or more."""
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return i == len(want) - 1 and len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(want) == len(have)
