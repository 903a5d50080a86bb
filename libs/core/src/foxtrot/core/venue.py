"""A simulated venue: matches MARKET and LIMIT orders against the market data it is shown.

Paper trading runs it live and the backtester runs it on a simulated clock; it is pure, so
a run with the same data, orders and ``seed`` gives the same fills. Types with a trigger
(stops, if-touched, trailing stops) are emulated by :mod:`foxtrot.core.emulator` and reach
the venue as MARKET or LIMIT orders when they trigger.

Fill rules (liquidity per kind of data is described in :mod:`foxtrot.core.fill_model`):

1. **Latency.** A submit, modify or cancel sent at ``ts`` reaches the venue at
   ``ts + latency_ns``; everything before that (fills included) happens without it. The
   venue acknowledges an order (OrderAccepted) when it arrives. Data stamped before an order
   arrived never trades it (live, a bar handled late cannot fill an order sent after it).
2. **Arrival.** An order that arrives while standing liquidity (an L2 book or an L1 quote)
   is known trades against it at once, as taker, within its limit: level by level, one
   fill per level. With only trades or bars seen so far, a MARKET order, or a LIMIT priced
   through the last trade, takes liquidity from the next trade or bar instead: a trade's
   price or **a bar's open** (plus slippage), up to the trade's size or the bar's volume
   share. A MARKET order keeps taking from each later trade or bar until it is filled.
3. **Resting limits** are makers and fill at their own limit price when the market goes
   through it: an ask or bid at or beyond it in a new quote or book, a trade printed
   beyond it, or a bar whose range goes beyond it. A trade or bar that only touches the
   limit fills it with the fill model's ``prob_fill_at_limit``. A bar that opens through a
   resting limit fills it at the open (the gap's auction). Each fill takes at most what
   the data offers (partial fills when liquidity is thin) and, for an iceberg, at most
   one ``display_qty`` slice per piece of data: each slice rejoins the back of the queue.
4. **Time in force.** IOC takes what its first chance to trade offers and cancels the
   rest; FOK fills in full at its first chance or is canceled without a fill; GTD expires
   at ``expire_time_ns``; DAY expires at the next 00:00 UTC after it arrived (the
   venue's session end). Expiry is checked before the data at or after that time trades.
5. **Flags.** A post-only limit that would take on arrival (or after a modify) is
   rejected (``POST_ONLY_WOULD_TAKE``). A reduce-only order must face the net position
   of the venue's one account (else ``REDUCE_ONLY_WOULD_INCREASE``); its fills never
   exceed that position, and what is left when the position is flat is canceled.
6. **Fees.** Commission is ``fee x price x quantity`` at the maker or taker rate, in the
   instrument's quote currency (the venue's settlement currency when the instrument is
   not known).

The venue's clock is the data's ``ts_init`` (when Foxtrot received it; the data's own
time in a backtest) and the ``ts`` of each request, so latency and expiry are measured on
one clock. Venue order ids and trade ids are derived from client order ids, so a replay
gives the same ids.
"""

from __future__ import annotations

import bisect
import dataclasses
import random
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from foxtrot.core.book import OrderBook
from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from foxtrot.core.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderUpdated,
)
from foxtrot.core.fill_model import FillModel, Level, Liquidity, round_down, within
from foxtrot.core.identifiers import ClientOrderId, InstrumentId, TradeId, VenueOrderId
from foxtrot.core.instruments import Instrument
from foxtrot.core.order_spec import OrderSpec

__all__ = ["NATIVE_ORDER_TYPES", "SimulatedVenue", "VenueRejectCode"]

NATIVE_ORDER_TYPES: Final = frozenset({OrderType.MARKET, OrderType.LIMIT})
_ZERO: Final = Decimal(0)
_BOOK_DEPTH: Final = 50
_NOT_WORKING: Final = "the venue holds no working order by that id"


