"""A simulated venue that fills orders against the market data it is shown.

Fill rules (the skeleton's; the execution issue refines them):

- A MARKET order fills in full, as taker, at the last price: the last trade's price, or the
  last bar's close. With no price yet it is rejected (``NO_MARKET_DATA``).
- A LIMIT order that is marketable on arrival (buy at or above the last price, sell at or
  below it) fills in full as taker at the last price; otherwise it rests. A resting order
  fills in full, as maker, at its limit price when a later trade prints through the limit
  or a later bar's range reaches it (low <= limit for a buy, high >= limit for a sell).
- IOC and FOK orders that cannot fill on arrival are canceled instead of resting.
- A post-only limit that would take liquidity on arrival is rejected
  (``POST_ONLY_WOULD_TAKE``), as Binance does; otherwise it rests like any limit.
- Other order types are rejected with ``UNSUPPORTED_ORDER_TYPE``.
- Commission is ``fee rate x notional`` in the venue's settlement currency.

Ids are derived from the client order id, so a replay produces the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from foxtrot.core.data import Bar, TradeTick
from foxtrot.core.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from foxtrot.core.events import (
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderFilled,
    OrderRejected,
)
from foxtrot.core.identifiers import ClientOrderId, InstrumentId, TradeId, VenueOrderId
from foxtrot.core.orders import OrderSpec

__all__ = ["SimulatedVenue", "VenueRejectCode"]


class VenueRejectCode:
    """Reason codes the simulated venue puts on OrderRejected."""

    NO_MARKET_DATA = "NO_MARKET_DATA"
    UNSUPPORTED_ORDER_TYPE = "UNSUPPORTED_ORDER_TYPE"
    POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"


@dataclass(slots=True)
class _Resting:
    spec: OrderSpec
    venue_order_id: VenueOrderId


@dataclass(slots=True)
class SimulatedVenue:
    """Matches orders against the latest trade or bar, in memory, deterministically."""

    name: str
    settlement_currency: str = "USD"
    taker_fee: Decimal = Decimal("0.0004")
    maker_fee: Decimal = Decimal("0.0002")
    _last: dict[InstrumentId, Decimal] = field(default_factory=dict)
    _resting: dict[ClientOrderId, _Resting] = field(default_factory=dict)

    def set_last_price(self, instrument_id: InstrumentId, price: Decimal) -> None:
        """Record a price without matching (a restart's view of the market)."""
        self._last[instrument_id] = price

    def last_price(self, instrument_id: InstrumentId) -> Decimal | None:
        """The latest price the venue has seen for an instrument."""
        return self._last.get(instrument_id)

    def open_orders(self) -> list[OrderSpec]:
        """Orders resting on the book."""
        return [r.spec for r in self._resting.values()]

    def submit(self, spec: OrderSpec, ts: int) -> list[OrderEvent]:
        """Take an order and return what happened to it at once."""
        if spec.order_type not in (OrderType.MARKET, OrderType.LIMIT):
            return [
                self._reject(
                    spec,
                    ts,
                    VenueRejectCode.UNSUPPORTED_ORDER_TYPE,
                    f"the simulated venue does not support {spec.order_type} yet",
                )
            ]
        last = self._last.get(spec.instrument_id)
        if spec.order_type is OrderType.MARKET and last is None:
            return [
                self._reject(
                    spec,
                    ts,
                    VenueRejectCode.NO_MARKET_DATA,
                    f"no price yet for {spec.instrument_id}",
                )
            ]
        if spec.post_only and last is not None and _marketable(spec, last):
            return [
                self._reject(
                    spec,
                    ts,
                    VenueRejectCode.POST_ONLY_WOULD_TAKE,
                    f"post-only {spec.side} limit {spec.price} would take liquidity at {last}",
                )
            ]
        venue_order_id = VenueOrderId(f"{self.name}-{spec.client_order_id}")
        events: list[OrderEvent] = [
            OrderAccepted(
                client_order_id=spec.client_order_id,
                strategy_id=spec.strategy_id,
                instrument_id=spec.instrument_id,
                ts_event=ts,
                venue_order_id=venue_order_id,
            )
        ]
        if last is not None and _marketable(spec, last):
            events.append(self._fill(spec, venue_order_id, last, LiquiditySide.TAKER, ts))
        elif spec.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            events.append(
                OrderCanceled(
                    client_order_id=spec.client_order_id,
                    strategy_id=spec.strategy_id,
                    instrument_id=spec.instrument_id,
                    ts_event=ts,
                )
            )
        else:
            self._resting[spec.client_order_id] = _Resting(spec, venue_order_id)
        return events

    def restore(self, spec: OrderSpec, venue_order_id: VenueOrderId) -> None:
        """Put back an order that was resting before a restart."""
        self._resting[spec.client_order_id] = _Resting(spec, venue_order_id)

    def forget(self, client_order_id: ClientOrderId) -> None:
        """Drop an order whose submission was rolled back."""
        self._resting.pop(client_order_id, None)

    def cancel(self, client_order_id: ClientOrderId, ts: int) -> list[OrderEvent]:
        """Cancel a resting order; an unknown or finished order gives no event."""
        resting = self._resting.pop(client_order_id, None)
        if resting is None:
            return []
        spec = resting.spec
        return [
            OrderCanceled(
                client_order_id=spec.client_order_id,
                strategy_id=spec.strategy_id,
                instrument_id=spec.instrument_id,
                ts_event=ts,
            )
        ]

    def on_trade(self, trade: TradeTick) -> list[OrderEvent]:
        """Record a trade and fill resting orders it prints through."""
        self._last[trade.instrument_id] = trade.price
        return self._match(trade.instrument_id, trade.price, trade.price, trade.ts_event)

    def on_bar(self, bar: Bar) -> list[OrderEvent]:
        """Record a bar's close and fill resting orders its range reaches."""
        self._last[bar.instrument_id] = bar.close
        return self._match(bar.instrument_id, bar.low, bar.high, bar.ts_event)

    def _match(
        self, instrument_id: InstrumentId, low: Decimal, high: Decimal, ts: int
    ) -> list[OrderEvent]:
        events: list[OrderEvent] = []
        for cid, resting in list(self._resting.items()):
            spec = resting.spec
            if spec.instrument_id != instrument_id or spec.price is None:
                continue
            reached = low <= spec.price if spec.side is OrderSide.BUY else high >= spec.price
            if reached:
                del self._resting[cid]
                events.append(
                    self._fill(spec, resting.venue_order_id, spec.price, LiquiditySide.MAKER, ts)
                )
        return events

    def _fill(
        self,
        spec: OrderSpec,
        venue_order_id: VenueOrderId,
        price: Decimal,
        liquidity: LiquiditySide,
        ts: int,
    ) -> OrderFilled:
        fee = self.taker_fee if liquidity is LiquiditySide.TAKER else self.maker_fee
        return OrderFilled(
            client_order_id=spec.client_order_id,
            strategy_id=spec.strategy_id,
            instrument_id=spec.instrument_id,
            ts_event=ts,
            venue_order_id=venue_order_id,
            trade_id=TradeId(f"{venue_order_id}-1"),
            side=spec.side,
            last_qty=spec.quantity,
            last_px=price,
            commission=spec.quantity * price * fee,
            commission_currency=self.settlement_currency,
            liquidity_side=liquidity,
        )

    @staticmethod
    def _reject(spec: OrderSpec, ts: int, code: str, reason: str) -> OrderRejected:
        return OrderRejected(
            client_order_id=spec.client_order_id,
            strategy_id=spec.strategy_id,
            instrument_id=spec.instrument_id,
            ts_event=ts,
            reason_code=code,
            reason=reason,
        )


def _marketable(spec: OrderSpec, last: Decimal) -> bool:
    if spec.order_type is OrderType.MARKET or spec.price is None:
        return True
    return spec.price >= last if spec.side is OrderSide.BUY else spec.price <= last
