"""BinanceVenue against a local fake Binance, through real ccxt: orders, refusals, cancels,
rate limits, bans, timeouts, a dropped user data stream, and the execution engine on top."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from foxtrot.core.enums import LiquiditySide, OrderSide, OrderStatus, OrderType, TimeInForce
from foxtrot.core.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    OrderUpdated,
)
from foxtrot.core.execution import ExecutionEngine
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.order_spec import OrderSpec
from foxtrot.execution.venues.binance.adapter import BinanceVenue
from foxtrot.execution.venues.binance.fake_server import FakeBinance
from foxtrot.execution.venues.binance.limits import RateBudgetRegistry
from foxtrot.execution.venues.binance.mapping import venue_client_id
from foxtrot.execution.venues.binance.resilience import BreakerState, CircuitBreaker, RetryPolicy
from foxtrot.execution.venues.binance.settings import BinanceSettings

BTC = InstrumentId("BTCUSDT", "BINANCE")
Events = list[OrderEvent]


def order(
    cid: str,
    side: OrderSide = OrderSide.BUY,
    quantity: str = "0.01",
    price: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
) -> OrderSpec:
    kind = OrderType.LIMIT if price is not None else OrderType.MARKET
    return OrderSpec(
        client_order_id=ClientOrderId(cid),
        strategy_id=StrategyId("momentum"),
        account_id=AccountId("BINANCE-001"),
        instrument_id=BTC,
        side=side,
        order_type=kind,
        quantity=Decimal(quantity),
        price=Decimal(price) if price is not None else None,
        time_in_force=tif,
    )


def make_venue(fake: FakeBinance, **kwargs: Any) -> BinanceVenue:
    timeout = kwargs.pop("request_timeout_s", 2.0)
    settings = BinanceSettings(
        fake.api_key, fake.api_secret, rest_url=fake.url, request_timeout_s=timeout
    )
    kwargs.setdefault("budgets", RateBudgetRegistry())
    kwargs.setdefault("retry", RetryPolicy(base_delay_s=0.01, max_delay_s=0.05))
    kwargs.setdefault("stream_retry", RetryPolicy(max_attempts=10**6, base_delay_s=0.02))
    return BinanceVenue(settings, **kwargs)


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """The breaker's state, read afresh (a property mypy would otherwise narrow)."""
    return breaker.state


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    server = FakeBinance()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def venue(fake: FakeBinance) -> AsyncIterator[BinanceVenue]:
    adapter = make_venue(fake)
    await adapter.start()
    yield adapter
    await adapter.stop()


async def collect(
    venue: BinanceVenue, done: Callable[[Events], bool], timeout: float = 3.0
) -> Events:
    """Drain the venue (as the service would on ``events_ready``) until ``done``."""
    events: Events = []
    async with asyncio.timeout(timeout):
        while not done(events):
            await venue.events_ready.wait()
            events += venue.advance(time.time_ns())
    return events