class VenueRejectCode:
    """Reason codes the simulated venue puts on its refusals."""

    NO_MARKET_DATA = "NO_MARKET_DATA"
    UNSUPPORTED_ORDER_TYPE = "UNSUPPORTED_ORDER_TYPE"
    POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"
    REDUCE_ONLY_WOULD_INCREASE = "REDUCE_ONLY_WOULD_INCREASE"
    GTD_ALREADY_EXPIRED = "GTD_ALREADY_EXPIRED"
    DUPLICATE_CLIENT_ORDER_ID = "DUPLICATE_CLIENT_ORDER_ID"
    NOT_RESTING = "NOT_RESTING"
    QUANTITY_NOT_ABOVE_FILLED = "QUANTITY_NOT_ABOVE_FILLED"


@dataclass(slots=True)
class _Working:
    spec: OrderSpec
    venue_order_id: VenueOrderId
    filled: Decimal = _ZERO
    fills: int = 0
    expire_ns: int | None = None
    # True until the order has had its first chance to take liquidity after arriving.
    first_chance: bool = True
    # When it reached the venue: data from before then cannot trade it (live, a bar the
    # execution service handles late must not fill an order sent after that bar).
    arrived_ns: int = 0

    @property
    def leaves(self) -> Decimal:
        return self.spec.quantity - self.filled

    @property
    def takes(self) -> bool:
        """True while the order trades as taker: a MARKET order, or a limit on its first
        chance that was priced through the market when it arrived."""
        return self.spec.order_type is OrderType.MARKET or self.first_chance


@dataclass(frozen=True, slots=True)
class _Request:
    arrival: int
    seq: int
    kind: str  # "submit", "modify" or "cancel"
    spec: OrderSpec
    quantity: Decimal | None = None
    price: Decimal | None = None


@dataclass(slots=True)
class _Market:
    standing: Liquidity | None = None
    last: Decimal | None = None


