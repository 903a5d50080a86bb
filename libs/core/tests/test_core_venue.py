"""SimulatedVenue: what happens to market and limit orders against trades and bars."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from foxtrot.core.data import Bar, TradeTick
from foxtrot.core.enums import AggressorSide, LiquiditySide, OrderSide, OrderType, TimeInForce
from foxtrot.core.events import (
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderFilled,
    OrderRejected,
)
from foxtrot.core.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from foxtrot.core.orders import OrderSpec
from foxtrot.core.venue import SimulatedVenue, VenueRejectCode

BTC = InstrumentId("BTCUSDT", "SIM")
ETH = InstrumentId("ETHUSDT", "SIM")
D = Decimal


def order(
    cid: str = "o-1",
    side: OrderSide = OrderSide.BUY,
    qty: str = "2",
    price: str | None = None,
    **overrides: Any,
) -> OrderSpec:
    fields: dict[str, Any] = {
        "client_order_id": ClientOrderId(cid),
        "strategy_id": StrategyId("s1"),
        "account_id": AccountId("acc"),
        "instrument_id": BTC,
        "side": side,
        "order_type": OrderType.LIMIT if price is not None else OrderType.MARKET,
        "quantity": D(qty),
        "price": D(price) if price is not None else None,
    }
    fields.update(overrides)
    return OrderSpec(**fields)


def bar(low: str, high: str, close: str, ts: int = 10, instrument: InstrumentId = BTC) -> Bar:
    return Bar(instrument, "1m", D(close), D(high), D(low), D(close), D(1), ts, ts)


def trade(price: str, ts: int = 10) -> TradeTick:
    return TradeTick(BTC, D(price), D(1), AggressorSide.BUYER, TradeId("x"), ts, ts)


def venue_at(price: str | None = "100") -> SimulatedVenue:
    venue = SimulatedVenue("SIM")
    if price is not None:
        venue.set_last_price(BTC, D(price))
    return venue


def test_market_order_without_a_price_is_rejected_no_market_data() -> None:
    [event] = venue_at(None).submit(order(), ts=5)
    assert isinstance(event, OrderRejected)
    assert event.reason_code == VenueRejectCode.NO_MARKET_DATA == "NO_MARKET_DATA"
    assert "BTCUSDT.SIM" in event.reason
    assert event.ts_event == 5


def test_market_order_fills_in_full_at_the_last_price_as_taker_paying_the_taker_fee() -> None:
    accepted, fill = venue_at("100").submit(order(qty="2"), ts=5)
    assert isinstance(accepted, OrderAccepted)
    assert isinstance(fill, OrderFilled)
    assert (fill.last_qty, fill.last_px, fill.liquidity_side) == (D(2), D(100), LiquiditySide.TAKER)
    assert fill.commission == D("0.08")  # 2 x 100 x 0.0004
    assert fill.commission_currency == "USD"
    assert fill.side is OrderSide.BUY
    assert fill.ts_event == 5


def test_last_price_comes_from_the_latest_trade_or_bar_close() -> None:
    venue = venue_at(None)
    venue.on_trade(trade("101"))
    assert venue.last_price(BTC) == D(101)
    venue.on_bar(bar("90", "110", "105"))
    assert venue.last_price(BTC) == D(105)
    _, fill = venue.submit(order(), ts=11)
    assert isinstance(fill, OrderFilled)
    assert fill.last_px == D(105)


@pytest.mark.parametrize(
    ("side", "price"),
    [
        (OrderSide.BUY, "100"),
        (OrderSide.BUY, "120"),
        (OrderSide.SELL, "100"),
        (OrderSide.SELL, "80"),
    ],
)
def test_marketable_limit_fills_at_once_at_the_last_price_as_taker(
    side: OrderSide, price: str
) -> None:
    venue = venue_at("100")
    accepted, fill = venue.submit(order(side=side, price=price), ts=5)
    assert isinstance(accepted, OrderAccepted)
    assert isinstance(fill, OrderFilled)
    assert (fill.last_px, fill.liquidity_side) == (D(100), LiquiditySide.TAKER)
    assert venue.open_orders() == []


@pytest.mark.parametrize(
    ("side", "limit_price", "miss", "reach"),
    [
        (
            OrderSide.BUY,
            "95",
            bar(low="95.5", high="101", close="96"),
            bar(low="95", high="99", close="98", ts=20),
        ),
        (
            OrderSide.SELL,
            "105",
            bar(low="99", high="104.9", close="104"),
            bar(low="101", high="105", close="102", ts=20),
        ),
    ],
)
def test_resting_limit_fills_at_its_limit_as_maker_once_a_bar_reaches_it(
    side: OrderSide, limit_price: str, miss: Bar, reach: Bar
) -> None:
    venue = venue_at("100")
    spec = order(side=side, price=limit_price)
    [accepted] = venue.submit(spec, ts=5)
    assert isinstance(accepted, OrderAccepted)
    assert venue.open_orders() == [spec]
    assert venue.on_bar(miss) == []
    [fill] = venue.on_bar(reach)
    assert isinstance(fill, OrderFilled)
    assert (fill.last_px, fill.last_qty, fill.liquidity_side) == (
        D(limit_price),
        D(2),
        LiquiditySide.MAKER,
    )
    assert fill.commission == D(2) * D(limit_price) * D("0.0002")
    assert fill.venue_order_id == accepted.venue_order_id
    assert fill.ts_event == 20
    assert venue.open_orders() == []
    assert venue.on_bar(reach) == []  # filled once only


def test_resting_limit_fills_when_a_trade_prints_at_its_price() -> None:
    venue = venue_at("100")
    venue.submit(order(price="99"), ts=5)
    assert venue.on_trade(trade("99.01")) == []
    [fill] = venue.on_trade(trade("99", ts=12))
    assert isinstance(fill, OrderFilled)
    assert fill.last_px == D(99)


def test_limit_order_with_no_market_data_yet_rests() -> None:
    venue = venue_at(None)
    [accepted] = venue.submit(order(price="99"), ts=5)
    assert isinstance(accepted, OrderAccepted)
    assert len(venue.open_orders()) == 1


def test_bar_of_another_instrument_does_not_fill_a_resting_order() -> None:
    venue = venue_at("100")
    venue.submit(order(price="95"), ts=5)
    assert venue.on_bar(bar("1", "200", "50", instrument=ETH)) == []
    assert len(venue.open_orders()) == 1


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
def test_immediate_order_that_cannot_fill_is_canceled_not_rested(tif: TimeInForce) -> None:
    venue = venue_at("100")
    accepted, canceled = venue.submit(order(price="95", time_in_force=tif), ts=5)
    assert isinstance(accepted, OrderAccepted)
    assert isinstance(canceled, OrderCanceled)
    assert venue.open_orders() == []


def test_marketable_ioc_fills() -> None:
    _, fill = venue_at("100").submit(order(price="101", time_in_force=TimeInForce.IOC), ts=5)
    assert isinstance(fill, OrderFilled)


def test_cancel_removes_a_resting_order_and_reports_it_once() -> None:
    venue = venue_at("100")
    venue.submit(order(price="95"), ts=5)
    [canceled] = venue.cancel(ClientOrderId("o-1"), ts=7)
    assert isinstance(canceled, OrderCanceled)
    assert canceled.ts_event == 7
    assert venue.open_orders() == []
    assert venue.cancel(ClientOrderId("o-1"), ts=8) == []
    assert venue.on_bar(bar("1", "200", "50")) == []


def test_cancel_of_an_unknown_order_gives_no_event() -> None:
    assert venue_at("100").cancel(ClientOrderId("nope"), ts=1) == []


@pytest.mark.parametrize("order_type", [OrderType.STOP_MARKET, OrderType.MARKET_IF_TOUCHED])
def test_unsupported_order_type_is_rejected(order_type: OrderType) -> None:
    spec = order(order_type=order_type, trigger_price=D(90))
    [event] = venue_at("100").submit(spec, ts=5)
    assert isinstance(event, OrderRejected)
    assert event.reason_code == VenueRejectCode.UNSUPPORTED_ORDER_TYPE
    assert str(order_type) in event.reason


def test_restored_order_rests_again_and_fills_under_its_old_venue_id() -> None:
    venue = venue_at("100")
    spec = order(price="95")
    venue.restore(spec, VenueOrderId("old-id"))
    assert venue.open_orders() == [spec]
    [fill] = venue.on_bar(bar("94", "100", "96"))
    assert isinstance(fill, OrderFilled)
    assert fill.venue_order_id == "old-id"


def test_forgotten_order_no_longer_rests() -> None:
    venue = venue_at("100")
    venue.submit(order(price="95"), ts=5)
    venue.forget(ClientOrderId("o-1"))
    venue.forget(ClientOrderId("never-seen"))  # harmless
    assert venue.open_orders() == []
    assert venue.on_bar(bar("1", "200", "50")) == []


def test_ids_derive_from_venue_name_and_client_order_id_so_replays_match() -> None:
    def run() -> list[OrderEvent]:
        venue = venue_at("100")
        events = venue.submit(order("o-1"), ts=5) + venue.submit(order("o-2", price="90"), ts=6)
        return events + venue.on_bar(bar("89", "100", "95", ts=7))

    first = run()
    assert first == run()
    fills = [e for e in first if isinstance(e, OrderFilled)]
    assert [(f.venue_order_id, f.trade_id) for f in fills] == [
        ("SIM-o-1", "SIM-o-1-1"),
        ("SIM-o-2", "SIM-o-2-1"),
    ]


def test_marketable_post_only_limit_never_takes_liquidity() -> None:
    events = venue_at("100").submit(order(price="101", post_only=True), ts=5)
    assert not any(
        isinstance(e, OrderFilled) and e.liquidity_side is LiquiditySide.TAKER for e in events
    )
