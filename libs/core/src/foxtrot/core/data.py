"""Market data as the domain sees it: light, immutable, nanosecond-stamped."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId, TradeId

__all__ = ["Bar", "QuoteTick", "TradeTick", "ohlc_inconsistency"]


@dataclass(frozen=True, slots=True)
class TradeTick:
    """One trade printed on a venue."""

    instrument_id: InstrumentId
    price: Decimal
    size: Decimal
    aggressor_side: AggressorSide
    trade_id: TradeId
    ts_event: int
    ts_init: int


@dataclass(frozen=True, slots=True)
class QuoteTick:
    """Best bid and ask at one moment."""

    instrument_id: InstrumentId
    bid_price: Decimal
    ask_price: Decimal
    bid_size: Decimal
    ask_size: Decimal
    ts_event: int
    ts_init: int


@dataclass(frozen=True, slots=True)
class Bar:
    """Open, high, low, close and volume over one interval; ``ts_event`` is the close time.

    ``vwap``, ``trade_count`` and ``ts_open`` are known for bars Foxtrot aggregates itself
    and usually unknown (None) for bars read from a vendor's file.
    """

    instrument_id: InstrumentId
    spec: str
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    ts_event: int
    ts_init: int
    vwap: Decimal | None = None
    trade_count: int | None = None
    ts_open: int | None = None


def ohlc_inconsistency(open_: Decimal, high: Decimal, low: Decimal, close: Decimal) -> str | None:
    """Why four prices cannot be one bar (low <= open, close <= high), or None if they can."""
    if low <= open_ <= high and low <= close <= high:
        return None
    return f"need low <= open, close <= high, was o={open_} h={high} l={low} c={close}"
