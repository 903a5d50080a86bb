"""v1 market data: trades, quotes and bars as market_data publishes them."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from foxtrot.common.ids import trade_message_id
from foxtrot.common.messages.v1.envelope import Message
from foxtrot.common.messages.v1.types import (
    InstrumentIdStr,
    NonNegativeDecimalStr,
    PositiveDecimalStr,
    UnixNanos,
)
from foxtrot.core import data as core
from foxtrot.core.data import ohlc_inconsistency
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId, TradeId

__all__ = ["Bar", "BatchedTrade", "QuoteTick", "TradeBatch", "TradeTick"]

BarSpecStr = Field(
    pattern=r"^[1-9][0-9]*(s|m|h|d|t|v|q)$",
    description="interval and unit: s/m/h/d time, t ticks, v volume, q value",
    examples=["1m", "100t"],
)


class TradeTick(Message):
    """A trade printed on a venue. Subject: md.v1.trade.{venue}.{symbol}."""

    type: Literal["TradeTick"] = "TradeTick"
    instrument_id: InstrumentIdStr
    price: PositiveDecimalStr = Field(description="trade price")
    size: PositiveDecimalStr = Field(description="traded quantity")
    aggressor_side: AggressorSide = Field(description="side of the taker")
    trade_id: str = Field(min_length=1, max_length=64, description="venue trade id")

    def to_core(self) -> core.TradeTick:
        """The domain's view of this trade."""
        return core.TradeTick(
            InstrumentId.parse(self.instrument_id),
            self.price,
            self.size,
            self.aggressor_side,
            TradeId(self.trade_id),
            self.ts_event,
            self.ts_init,
        )

    @classmethod
    def from_core(cls, tick: core.TradeTick, **envelope: Any) -> Self:
        """Wrap a domain trade for the wire."""
        return cls(
            instrument_id=str(tick.instrument_id),
            price=tick.price,
            size=tick.size,
            aggressor_side=tick.aggressor_side,
            trade_id=tick.trade_id,
            ts_event=tick.ts_event,
            ts_init=tick.ts_init,
            **envelope,
        )


class BatchedTrade(BaseModel):
    """One trade in a :class:`TradeBatch`: a ``TradeTick`` without what the batch says once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    price: PositiveDecimalStr = Field(description="trade price")
    size: PositiveDecimalStr = Field(description="traded quantity")
    aggressor_side: AggressorSide = Field(description="side of the taker")
    trade_id: str = Field(min_length=1, max_length=64, description="venue trade id")
    ts_event: UnixNanos = Field(description="when the trade printed, UTC nanoseconds")
    ts_init: UnixNanos = Field(description="when market data took it in, UTC nanoseconds")


class TradeBatch(Message):
    """Consecutive trades of one instrument, in order. Subject: md.v1.trades.{venue}.{symbol}.

    Market data publishes every trade in a batch (one per instrument per read of its input,
    so a quiet feed's batch holds one trade and a busy one's up to a thousand), and on
    ``md.v1.trade.{venue}.{symbol}`` as well for the instruments configured to have per-tick
    subjects. Each trade keeps its own message id (:meth:`ticks`), the one its per-tick
    message carries: after a failover a survivor may publish a trade again in a batch cut
    differently, and a consumer that needs each trade once drops it by that id.
    """

    type: Literal["TradeBatch"] = "TradeBatch"
    instrument_id: InstrumentIdStr
    trades: tuple[BatchedTrade, ...] = Field(min_length=1, description="in the venue's order")

    def ticks(self) -> list[TradeTick]:
        """The trades as the ``TradeTick`` messages of the per-tick subject."""
        name = self.instrument_id
        return [
            TradeTick(
                message_id=(message_id := trade_message_id(name, trade.trade_id)),
                correlation_id=message_id,
                instrument_id=name,
                price=trade.price,
                size=trade.size,
                aggressor_side=trade.aggressor_side,
                trade_id=trade.trade_id,
                ts_event=trade.ts_event,
                ts_init=trade.ts_init,
            )
            for trade in self.trades
        ]

    def to_core(self) -> list[core.TradeTick]:
        """The domain's view of the trades."""
        instrument_id = InstrumentId.parse(self.instrument_id)
        return [
            core.TradeTick(
                instrument_id,
                trade.price,
                trade.size,
                trade.aggressor_side,
                TradeId(trade.trade_id),
                trade.ts_event,
                trade.ts_init,
            )
            for trade in self.trades
        ]


class QuoteTick(Message):
    """Best bid and ask. Subject: md.v1.quote.{venue}.{symbol}."""

    type: Literal["QuoteTick"] = "QuoteTick"
    instrument_id: InstrumentIdStr
    bid_price: PositiveDecimalStr
    ask_price: PositiveDecimalStr
    bid_size: NonNegativeDecimalStr
    ask_size: NonNegativeDecimalStr

    def to_core(self) -> core.QuoteTick:
        """The domain's view of this quote."""
        return core.QuoteTick(
            InstrumentId.parse(self.instrument_id),
            self.bid_price,
            self.ask_price,
            self.bid_size,
            self.ask_size,
            self.ts_event,
            self.ts_init,
        )


class Bar(Message):
    """OHLCV over one interval; ts_event is its close.

    Subject: md.v1.bar.{venue}.{symbol}.{spec}.
    """

    type: Literal["Bar"] = "Bar"
    instrument_id: InstrumentIdStr
    spec: str = BarSpecStr
    open: PositiveDecimalStr
    high: PositiveDecimalStr
    low: PositiveDecimalStr
    close: PositiveDecimalStr
    volume: NonNegativeDecimalStr
    vwap: PositiveDecimalStr | None = Field(
        default=None, description="volume-weighted average price; null when unknown or no volume"
    )
    trade_count: int | None = Field(default=None, ge=0, description="trades (or quote updates)")
    ts_open: UnixNanos | None = Field(default=None, description="start of the bar, UTC ns")

    @model_validator(mode="after")
    def _ohlc_consistent(self) -> Self:
        problem = ohlc_inconsistency(self.open, self.high, self.low, self.close)
        if problem:
            raise ValueError(problem)
        return self

    def to_core(self) -> core.Bar:
        """The domain's view of this bar."""
        return core.Bar(
            InstrumentId.parse(self.instrument_id),
            self.spec,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.ts_event,
            self.ts_init,
            self.vwap,
            self.trade_count,
            self.ts_open,
        )

    @classmethod
    def from_core(cls, bar: core.Bar, **envelope: Any) -> Self:
        """Wrap a domain bar for the wire."""
        return cls(
            instrument_id=str(bar.instrument_id),
            spec=bar.spec,
            open=bar.open,
            high=bar.high,
            low=bar.low,
            close=bar.close,
            volume=bar.volume,
            ts_event=bar.ts_event,
            ts_init=bar.ts_init,
            vwap=bar.vwap,
            trade_count=bar.trade_count,
            ts_open=bar.ts_open,
            **envelope,
        )
