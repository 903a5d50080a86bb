"""Local emulation of order types a venue does not take: stops, if-touched, trailing stops.

The emulator holds such orders and watches market data for their trigger; when it fires
it emits OrderTriggered and hands back a :class:`Release`: the MARKET or LIMIT order to
send to the venue in their place, under the same client order id.

Trigger rules, for the price ``p`` the data shows:

- which price: a quote's ask for a buy and its bid for a sell; a trade's price; a bar's
  prices in the order :func:`foxtrot.core.fill_model.bar_path` assumes (open, nearer
  extreme, farther extreme, close);
- STOP_MARKET, STOP_LIMIT and trailing stops trigger when ``p`` reaches the trigger
  against the position: a buy at ``p >= trigger``, a sell at ``p <= trigger``;
- MARKET_IF_TOUCHED and LIMIT_IF_TOUCHED trigger when ``p`` reaches it in the order's
  favour: a buy at ``p <= trigger``, a sell at ``p >= trigger``;
- a trailing stop's trigger follows the best price since it started working at
  ``trailing_offset`` (a price distance, or basis points of that price) and never moves
  back; it starts from the market when no trigger was given. Each move is an
  OrderUpdated, and for a trailing stop-limit the limit moves with it at ``limit_offset``;
- what triggers on a price is released after the data that showed it: the venue fills it
  from the next data (a stop triggered inside a bar trades from the next bar's open).

Held orders expire like resting ones: GTD at ``expire_time_ns``, DAY at the next 00:00 UTC.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Final

from foxtrot.core.book import OrderBook
from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.enums import OrderSide, OrderType, TrailingOffsetType
from foxtrot.core.events import OrderEvent, OrderExpired, OrderTriggered, OrderUpdated
from foxtrot.core.fill_model import bar_path
from foxtrot.core.identifiers import ClientOrderId, InstrumentId
from foxtrot.core.instruments import Instrument
from foxtrot.core.order_spec import OrderSpec

__all__ = ["EMULATED_ORDER_TYPES", "OrderEmulator", "Release", "released"]

EMULATED_ORDER_TYPES: Final = frozenset(
    {
        OrderType.STOP_MARKET,
        OrderType.STOP_LIMIT,
        OrderType.MARKET_IF_TOUCHED,
        OrderType.LIMIT_IF_TOUCHED,
        OrderType.TRAILING_STOP_MARKET,
        OrderType.TRAILING_STOP_LIMIT,
    }
)
_TOUCHED: Final = frozenset({OrderType.MARKET_IF_TOUCHED, OrderType.LIMIT_IF_TOUCHED})
_RELEASED_AS_MARKET: Final = frozenset(
    {OrderType.STOP_MARKET, OrderType.MARKET_IF_TOUCHED, OrderType.TRAILING_STOP_MARKET}
)
_BPS: Final = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Release:
    """A held order triggered: send ``spec`` (MARKET or LIMIT) to the venue instead."""

    spec: OrderSpec


@dataclass(slots=True)
class _Held:
    spec: OrderSpec
    expire_ns: int | None


class OrderEmulator:
    """Holds orders with triggers and releases them when the market reaches the trigger."""

    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        self._held: dict[ClientOrderId, _Held] = {}
        self._ticks = {i.instrument_id: i.tick_size for i in instruments}
        # The last price seen per instrument, for each side: (for buys, for sells).
        self._last: dict[InstrumentId, tuple[Decimal, Decimal]] = {}

    def add_instrument(self, instrument: Instrument) -> None:
        """Know an instrument's tick size, so trailing triggers land on a tick."""
        self._ticks[instrument.instrument_id] = instrument.tick_size

    def held(self) -> list[OrderSpec]:
        """Orders waiting for their trigger."""
        return [h.spec for h in self._held.values()]

    def is_held(self, client_order_id: ClientOrderId) -> bool:
        """True while the order waits here for its trigger."""
        return client_order_id in self._held

    def hold(self, spec: OrderSpec, ts: int) -> list[OrderEvent]:
        """Start watching an order that started working at ``ts``; a trailing stop without
        a trigger starts from the last price seen (an OrderUpdated), or from the first
        price to come."""
        if spec.order_type not in EMULATED_ORDER_TYPES:
            raise ValueError(f"the emulator holds orders with triggers, not {spec.order_type}")
        self._held[spec.client_order_id] = _Held(spec, spec.expiry(ts))
        last = self._last.get(spec.instrument_id)
        if last is None or not spec.order_type.is_trailing or spec.trigger_price is not None:
            return []
        return self._trail(self._held[spec.client_order_id], _side_price(last, spec.side), ts)

    def cancel(self, client_order_id: ClientOrderId) -> OrderSpec | None:
        """Stop holding an order; None when it is not held (triggered or unknown)."""
        held = self._held.pop(client_order_id, None)
        return held.spec if held is not None else None

    def modify(
        self,
        client_order_id: ClientOrderId,
        ts: int,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> OrderUpdated:
        """Change a held order; raises InvalidOrder (from the spec) when the change
        contradicts the order, and KeyError when it is not held."""
        held = self._held[client_order_id]
        held.spec = dataclasses.replace(
            held.spec,
            quantity=quantity if quantity is not None else held.spec.quantity,
            price=price if price is not None else held.spec.price,
            trigger_price=trigger_price if trigger_price is not None else held.spec.trigger_price,
        )
        return OrderUpdated(
            **held.spec.event_fields(ts),
            quantity=quantity,
            price=price,
            trigger_price=trigger_price,
        )

    def on_quote(self, quote: QuoteTick) -> list[OrderEvent | Release]:
        """Check triggers against a quote: asks for buys, bids for sells."""
        return self._on_prices(
            quote.instrument_id, [(quote.ask_price, quote.bid_price)], quote.ts_init
        )

    def on_trade(self, trade: TradeTick) -> list[OrderEvent | Release]:
        """Check triggers against a trade's price."""
        if not self._held:  # nothing to trigger or expire: only remember the price
            self._last[trade.instrument_id] = (trade.price, trade.price)
            return []
        return self._on_prices(trade.instrument_id, [(trade.price, trade.price)], trade.ts_init)

    def on_bar(self, bar: Bar) -> list[OrderEvent | Release]:
        """Check triggers against a bar's prices, in the order the bar is assumed to take."""
        if not self._held:  # nothing to trigger or expire: only remember the close
            self._last[bar.instrument_id] = (bar.close, bar.close)
            return []
        path = bar_path(bar.open, bar.high, bar.low, bar.close)
        return self._on_prices(bar.instrument_id, [(p, p) for p in path], bar.ts_init)

    def on_book(self, book: OrderBook, ts: int) -> list[OrderEvent | Release]:
        """Check triggers against the book's best ask (buys) and best bid (sells)."""
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            return list(self._expire(ts))
        return self._on_prices(book.instrument_id, [(ask.price, bid.price)], ts)

    def advance(self, ts: int) -> list[OrderEvent | Release]:
        """Expire held orders whose time in force ran out by ``ts``."""
        return list(self._expire(ts))

    def _on_prices(
        self, instrument_id: InstrumentId, prices: list[tuple[Decimal, Decimal]], ts: int
    ) -> list[OrderEvent | Release]:
        out: list[OrderEvent | Release] = list(self._expire(ts))
        for held in list(self._held.values()):
            if held.spec.instrument_id != instrument_id:
                continue
            for pair in prices:
                price = _side_price(pair, held.spec.side)
                if held.spec.trigger_price is not None and _triggers(held.spec, price):
                    out += self._release(held, ts)
                    break
                if held.spec.order_type.is_trailing:
                    out += self._trail(held, price, ts)
        self._last[instrument_id] = prices[-1]
        return out

    def _trail(self, held: _Held, price: Decimal, ts: int) -> list[OrderEvent]:
        """Move a trailing stop's trigger (and limit) toward ``price``, never back."""
        spec = held.spec
        assert spec.trailing_offset is not None
        sell = spec.side is OrderSide.SELL
        away = -1 if sell else 1  # a sell's stop trails below the market, a buy's above
        trigger = _offset(price, spec.trailing_offset, spec.trailing_offset_type, away)
        tick = self._ticks.get(spec.instrument_id)
        if tick is not None:
            rounding = ROUND_FLOOR if sell else ROUND_CEILING
            trigger = (trigger / tick).to_integral_value(rounding) * tick
        current = spec.trigger_price
        if current is not None and (trigger <= current if sell else trigger >= current):
            return []
        limit = None
        if spec.order_type is OrderType.TRAILING_STOP_LIMIT:
            assert spec.limit_offset is not None
            limit = _offset(trigger, spec.limit_offset, spec.trailing_offset_type, away)
        price_now = limit if limit is not None else spec.price
        held.spec = dataclasses.replace(spec, trigger_price=trigger, price=price_now)
        return [OrderUpdated(**spec.event_fields(ts), trigger_price=trigger, price=limit)]

    def _release(self, held: _Held, ts: int) -> list[OrderEvent | Release]:
        spec = held.spec
        del self._held[spec.client_order_id]
        return [OrderTriggered(**spec.event_fields(ts)), Release(released(spec))]

    def _expire(self, ts: int) -> Iterable[OrderEvent]:
        for cid, held in list(self._held.items()):
            if held.expire_ns is not None and held.expire_ns <= ts:
                del self._held[cid]
                yield OrderExpired(**held.spec.event_fields(held.expire_ns))


def released(spec: OrderSpec) -> OrderSpec:
    """The MARKET or LIMIT order a triggered order becomes at its venue."""
    as_market = spec.order_type in _RELEASED_AS_MARKET
    return dataclasses.replace(
        spec,
        order_type=OrderType.MARKET if as_market else OrderType.LIMIT,
        price=None if as_market else spec.price,
        trigger_price=None,
        trailing_offset=None,
        trailing_offset_type=TrailingOffsetType.PRICE,
        limit_offset=None,
        display_qty=None if as_market else spec.display_qty,
    )


def _triggers(spec: OrderSpec, price: Decimal) -> bool:
    trigger = spec.trigger_price
    assert trigger is not None
    favourable = spec.order_type in _TOUCHED
    buy = spec.side is OrderSide.BUY
    if buy != favourable:  # a buy stop, or a sell if-touched: the price rises to it
        return price >= trigger
    return price <= trigger


def _offset(price: Decimal, offset: Decimal, unit: TrailingOffsetType, sign: int) -> Decimal:
    distance = offset if unit is TrailingOffsetType.PRICE else price * offset / _BPS
    return price + sign * distance


def _side_price(pair: tuple[Decimal, Decimal], side: OrderSide) -> Decimal:
    return pair[0] if side is OrderSide.BUY else pair[1]