class SimulatedVenue:
    """A deterministic in-memory venue with latency, partial fills, fees and slippage."""

    native_order_types: Final = NATIVE_ORDER_TYPES

    def __init__(
        self,
        name: str,
        settlement_currency: str = "USD",
        taker_fee: Decimal = Decimal("0.0004"),
        maker_fee: Decimal = Decimal("0.0002"),
        *,
        latency_ns: int = 0,
        fill_model: FillModel | None = None,
        seed: int = 0,
        instruments: Iterable[Instrument] = (),
    ) -> None:
        if latency_ns < 0:
            raise ValueError(f"latency_ns must not be negative, was {latency_ns}")
        self.name = name
        self.settlement_currency = settlement_currency
        self.taker_fee = taker_fee
        self.maker_fee = maker_fee
        self.latency_ns = latency_ns
        self.fill_model = fill_model or FillModel()
        self._rng = random.Random(seed)
        self._instruments = {i.instrument_id: i for i in instruments}
        self._markets: dict[InstrumentId, _Market] = {}
        self._working: dict[ClientOrderId, _Working] = {}
        self._inflight: list[_Request] = []
        self._seq = 0
        # The venue holds one account (the paper account): its net position per instrument.
        self._net: dict[InstrumentId, Decimal] = {}

    # --- what the venue knows ---------------------------------------------------------

    def add_instrument(self, instrument: Instrument) -> None:
        """Know an instrument's tick, lot and quote currency (fees, slippage, lot rounding)."""
        self._instruments[instrument.instrument_id] = instrument

    def set_last_price(self, instrument_id: InstrumentId, price: Decimal) -> None:
        """Record a price without matching (a restart's view of the market)."""
        self._market(instrument_id).last = price

    def last_price(self, instrument_id: InstrumentId) -> Decimal | None:
        """The latest trade price, mid quote, book mid or bar close the venue has seen."""
        market = self._markets.get(instrument_id)
        return market.last if market is not None else None

    def open_orders(self) -> list[OrderSpec]:
        """Orders working at the venue, in time priority."""
        return [w.spec for w in self._working.values()]

    def net_position(self, instrument_id: InstrumentId) -> Decimal:
        """The account's signed net quantity in an instrument from the venue's own fills."""
        return self._net.get(instrument_id, _ZERO)

    # --- requests ---------------------------------------------------------------------

    def submit(self, spec: OrderSpec, ts: int) -> list[OrderEvent]:
        """Send an order; returns what happened by ``ts`` (nothing yet under latency)."""
        if self.latency_ns == 0 and not self._inflight:
            # It arrives now and nothing is ahead of it: no need to queue it first.
            self._seq += 1
            events = self._expire(ts) if self._working else []
            return events + self._arrive(spec, ts)
        return self._request(_Request(ts + self.latency_ns, self._next_seq(), "submit", spec))

    def modify(
        self, spec: OrderSpec, ts: int, quantity: Decimal | None, price: Decimal | None
    ) -> list[OrderEvent]:
        """Ask to change a working order's quantity or limit price."""
        request = _Request(ts + self.latency_ns, self._next_seq(), "modify", spec, quantity, price)
        return self._request(request)

    def cancel(self, spec: OrderSpec, ts: int) -> list[OrderEvent]:
        """Ask to cancel a working order; one that is no longer working is CancelRejected."""
        return self._request(_Request(ts + self.latency_ns, self._next_seq(), "cancel", spec))

    def restore(
        self,
        spec: OrderSpec,
        venue_order_id: VenueOrderId,
        filled_qty: Decimal = _ZERO,
        fills: int = 0,
        ts_accepted: int = 0,
    ) -> None:
        """Put back an order that was working before a restart. It arrived when it was
        accepted, so data stamped before then does not trade it either."""
        self._working[spec.client_order_id] = _Working(
            spec, venue_order_id, filled_qty, fills, spec.expiry(ts_accepted), False, ts_accepted
        )

    def restore_position(self, instrument_id: InstrumentId, quantity: Decimal) -> None:
        """Put back the account's net position after a restart (reduce-only checks use it)."""
        self._net[instrument_id] = quantity

    def forget(self, client_order_id: ClientOrderId) -> None:
        """Drop an order whose submission was rolled back."""
        self._working.pop(client_order_id, None)
        self._inflight = [r for r in self._inflight if r.spec.client_order_id != client_order_id]

    # --- market data --------------------------------------------------------------------

    def on_quote(self, quote: QuoteTick) -> list[OrderEvent]:
        """New best bid and ask: standing liquidity until the next quote or book."""
        liquidity = Liquidity(
            asks=[Level(quote.ask_price, quote.ask_size)],
            bids=[Level(quote.bid_price, quote.bid_size)],
            standing=True,
        )
        mid = (quote.bid_price + quote.ask_price) / 2
        return self._on_data(quote.instrument_id, quote.ts_init, liquidity, mid)

    def on_book(self, book: OrderBook, ts: int) -> list[OrderEvent]:
        """A new state of the L2 book: every level is standing liquidity."""
        liquidity = Liquidity(
            asks=[Level(lv.price, lv.size) for lv in book.asks(_BOOK_DEPTH)],
            bids=[Level(lv.price, lv.size) for lv in book.bids(_BOOK_DEPTH)],
            standing=True,
            from_book=True,
        )
        bid, ask = book.best_bid(), book.best_ask()
        mid = (bid.price + ask.price) / 2 if bid and ask else None
        return self._on_data(book.instrument_id, ts, liquidity, mid)

    def on_trade(self, trade: TradeTick) -> list[OrderEvent]:
        """A trade passes: its size at its price, once."""
        price = trade.price
        if not self._working and not self._inflight:
            self._market(trade.instrument_id).last = price  # nothing can trade or arrive
            return []
        liquidity = Liquidity(
            asks=[Level(price, trade.size)], bids=[Level(price, trade.size)], low=price, high=price
        )
        return self._on_data(trade.instrument_id, trade.ts_init, liquidity, price)

    def on_bar(self, bar: Bar) -> list[OrderEvent]:
        """A bar passes: its volume share at its open for takers, its range for limits."""
        if not self._working and not self._inflight:
            # Nothing can trade, arrive or expire: only the last price moves. Most records
            # of a backtest come while nothing works, so this skips building the liquidity.
            self._market(bar.instrument_id).last = bar.close
            return []
        pool = bar.volume * self.fill_model.bar_volume_share
        liquidity = Liquidity(
            asks=[Level(bar.open, pool)],
            bids=[Level(bar.open, pool)],
            low=bar.low,
            high=bar.high,
            open=bar.open,
        )
        # Both sides draw on one pool: a bar's volume is what traded, whichever way.
        liquidity.bids = liquidity.asks
        return self._on_data(bar.instrument_id, bar.ts_init, liquidity, bar.close)

    def advance(self, ts: int) -> list[OrderEvent]:
        """Let time pass without data: requests arrive and orders expire."""
        return self._arrive_until(ts) + self._expire(ts)

    # --- the matching -------------------------------------------------------------------

    def _on_data(
        self, instrument_id: InstrumentId, ts: int, liquidity: Liquidity, last: Decimal | None
    ) -> list[OrderEvent]:
        events = self._arrive_until(ts) + self._expire(ts)
        market = self._market(instrument_id)
        if liquidity.standing:
            market.standing = liquidity
        if last is not None:
            market.last = last
        for w in list(self._working.values()):
            if w.spec.instrument_id == instrument_id and w.leaves > 0 and ts >= w.arrived_ns:
                events += self._chance(w, liquidity, ts)
        return events

    def _chance(self, w: _Working, liquidity: Liquidity, ts: int) -> list[OrderEvent]:
        """One piece of data meets one working order."""
        events: list[OrderEvent] = []
        if w.takes:
            events += self._take(w, liquidity, ts)
        if w.leaves > 0 and w.spec.order_type is OrderType.LIMIT and not w.takes:
            events += self._rest(w, liquidity, ts)
        return events + self._after_chance(w, ts)

    def _take(self, w: _Working, liquidity: Liquidity, ts: int) -> list[OrderEvent]:
        spec = w.spec
        w.first_chance = False
        if spec.time_in_force is TimeInForce.FOK and liquidity.available(
            spec.side, spec.price
        ) < self._fillable(w, w.leaves):
            return []
        events: list[OrderEvent] = []
        tick = self._tick(spec.instrument_id)
        for level in liquidity.side_for(spec.side):
            if w.leaves <= 0 or not within(level.price, spec.side, spec.price):
                break
            price = (
                level.price
                if liquidity.from_book
                else self.fill_model.slipped(level.price, spec.side, self._rng, tick)
            )
            fill = self._fill_from(w, level, price, LiquiditySide.TAKER, ts, w.leaves)
            if fill is None:
                break
            events.append(fill)
        return events

    def _rest(self, w: _Working, liquidity: Liquidity, ts: int) -> list[OrderEvent]:
        spec = w.spec
        assert spec.price is not None
        limit, side = spec.price, spec.side
        reached = liquidity.reached(side)
        if reached is None:
            return []
        through = reached < limit if side is OrderSide.BUY else reached > limit
        touched = reached == limit and (
            liquidity.standing or self.fill_model.fills_at_touch(self._rng)
        )
        if not (through or touched):
            return []
        price = limit
        if liquidity.open is not None and within(liquidity.open, side, limit):
            price = liquidity.open  # the bar opened through the limit
        slice_ = spec.display_qty or w.leaves
        events: list[OrderEvent] = []
        for level in liquidity.side_for(side):
            if liquidity.standing and not within(level.price, side, limit):
                break
            fill = self._fill_from(w, level, price, LiquiditySide.MAKER, ts, slice_)
            if fill is None:
                break
            slice_ -= fill.last_qty
            events.append(fill)
            if slice_ <= 0 or w.leaves <= 0:
                break
        return events

    def _fill_from(
        self,
        w: _Working,
        level: Level,
        price: Decimal,
        liquidity_side: LiquiditySide,
        ts: int,
        most: Decimal,
    ) -> OrderFilled | None:
        spec = w.spec
        qty = self._fillable(w, min(most, w.leaves, level.size))
        if qty <= 0:
            return None
        level.size -= qty
        w.filled += qty
        w.fills += 1
        key = spec.instrument_id
        self._net[key] = self._net.get(key, _ZERO) + qty * spec.side.sign
        fee = self.taker_fee if liquidity_side is LiquiditySide.TAKER else self.maker_fee
        instrument = self._instruments.get(spec.instrument_id)
        return OrderFilled(
            **spec.event_fields(ts),
            venue_order_id=w.venue_order_id,
            trade_id=TradeId(f"{w.venue_order_id}-{w.fills}"),
            side=spec.side,
            last_qty=qty,
            last_px=price,
            commission=qty * price * fee,
            commission_currency=(
                instrument.quote_currency if instrument else self.settlement_currency
            ),
            liquidity_side=liquidity_side,
        )

    def _fillable(self, w: _Working, qty: Decimal) -> Decimal:
        """``qty`` cut to whole lots and, for reduce-only, to the position it faces."""
        instrument = self._instruments.get(w.spec.instrument_id)
        qty = round_down(qty, instrument.lot_size if instrument else None)
        if w.spec.reduce_only:
            qty = min(qty, self._reducible(w.spec))
        return qty

    def _reducible(self, spec: OrderSpec) -> Decimal:
        net = self.net_position(spec.instrument_id)
        return max(_ZERO, -net * spec.side.sign)

    def _after_chance(self, w: _Working, ts: int) -> list[OrderEvent]:
        """Finish a filled order, or cancel what IOC / FOK / reduce-only leaves over."""
        spec = w.spec
        if w.leaves <= 0:
            del self._working[spec.client_order_id]
            return []
        ioc = spec.time_in_force in (TimeInForce.IOC, TimeInForce.FOK)
        if (ioc and not w.first_chance) or (spec.reduce_only and self._reducible(spec) <= 0):
            del self._working[spec.client_order_id]
            return [OrderCanceled(**spec.event_fields(ts))]
        return []

    # --- requests arriving --------------------------------------------------------------

    def _request(self, request: _Request) -> list[OrderEvent]:
        if self.latency_ns == 0 and not self._inflight:
            return self._arrive_one(request)  # what queueing it and arriving would do
        bisect.insort(self._inflight, request, key=lambda r: (r.arrival, r.seq))
        if self.latency_ns == 0:
            return self._arrive_until(request.arrival)
        return []

    def _arrive_until(self, ts: int) -> list[OrderEvent]:
        """Requests that reach the venue by ``ts``, in order."""
        events: list[OrderEvent] = []
        while self._inflight and self._inflight[0].arrival <= ts:
            events += self._arrive_one(self._inflight.pop(0))
        return events

    def _arrive_one(self, request: _Request) -> list[OrderEvent]:
        """One request reaching the venue, after the expiries due by its arrival."""
        events = self._expire(request.arrival) if self._working else []
        if request.kind == "submit":
            events += self._arrive(request.spec, request.arrival)
        elif request.kind == "modify":
            events += self._arrive_modify(request)
        else:
            events += self._arrive_cancel(request.spec, request.arrival)
        return events

    def _arrive(self, spec: OrderSpec, ts: int) -> list[OrderEvent]:
        refusal = self._refusal(spec, ts)
        if refusal is not None:
            code, reason = refusal
            return [OrderRejected(**spec.event_fields(ts), reason_code=code, reason=reason)]
        w = _Working(spec, VenueOrderId(f"{self.name}-{spec.client_order_id}"))
        w.arrived_ns = ts
        w.expire_ns = spec.expiry(ts)
        market = self._market(spec.instrument_id)
        w.first_chance = spec.time_in_force in (TimeInForce.IOC, TimeInForce.FOK) or (
            self._would_take(spec, market)
        )
        self._working[spec.client_order_id] = w
        events: list[OrderEvent] = [
            OrderAccepted(**spec.event_fields(ts), venue_order_id=w.venue_order_id)
        ]
        if market.standing is not None and w.takes:
            events += self._take(w, market.standing, ts)
            events += self._after_chance(w, ts)
        return events

    def _refusal(self, spec: OrderSpec, ts: int) -> tuple[str, str] | None:
        market = self._markets.get(spec.instrument_id)
        if spec.client_order_id in self._working:
            return (
                VenueRejectCode.DUPLICATE_CLIENT_ORDER_ID,
                f"an order {spec.client_order_id} is already working",
            )
        if spec.order_type not in NATIVE_ORDER_TYPES:
            return (
                VenueRejectCode.UNSUPPORTED_ORDER_TYPE,
                f"the simulated venue takes MARKET and LIMIT orders, was {spec.order_type}",
            )
        if spec.order_type is OrderType.MARKET and (
            market is None or (market.last is None and market.standing is None)
        ):
            return VenueRejectCode.NO_MARKET_DATA, f"no price yet for {spec.instrument_id}"
        if spec.post_only and market is not None and self._would_take(spec, market):
            return (
                VenueRejectCode.POST_ONLY_WOULD_TAKE,
                f"post-only {spec.side} limit {spec.price} would take liquidity",
            )
        if spec.reduce_only and self._reducible(spec) <= 0:
            net = self.net_position(spec.instrument_id)
            return (
                VenueRejectCode.REDUCE_ONLY_WOULD_INCREASE,
                f"reduce-only {spec.side} would not reduce the net position {net}",
            )
        expiry = spec.expiry(ts)
        if spec.time_in_force is TimeInForce.GTD and expiry is not None and expiry <= ts:
            return (
                VenueRejectCode.GTD_ALREADY_EXPIRED,
                f"expire_time_ns {spec.expire_time_ns} is not after arrival at {ts}",
            )
        return None

    @staticmethod
    def _would_take(spec: OrderSpec, market: _Market) -> bool:
        """True when the order is priced through the market: the best opposite quote or
        level when one stands, else the last price. A MARKET order always takes."""
        if spec.order_type is OrderType.MARKET:
            return True
        best = market.standing.reached(spec.side) if market.standing is not None else market.last
        return best is not None and within(best, spec.side, spec.price)

    def _arrive_modify(self, request: _Request) -> list[OrderEvent]:
        spec, ts = request.spec, request.arrival
        w = self._working.get(spec.client_order_id)
        if w is None:
            return [_modify_rejected(spec, ts, VenueRejectCode.NOT_RESTING, _NOT_WORKING)]
        quantity = request.quantity if request.quantity is not None else w.spec.quantity
        if quantity <= w.filled:
            return [
                _modify_rejected(
                    spec,
                    ts,
                    VenueRejectCode.QUANTITY_NOT_ABOVE_FILLED,
                    f"quantity must exceed the {w.filled} already filled, was {quantity}",
                )
            ]
        price = request.price if request.price is not None else w.spec.price
        updated = dataclasses.replace(w.spec, quantity=quantity, price=price)
        if updated.post_only and self._would_take(updated, self._market(spec.instrument_id)):
            return [
                _modify_rejected(
                    spec,
                    ts,
                    VenueRejectCode.POST_ONLY_WOULD_TAKE,
                    f"post-only {spec.side} limit {price} would take liquidity",
                )
            ]
        w.spec = updated
        # A modified order loses its place in the queue.
        del self._working[spec.client_order_id]
        self._working[spec.client_order_id] = w
        events: list[OrderEvent] = [
            OrderUpdated(**spec.event_fields(ts), quantity=request.quantity, price=request.price)
        ]
        standing = self._market(spec.instrument_id).standing
        if standing is not None and self._would_take(updated, self._market(spec.instrument_id)):
            w.first_chance = True
            events += self._take(w, standing, ts) + self._after_chance(w, ts)
        return events

    def _arrive_cancel(self, spec: OrderSpec, ts: int) -> list[OrderEvent]:
        if self._working.pop(spec.client_order_id, None) is None:
            return [
                OrderCancelRejected(
                    **spec.event_fields(ts),
                    reason_code=VenueRejectCode.NOT_RESTING,
                    reason=_NOT_WORKING,
                )
            ]
        return [OrderCanceled(**spec.event_fields(ts))]

    def _expire(self, ts: int) -> list[OrderEvent]:
        events: list[OrderEvent] = []
        for cid, w in list(self._working.items()):
            if w.expire_ns is not None and w.expire_ns <= ts:
                del self._working[cid]
                events.append(OrderExpired(**w.spec.event_fields(w.expire_ns)))
        return events

    # --- small helpers ------------------------------------------------------------------

    def _market(self, instrument_id: InstrumentId) -> _Market:
        market = self._markets.get(instrument_id)
        if market is None:
            market = self._markets[instrument_id] = _Market()
        return market

    def _tick(self, instrument_id: InstrumentId) -> Decimal | None:
        instrument = self._instruments.get(instrument_id)
        return instrument.tick_size if instrument else None

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq


def _modify_rejected(spec: OrderSpec, ts: int, code: str, reason: str) -> OrderModifyRejected:
    return OrderModifyRejected(**spec.event_fields(ts), reason_code=code, reason=reason)