async def eventually(check: Callable[[], bool], timeout: float = 3.0) -> None:
    """Wait for a condition that nothing signals."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        await asyncio.sleep(0.01)


def has(kind: type[OrderEvent], n: int = 1) -> Callable[[Events], bool]:
    return lambda events: sum(isinstance(e, kind) for e in events) >= n


async def test_market_order_is_accepted_then_filled_from_the_user_data_stream(
    fake: FakeBinance, venue: BinanceVenue
) -> None:
    assert venue.submit(order("mkt-1"), 0) == []  # nothing is known yet: it is on its way
    events = await collect(venue, has(OrderFilled))
    accepted, filled = events
    assert isinstance(accepted, OrderAccepted)
    assert accepted.venue_order_id == "1000001"
    assert isinstance(filled, OrderFilled)
    assert (filled.last_qty, filled.last_px) == (Decimal("0.01"), Decimal(50000))
    assert (filled.commission, filled.commission_currency) == (Decimal("0.00001"), "BTC")
    assert filled.liquidity_side is LiquiditySide.TAKER
    assert filled.trade_id == "5000001"
    assert filled.ts_event == fake.account.trades[0]["time"] * 1_000_000


async def test_limit_order_rests_then_fills_as_maker_when_the_market_trades_through(
    fake: FakeBinance, venue: BinanceVenue
) -> None:
    venue.submit(order("lmt-1", price="49000.00"), 0)
    assert isinstance((await collect(venue, has(OrderAccepted)))[0], OrderAccepted)
    fake.account.trade("BTCUSDT", Decimal("48999"))
    (filled,) = await collect(venue, has(OrderFilled))
    assert isinstance(filled, OrderFilled)
    assert filled.last_px == Decimal(49000)
    assert filled.liquidity_side is LiquiditySide.MAKER


async def test_insufficient_balance_is_rejected_with_binance_code_and_message(
    venue: BinanceVenue,
) -> None:
    venue.submit(order("big-1", quantity="100"), 0)
    (rejected,) = await collect(venue, has(OrderRejected))
    assert isinstance(rejected, OrderRejected)
    assert rejected.reason_code == "-2010"
    assert rejected.reason == "Account has insufficient balance for requested action."


async def test_filter_failure_is_rejected_with_binance_code_and_message(
    venue: BinanceVenue,
) -> None:
    venue.submit(order("tiny-1", quantity="0.00001", price="40000.00"), 0)  # 0.4 USDT
    (rejected,) = await collect(venue, has(OrderRejected))
    assert isinstance(rejected, OrderRejected)
    assert (rejected.reason_code, rejected.reason) == ("-1013", "Filter failure: NOTIONAL")


async def test_order_off_the_lot_size_is_refused_before_ccxt_can_round_it(
    fake: FakeBinance, venue: BinanceVenue
) -> None:
    (rejected,) = venue.submit(order("odd-1", quantity="0.000015"), 0)
    assert isinstance(rejected, OrderRejected)
    assert "multiple of lot size 0.00001" in rejected.reason
    assert fake.count("POST /api/v3/order") == 0


async def test_cancel_of_a_resting_order_ends_it(fake: FakeBinance, venue: BinanceVenue) -> None:
    spec = order("rest-1", price="45000.00")
    venue.submit(spec, 0)
    await collect(venue, has(OrderAccepted))
    venue.cancel(spec, 0)
    (canceled,) = await collect(venue, has(OrderCanceled))
    assert canceled.client_order_id == "rest-1"
    assert fake.account.open_orders("BTCUSDT") == []


async def test_cancel_of_an_order_binance_does_not_know_is_cancel_rejected(
    fake: FakeBinance, venue: BinanceVenue
) -> None:
    spec = order("gone-1", price="45000.00")
    venue.submit(spec, 0)
    await collect(venue, has(OrderAccepted))
    fake.account.orders.clear()  # the venue lost it (as after a venue-side purge)
    venue.cancel(spec, 0)
    (refused,) = await collect(venue, has(OrderCancelRejected))
    assert isinstance(refused, OrderCancelRejected)
    assert (refused.reason_code, refused.reason) == ("-2011", "Unknown order sent.")


async def test_modify_replaces_the_order_at_binance_under_the_same_client_id(
    fake: FakeBinance, venue: BinanceVenue
) -> None:
    spec = order("mod-1", price="45000.00")
    venue.submit(spec, 0)
    await collect(venue, has(OrderAccepted))
    venue.modify(spec, 0, quantity=Decimal("0.02"), price=Decimal("46000.00"))
    (updated,) = await collect(venue, has(OrderUpdated))
    assert isinstance(updated, OrderUpdated)
    assert (updated.quantity, updated.price) == (Decimal("0.02"), Decimal(46000))
    (working,) = fake.account.open_orders("BTCUSDT")
    assert (working["clientOrderId"], working["price"]) == ("mod-1", "46000.00000000")
    await asyncio.sleep(0.1)  # the old order's CANCELED report is not the order's end
    assert venue.advance(0) == []


async def test_429_is_waited_out_for_its_retry_after_then_the_order_goes_through(
    fake: FakeBinance, venue: BinanceVenue
) -> None:
    fake.fail_next("POST /api/v3/order", 429, retry_after=1)
    started = time.monotonic()
    venue.submit(order("rl-1"), 0)
    events = await collect(venue, has(OrderFilled))
    assert time.monotonic() - started >= 0.9
    assert isinstance(events[0], OrderAccepted)
    assert fake.count("POST /api/v3/order") == 2


async def test_418_opens_the_breaker_and_calls_fail_fast_until_the_ban_ends(
    fake: FakeBinance,
) -> None:
    now = [0.0]
    breaker = CircuitBreaker(clock=lambda: now[0])
    venue = make_venue(fake, breaker=breaker)
    await venue.start()
    try:
        fake.fail_next("POST /api/v3/order", 418, retry_after=120)
        venue.submit(order("ban-1"), 0)
        (banned,) = await collect(venue, has(OrderRejected))
        assert isinstance(banned, OrderRejected)
        assert banned.reason_code == "VENUE_UNAVAILABLE"
        assert "banned" in banned.reason
        assert state_of(breaker) is BreakerState.OPEN
        venue.submit(order("ban-2"), 0)
        (refused,) = await collect(venue, has(OrderRejected))
        assert isinstance(refused, OrderRejected)
        assert "circuit open" in refused.reason
        assert fake.count("POST /api/v3/order") == 1  # no retry, and nothing while banned
        now[0] = 121.0
        venue.submit(order("ban-3"), 0)
        assert isinstance((await collect(venue, has(OrderAccepted)))[0], OrderAccepted)
        assert state_of(breaker) is BreakerState.CLOSED
    finally:
        await venue.stop()


async def test_a_placement_that_times_out_is_found_by_client_id_not_placed_twice(
    fake: FakeBinance,
) -> None:
    venue = make_venue(fake, request_timeout_s=0.3)
    await venue.start()
    try:
        fake.delay_next("POST /api/v3/order", 1.0)
        venue.submit(order("slow-1"), 0)
        events = await collect(venue, has(OrderFilled))  # the stream told us first
        assert [type(e) for e in events] == [OrderAccepted, OrderFilled]
        # The timed-out attempt is looked up by client order id, not sent again.
        await eventually(lambda: fake.count("GET /api/v3/order") > 0)
        await asyncio.sleep(0.1)
        assert fake.count("POST /api/v3/order") == 1
        assert len(fake.account.orders) == 1
        assert venue.advance(0) == []
    finally:
        await venue.stop()


async def test_fill_missed_while_the_stream_was_down_is_recovered_once_on_reconnect(
    fake: FakeBinance, venue: BinanceVenue
) -> None:
    venue.submit(order("gap-1", price="49000.00"), 0)
    await collect(venue, has(OrderAccepted))
    fake.accept_user_streams = False
    await fake.drop_user_streams()
    await eventually(lambda: not venue.stream_connected.is_set())
    fake.account.trade("BTCUSDT", Decimal(48000))  # nobody listening: the report is lost
    fake.accept_user_streams = True
    (filled,) = await collect(venue, has(OrderFilled))
    assert isinstance(filled, OrderFilled)
    assert filled.trade_id == "5000001"
    assert venue.stream_connections == 2
    assert venue.last_reconciliation is not None
    assert (await venue.reconcile()).events == []  # known now: no duplicate
    await asyncio.sleep(0.1)
    assert venue.advance(0) == []


async def test_reconcile_reports_open_orders_foxtrot_did_not_place(
    fake: FakeBinance, venue: BinanceVenue
) -> None:
    fake.account.new_order(
        {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "quantity": "0.1",
         "price": "60000.00", "timeInForce": "GTC", "newClientOrderId": "manual-1"}
    )  # fmt: skip
    result = await venue.reconcile(instruments=[BTC])
    (foreign,) = result.foreign_orders
    assert (foreign.venue_client_id, foreign.quantity) == ("manual-1", Decimal("0.1"))


async def test_long_client_order_ids_travel_as_a_stable_digest(
    fake: FakeBinance, venue: BinanceVenue
) -> None:
    cid = "strategy-momentum-2026-11-21-order-000000001"
    venue.submit(order(cid), 0)
    events = await collect(venue, has(OrderFilled))
    assert {e.client_order_id for e in events} == {cid}
    (placed,) = fake.account.orders.values()
    assert placed.client_id == venue_client_id(ClientOrderId(cid))
    assert len(placed.client_id) <= 36


async def test_execution_engine_drives_an_order_to_filled(venue: BinanceVenue) -> None:
    engine = ExecutionEngine(venue)
    spec = order("eng-1")
    submitted = engine.submit(spec, time.time_ns())
    assert [type(e) for e in submitted] == [OrderSubmitted]
    seen: Events = []
    async with asyncio.timeout(3):
        while engine.orders[spec.client_order_id].status is not OrderStatus.FILLED:
            await venue.events_ready.wait()
            seen += engine.advance(time.time_ns())
    assert [type(e) for e in seen] == [OrderAccepted, OrderFilled]
    assert engine.orders[spec.client_order_id].filled_qty == Decimal("0.01")
