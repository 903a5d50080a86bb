"""Binance spot as a Foxtrot venue: the ``Venue`` port over ccxt and the user data stream.

The execution engine is synchronous; Binance is not. ``submit``, ``modify`` and
``cancel`` only queue the request and return ``[]``; a background task sends it (rate
budget, retries, circuit breaker: :mod:`.rest`) and turns the answer into order events.
Fills arrive on the user data stream. Every event goes to an inbound buffer that
``advance`` drains, oldest first; ``events_ready`` is set (and ``on_events`` called) when
something arrives, so the service can call ``engine.advance`` at once instead of polling.

Requests for one order go out in the order they were made (a cancel never overtakes its
order's placement); requests for different orders go out concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import ccxt

from foxtrot.core.book import OrderBook
from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.enums import OrderType
from foxtrot.core.events import (
    OrderCancelRejected,
    OrderEvent,
    OrderModifyRejected,
    OrderRejected,
)
from foxtrot.core.identifiers import ClientOrderId, InstrumentId, TradeId, VenueOrderId
from foxtrot.core.instruments import Instrument
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.orders import Order
from foxtrot.execution.venues.binance.errors import (
    BinanceVenueError,
    ReconciliationError,
    VenueCallFailed,
    VenueUnavailable,
)
from foxtrot.execution.venues.binance.exchange import binance_detail, connect_exchange
from foxtrot.execution.venues.binance.limits import RATE_BUDGETS, RateBudgetRegistry, Sleep
from foxtrot.execution.venues.binance.mapping import (
    LOCAL_REFUSAL,
    instruments_from_markets,
    order_request,
)
from foxtrot.execution.venues.binance.reconciliation import Reconciliation, reconcile_orders
from foxtrot.execution.venues.binance.resilience import CircuitBreaker, RetryPolicy
from foxtrot.execution.venues.binance.rest import BinanceRest
from foxtrot.execution.venues.binance.settings import BinanceSettings
from foxtrot.execution.venues.binance.tracking import OrderTracker
from foxtrot.execution.venues.binance.user_stream import UserDataStream

__all__ = ["NATIVE_ORDER_TYPES", "BinanceVenue"]

NATIVE_ORDER_TYPES: Final = frozenset({OrderType.MARKET, OrderType.LIMIT})
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Request:
    kind: str  # "submit", "modify" or "cancel"
    spec: OrderSpec
    quantity: Decimal | None = None
    price: Decimal | None = None


class BinanceVenue:
    """Binance spot, one account, as the execution engine's venue."""

    native_order_types: Final = NATIVE_ORDER_TYPES

    def __init__(
        self,
        settings: BinanceSettings,
        *,
        budgets: RateBudgetRegistry = RATE_BUDGETS,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        stream_retry: RetryPolicy | None = None,
        on_events: Callable[[], None] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.name = settings.venue
        self.settlement_currency = settings.settlement_currency
        self.settings = settings
        self.budget = budgets.budget_for(settings.api_key)
        self.breaker = breaker or CircuitBreaker()
        self.exchange = connect_exchange(settings, self.budget.observe_headers)
        self.rest = BinanceRest(
            self.exchange, self.budget, self.breaker, retry or RetryPolicy(), sleep
        )
        self.tracker = OrderTracker(settings.settlement_currency)
        self.instruments: dict[InstrumentId, Instrument] = {}
        self.events_ready = asyncio.Event()
        self.on_events = on_events
        self.last_reconciliation: Reconciliation | None = None
        self.last_reconciliation_error: ReconciliationError | None = None
        self._symbols: dict[InstrumentId, str] = {}
        self._inbound: list[OrderEvent] = []
        self._last: dict[InstrumentId, Decimal] = {}
        self._queue: asyncio.Queue[_Request] = asyncio.Queue()
        self._chains: dict[ClientOrderId, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stream = UserDataStream(
            settings.user_stream_url,
            settings.api_key,
            settings.api_secret,
            on_event=self._on_user_event,
            on_reconnect=self._after_reconnect,
            retry=stream_retry,
            connect_timeout_s=settings.request_timeout_s,
        )

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the instruments, open the user data stream and start sending requests."""
        markets = await self.rest.load_markets()
        self.instruments.update(instruments_from_markets(markets, self.name))
        self._symbols = {
            InstrumentId(m["id"], self.name): m["symbol"] for m in markets.values() if m.get("spot")
        }
        await self._stream.start()
        self._spawn(self._dispatch(), "binance-requests")

    async def stop(self) -> None:
        """Stop sending, close the stream and the HTTP session."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._stream.stop()
        await self.exchange.close()

    @property
    def stream_connections(self) -> int:
        """How many times the user data stream has connected (1 + reconnects)."""
        return self._stream.connections

    @property
    def stream_connected(self) -> asyncio.Event:
        """Set while the user data stream is subscribed."""
        return self._stream.connected

    # --- the Venue port: requests ------------------------------------------------------------

    def add_instrument(self, instrument: Instrument) -> None:
        """Know an instrument; the filters Binance itself published (loaded by ``start``)
        win over it, since Binance checks orders against those."""
        self.instruments.setdefault(instrument.instrument_id, instrument)

    def submit(self, spec: OrderSpec, ts: int) -> list[OrderEvent]:
        """Queue an order for Binance; refusals Binance would certainly give come back now."""
        problem = self._refusal(spec)
        if problem is not None:
            fields = spec.event_fields(ts)
            return [OrderRejected(**fields, reason_code=LOCAL_REFUSAL, reason=problem)]
        self.tracker.track(spec)
        self._queue.put_nowait(_Request("submit", spec))
        return []

    def modify(
        self, spec: OrderSpec, ts: int, quantity: Decimal | None, price: Decimal | None
    ) -> list[OrderEvent]:
        """Queue a cancel-replace of a working order with a new quantity or price."""
        self._queue.put_nowait(_Request("modify", spec, quantity, price))
        return []

    def cancel(self, spec: OrderSpec, ts: int) -> list[OrderEvent]:
        """Queue a cancel of a working order."""
        self._queue.put_nowait(_Request("cancel", spec))
        return []

    def restore(
        self,
        spec: OrderSpec,
        venue_order_id: VenueOrderId,
        filled_qty: Decimal = Decimal(0),
        fills: int = 0,
        ts_accepted: int = 0,
    ) -> None:
        """Track an order that was working before a restart (reconcile after)."""
        since_ms = ts_accepted // 1_000_000 if ts_accepted > 0 else None
        self.tracker.restore(spec, venue_order_id, filled_qty, since_ms)

    def restore_position(self, instrument_id: InstrumentId, quantity: Decimal) -> None:
        """Nothing to do: Binance holds the account's balances itself."""

    # --- the Venue port: market data and time ------------------------------------------------

    def last_price(self, instrument_id: InstrumentId) -> Decimal | None:
        """The latest trade price or mid the adapter was shown."""
        return self._last.get(instrument_id)

    def on_quote(self, quote: QuoteTick) -> list[OrderEvent]:
        """Record the mid; Binance matches on its own."""
        self._last[quote.instrument_id] = (quote.bid_price + quote.ask_price) / 2
        return []

    def on_trade(self, trade: TradeTick) -> list[OrderEvent]:
        """Record the trade price."""
        self._last[trade.instrument_id] = trade.price
        return []

    def on_bar(self, bar: Bar) -> list[OrderEvent]:
        """Record the close."""
        self._last[bar.instrument_id] = bar.close
        return []

    def on_book(self, book: OrderBook, ts: int) -> list[OrderEvent]:
        """Record the mid of the best prices."""
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and ask is not None:
            self._last[book.instrument_id] = (bid.price + ask.price) / 2
        return []

    def advance(self, ts: int) -> list[OrderEvent]:
        """Everything Binance answered or did since the last call, oldest first."""
        events, self._inbound = self._inbound, []
        self.events_ready.clear()
        return events

    # --- reconciliation --------------------------------------------------------------------

    async def reconcile(
        self,
        orders: Iterable[Order] = (),
        known_trade_ids: Set[TradeId] = frozenset(),
        instruments: Iterable[InstrumentId] = (),
    ) -> Reconciliation:
        """Fetch Binance's open orders and trades for the instruments of ``orders``, of the
        tracked orders and of ``instruments``; returns the events that bring Foxtrot in line
        (also queued for ``advance``) and the open orders Foxtrot does not know.
        Raises ReconciliationError when Binance cannot be reached or disagrees unexplainably."""
        for order in orders:
            vid = order.venue_order_id
            if (
                order.status.is_open
                and vid is not None
                and not self.tracker.get(order.client_order_id)
            ):
                self.tracker.restore(order.spec, vid, order.filled_qty, None)
        self.tracker.trade_ids.update(known_trade_ids)
        concerned = {o.spec.instrument_id for o in self.tracker.live()} | set(instruments)
        in_flight = {cid for cid, task in self._chains.items() if not task.done()}
        try:
            result = await reconcile_orders(
                self.rest, self.tracker, self._symbols, concerned, in_flight
            )
        except ReconciliationError as exc:
            self.last_reconciliation_error = exc
            raise
        self.last_reconciliation, self.last_reconciliation_error = result, None
        self._emit(result.events)
        return result

    async def balances(self) -> dict[str, Decimal]:
        """The account's total per asset as Binance holds it."""
        try:
            return await self.rest.balances()
        except (BinanceVenueError, ccxt.BaseError) as exc:
            raise ReconciliationError(f"Binance's balances could not be read: {exc}") from exc

    async def _after_reconnect(self) -> None:
        try:
            await self.reconcile()
        except ReconciliationError as exc:
            _log.error("reconciliation after a user data stream reconnect failed: %s", exc)

    # --- the background side ----------------------------------------------------------------

    def _refusal(self, spec: OrderSpec) -> str | None:
        request = order_request(spec)
        if isinstance(request, str):
            return request
        instrument = self.instruments.get(spec.instrument_id)
        if instrument is None:
            return f"{spec.instrument_id} is not a Binance spot symbol of this venue"
        # ccxt would round a quantity or price off the venue's grid without a word; refuse.
        return instrument.quantity_problem(spec.quantity) or (
            instrument.price_problem(spec.price) if spec.price is not None else None
        )

    async def _dispatch(self) -> None:
        while True:
            request = await self._queue.get()
            cid = request.spec.client_order_id
            before = self._chains.get(cid)
            task = self._spawn(self._handle_after(before, request), f"binance-{request.kind}")
            self._chains[cid] = task
            task.add_done_callback(functools.partial(self._chain_done, cid))

    def _chain_done(self, cid: ClientOrderId, task: asyncio.Task[None]) -> None:
        if self._chains.get(cid) is task:
            del self._chains[cid]

    async def _handle_after(self, before: asyncio.Task[None] | None, request: _Request) -> None:
        if before is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(before)
        try:
            if request.kind == "submit":
                await self._submit(request.spec)
            elif request.kind == "cancel":
                await self._cancel(request.spec)
            else:
                await self._modify(request)
        except Exception:
            _log.exception("Binance %s of %s failed", request.kind, request.spec.client_order_id)

    async def _submit(self, spec: OrderSpec) -> None:
        order = self.tracker.track(spec)
        request = order_request(spec)
        assert not isinstance(request, str)
        symbol = self._symbols[spec.instrument_id]
        try:
            raw = await self.rest.place_order(symbol, order.venue_client_id, request)
        except VenueCallFailed as exc:
            # No answer after every retry: the order may or may not be at Binance.
            _log.error("placing %s: outcome unknown (%s); reconciling", spec.client_order_id, exc)
            self._spawn(self._reconcile_quietly(), "binance-reconcile")
            return
        except (ccxt.BaseError, BinanceVenueError) as exc:
            code, reason = _refusal_of(exc)
            self._emit(self.tracker.reject(order, code, reason, time.time_ns()))
            return
        self._emit(self.tracker.snapshot(order, raw))

    async def _cancel(self, spec: OrderSpec) -> None:
        order = self.tracker.get(spec.client_order_id)
        symbol = self._symbols.get(spec.instrument_id)
        if order is None or symbol is None:
            return self._emit(
                [
                    OrderCancelRejected(
                        **spec.event_fields(time.time_ns()),
                        reason_code="-2011",
                        reason="Unknown order sent.",
                    )
                ]
            )
        try:
            raw = await self.rest.cancel_order(symbol, order.venue_client_id)
        except (ccxt.BaseError, BinanceVenueError) as exc:
            code, reason = _refusal_of(exc)
            fields = spec.event_fields(time.time_ns())
            return self._emit([OrderCancelRejected(**fields, reason_code=code, reason=reason)])
        self._emit(self.tracker.snapshot(order, raw))

    async def _modify(self, request: _Request) -> None:
        spec = request.spec
        order = self.tracker.get(spec.client_order_id)
        fields = spec.event_fields(time.time_ns())
        if order is None or order.venue_order_id is None:
            reason = "the order is not working at Binance"
            return self._emit([OrderModifyRejected(**fields, reason_code="-2011", reason=reason)])
        total = request.quantity if request.quantity is not None else order.spec.quantity
        price = request.price if request.price is not None else order.spec.price
        leaves = total - order.filled
        if leaves <= 0:
            reason = f"quantity {total} is not above the {order.filled} already filled"
            return self._emit(
                [OrderModifyRejected(**fields, reason_code=LOCAL_REFUSAL, reason=reason)]
            )
        venue_request = order_request(dataclasses.replace(order.spec, price=price), leaves)
        if isinstance(venue_request, str):
            reason = venue_request
            return self._emit(
                [OrderModifyRejected(**fields, reason_code=LOCAL_REFUSAL, reason=reason)]
            )
        old = str(order.venue_order_id)
        order.superseded.add(old)  # its CANCELED report is the first half of the replace
        symbol = self._symbols[spec.instrument_id]
        try:
            response = await self.rest.replace_order(symbol, order.venue_client_id, venue_request)
        except (ccxt.BaseError, BinanceVenueError) as exc:
            order.superseded.discard(old)
            code, reason = _refusal_of(exc)
            self._emit([OrderModifyRejected(**fields, reason_code=code, reason=reason)])
            if code == "-2021":  # canceled, but the new order failed: learn the truth
                self._spawn(self._reconcile_quietly(), "binance-reconcile")
            return None
        self._emit(self.tracker.replaced(order, response))

    async def _reconcile_quietly(self) -> None:
        with contextlib.suppress(ReconciliationError):
            await self.reconcile()

    def _on_user_event(self, event: Mapping[str, Any]) -> None:
        if event.get("e") == "executionReport":
            self._emit(self.tracker.execution_report(event))

    def _emit(self, events: list[OrderEvent]) -> None:
        if not events:
            return
        self._inbound.extend(events)
        self.events_ready.set()
        if self.on_events is not None:
            self.on_events()

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _refusal_of(exc: BaseException) -> tuple[str, str]:
    """Binance's code and message for a refusal, or the adapter's words for a failure."""
    detail = binance_detail(exc)
    if detail is not None and detail.code is not None:
        return detail.reason_code, detail.msg
    if isinstance(exc, VenueUnavailable):
        return "VENUE_UNAVAILABLE", str(exc)
    if isinstance(exc, BinanceVenueError):
        return "VENUE_CALL_FAILED", str(exc)
    return type(exc).__name__, str(exc)
