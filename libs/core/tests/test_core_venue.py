"""SimulatedVenue: each documented fill rule, against quotes, trades, bars and L2 books."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from foxtrot.core.book import BookAction, BookSide, OrderBook, OrderBookDelta, OrderBookDeltas
from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.enums import AggressorSide, LiquiditySide, OrderSide, OrderType, TimeInForce
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
from foxtrot.core.fill_model import FillModel, bar_path
from foxtrot.core.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from foxtrot.core.instruments import Instrument
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.venue import SimulatedVenue, VenueRejectCode

BTC = InstrumentId("BTCUSDT", "SIM")
ETH = InstrumentId("ETHUSDT", "SIM")
D = Decimal
DAY = 86_400 * 1_000_000_000


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


def quote(bid: str, ask: str, bid_size: str = "5", ask_size: str = "5", ts: int = 10) -> QuoteTick:
    return QuoteTick(BTC, D(bid), D(ask), D(bid_size), D(ask_size), ts, ts)


def trade(price: str, size: str = "5", ts: int = 10, instrument: InstrumentId = BTC) -> TradeTick:
    return TradeTick(instrument, D(price), D(size), AggressorSide.BUYER, TradeId("x"), ts, ts)


def bar(
    o: str, h: str, lo: str, c: str, volume: str = "10", ts: int = 10, inst: InstrumentId = BTC
) -> Bar:
    return Bar(inst, "1m", D(o), D(h), D(lo), D(c), D(volume), ts, ts)


def book(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> OrderBook:
    deltas = [OrderBookDelta(BookAction.ADD, BookSide.ASK, D(p), D(s)) for p, s in asks] + [
        OrderBookDelta(BookAction.ADD, BookSide.BID, D(p), D(s)) for p, s in bids
    ]
    built = OrderBook(BTC)
    built.apply(OrderBookDeltas(BTC, tuple(deltas), 1, ts_event=10, ts_init=10, is_snapshot=True))
    return built


MAKER = LiquiditySide.MAKER


def fills(events: list[OrderEvent]) -> list[tuple[Decimal, Decimal, LiquiditySide]]:
    return [(e.last_qty, e.last_px, e.liquidity_side) for e in events if isinstance(e, OrderFilled)]


def kinds(events: list[OrderEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


# --- arrival against standing liquidity (L1 and L2) -----------------------------------


def test_market_buy_takes_the_ask_at_its_size_and_waits_for_more_when_the_quote_is_thin() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_quote(quote("99", "100", ask_size="0.5"))
    events = venue.submit(order(qty="2"), ts=11)
    assert kinds(events) == ["OrderAccepted", "OrderFilled"]
    assert fills(events) == [(D("0.5"), D(100), LiquiditySide.TAKER)]
    # The quote's size is used up: a second order gets nothing from it.
    assert fills(venue.submit(order("o-2", qty="1"), ts=12)) == []
    # The next quote offers more: the market order keeps taking.
    assert fills(venue.on_quote(quote("100", "101", ask_size="3", ts=13))) == [
        (D("1.5"), D(101), LiquiditySide.TAKER),
        (D("1"), D(101), LiquiditySide.TAKER),
    ]


def test_market_order_walks_the_l2_book_level_by_level() -> None:
    venue = SimulatedVenue("SIM", fill_model=FillModel(slippage_bps=D(50), prob_slippage=1.0))
    venue.on_book(book(asks=[("100", "1"), ("101", "1"), ("103", "5")], bids=[("99", "1")]), 10)
    events = venue.submit(order(qty="3"), ts=11)
    # The book is its own slippage: the fill model's slippage does not apply.
    assert fills(events) == [
        (D(1), D(100), LiquiditySide.TAKER),
        (D(1), D(101), LiquiditySide.TAKER),
        (D(1), D(103), LiquiditySide.TAKER),
    ]


def test_marketable_limit_takes_within_its_limit_and_rests_the_rest_as_maker() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_book(book(asks=[("100", "1"), ("101", "1"), ("102", "5")], bids=[("99", "1")]), 10)
    events = venue.submit(order(qty="5", price="101"), ts=11)
    assert fills(events) == [
        (D(1), D(100), LiquiditySide.TAKER),
        (D(1), D(101), LiquiditySide.TAKER),
    ]
    assert venue.open_orders()[0].client_order_id == "o-1"
    # Later the market trades through 101: the rest fills as maker at the limit.
    assert fills(venue.on_trade(trade("100.5", size="10", ts=12))) == [
        (D(3), D(101), LiquiditySide.MAKER)
    ]


def test_resting_limit_fills_as_maker_when_a_new_quote_crosses_it() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_quote(quote("99", "101"))
    assert fills(venue.submit(order(qty="2", price="100"), ts=11)) == []
    assert fills(venue.on_quote(quote("98", "99.5", ask_size="1", ts=12))) == [
        (D(1), D(100), LiquiditySide.MAKER)
    ]
    assert fills(venue.on_quote(quote("98", "100", ask_size="4", ts=13))) == [
        (D(1), D(100), LiquiditySide.MAKER)
    ]


# --- trades and bars -------------------------------------------------------------------


def test_market_order_with_only_trades_seen_fills_from_the_next_trades_up_to_their_size() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_trade(trade("100", ts=5))
    assert kinds(venue.submit(order(qty="2"), ts=6)) == ["OrderAccepted"]
    assert fills(venue.on_trade(trade("100.5", size="0.75", ts=7))) == [
        (D("0.75"), D("100.5"), LiquiditySide.TAKER)
    ]
    assert fills(venue.on_trade(trade("100.25", size="9", ts=8))) == [
        (D("1.25"), D("100.25"), LiquiditySide.TAKER)
    ]
    assert venue.open_orders() == []


def test_market_order_against_bars_fills_at_the_next_bars_open_within_its_volume_share() -> None:
    venue = SimulatedVenue("SIM", fill_model=FillModel(bar_volume_share=D("0.1")))
    venue.on_bar(bar("100", "105", "95", "101", ts=60))
    venue.submit(order(qty="3"), ts=61)
    assert fills(venue.on_bar(bar("102", "110", "90", "104", volume="20", ts=120))) == [
        (D(2), D(102), LiquiditySide.TAKER)
    ]
    assert fills(venue.on_bar(bar("103", "110", "90", "104", volume="20", ts=180))) == [
        (D(1), D(103), LiquiditySide.TAKER)
    ]


def test_data_stamped_before_an_order_arrived_does_not_trade_it() -> None:
    # Live, the execution service may handle a bar only after an order sent on that bar's
    # close: the bar is older than the order and must not fill it; the next bar does.
    venue = SimulatedVenue("SIM")
    venue.on_bar(bar("100", "105", "95", "101", ts=60))
    venue.submit(order(qty="1"), ts=130)
    assert fills(venue.on_bar(bar("102", "110", "90", "104", ts=120))) == []
    assert fills(venue.on_bar(bar("103", "110", "90", "104", ts=180))) == [
        (D(1), D(103), LiquiditySide.TAKER)
    ]


@pytest.mark.parametrize(
    ("side", "limit", "the_bar", "price"),
    [
        (OrderSide.BUY, "95", ("100", "101", "94", "96"), D(95)),  # range goes through
        (OrderSide.BUY, "95", ("93", "96", "92", "95"), D(93)),  # opens through: at the open
        (OrderSide.SELL, "105", ("100", "106", "99", "104"), D(105)),
        (OrderSide.SELL, "105", ("107", "108", "104", "105"), D(107)),
    ],
)
def test_resting_limit_fills_as_maker_when_a_bar_goes_through_it(
    side: OrderSide, limit: str, the_bar: tuple[str, str, str, str], price: Decimal
) -> None:
    venue = SimulatedVenue("SIM")
    venue.on_bar(bar("100", "100", "100", "100", ts=60))
    venue.submit(order(side=side, price=limit), ts=61)
    assert fills(venue.on_bar(bar(*the_bar, ts=120))) == [(D(2), price, LiquiditySide.MAKER)]


def test_a_touch_fills_a_resting_limit_only_with_the_fill_models_queue_chance() -> None:
    never = SimulatedVenue("SIM", fill_model=FillModel(prob_fill_at_limit=0.0))
    always = SimulatedVenue("SIM")
    for venue in (never, always):
        venue.on_trade(trade("101", ts=5))
        venue.submit(order(price="100"), ts=6)
    assert fills(never.on_trade(trade("100", ts=7))) == []
    assert fills(never.on_trade(trade("99.99", ts=8))) == [(D(2), D(100), LiquiditySide.MAKER)]
    assert fills(always.on_trade(trade("100", ts=7))) == [(D(2), D(100), LiquiditySide.MAKER)]


def test_iceberg_fills_at_most_one_display_slice_per_piece_of_data() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_trade(trade("101", ts=5))
    venue.submit(order(qty="5", price="100", display_qty=D(2)), ts=6)
    assert fills(venue.on_trade(trade("99", size="10", ts=7))) == [
        (D(2), D(100), LiquiditySide.MAKER)
    ]
    assert fills(venue.on_trade(trade("99", size="10", ts=8))) == [
        (D(2), D(100), LiquiditySide.MAKER)
    ]
    assert fills(venue.on_trade(trade("99", size="10", ts=9))) == [
        (D(1), D(100), LiquiditySide.MAKER)
    ]


def test_data_for_another_instrument_fills_nothing() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_trade(trade("101", ts=5))
    venue.submit(order(price="100"), ts=6)
    assert venue.on_bar(bar("90", "90", "90", "90", ts=7, inst=ETH)) == []


def test_bar_path_visits_the_extreme_nearer_the_open_first() -> None:
    assert bar_path(D(100), D(101), D(90), D(95)) == (D(100), D(101), D(90), D(95))
    assert bar_path(D(100), D(110), D(99), D(105)) == (D(100), D(99), D(110), D(105))


# --- time in force ------------------------------------------------------------------------


def test_ioc_takes_what_its_first_chance_offers_and_cancels_the_rest() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_quote(quote("99", "100", ask_size="1"))
    events = venue.submit(order(qty="3", time_in_force=TimeInForce.IOC), ts=11)
    assert kinds(events) == ["OrderAccepted", "OrderFilled", "OrderCanceled"]
    assert venue.open_orders() == []


def test_fok_is_canceled_without_a_fill_unless_it_can_fill_in_full() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_quote(quote("99", "100", ask_size="1"))
    assert kinds(venue.submit(order(qty="3", time_in_force=TimeInForce.FOK), ts=11)) == [
        "OrderAccepted",
        "OrderCanceled",
    ]
    assert fills(venue.submit(order("o-2", qty="1", time_in_force=TimeInForce.FOK), ts=12)) == [
        (D(1), D(100), LiquiditySide.TAKER)
    ]


def test_ioc_with_only_trades_seen_waits_for_its_first_chance_the_next_trade() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_trade(trade("100", ts=5))
    assert kinds(venue.submit(order(qty="3", price="100", time_in_force=TimeInForce.IOC), 6)) == [
        "OrderAccepted"
    ]
    events = venue.on_trade(trade("100", size="1", ts=7))
    assert kinds(events) == ["OrderFilled", "OrderCanceled"]


def test_gtd_order_expires_at_its_expire_time_before_later_data_can_fill_it() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_trade(trade("101", ts=5))
    venue.submit(order(price="100", time_in_force=TimeInForce.GTD, expire_time_ns=50), ts=6)
    events = venue.on_trade(trade("90", ts=60))
    assert kinds(events) == ["OrderExpired"]
    assert events[0].ts_event == 50


def test_gtd_already_past_on_arrival_is_rejected() -> None:
    venue = SimulatedVenue("SIM", latency_ns=10)
    venue.on_trade(trade("101", ts=5))
    venue.submit(order(price="100", time_in_force=TimeInForce.GTD, expire_time_ns=12), ts=6)
    [rejected] = venue.advance(16)
    assert isinstance(rejected, OrderRejected)
    assert rejected.reason_code == VenueRejectCode.GTD_ALREADY_EXPIRED


def test_day_order_expires_at_the_next_utc_midnight() -> None:
    venue = SimulatedVenue("SIM")
    noon = 3 * DAY + DAY // 2
    venue.on_trade(trade("101", ts=noon))
    venue.submit(order(price="100", time_in_force=TimeInForce.DAY), ts=noon + 1)
    assert venue.advance(4 * DAY - 1) == []
    [expired] = venue.advance(4 * DAY)
    assert isinstance(expired, OrderExpired)
    assert expired.ts_event == 4 * DAY


# --- latency --------------------------------------------------------------------------------


def test_with_latency_an_order_arrives_later_and_misses_the_data_before_its_arrival() -> None:
    venue = SimulatedVenue("SIM", latency_ns=100)
    venue.on_quote(quote("99", "100", ts=0))
    assert venue.submit(order(qty="1"), ts=10) == []
    # A quote before arrival: the order is not there yet.
    assert venue.on_quote(quote("90", "91", ts=50)) == []
    # At the next data after arrival it arrives, against the book as it stood then.
    events = venue.on_quote(quote("80", "81", ts=150))
    assert kinds(events) == ["OrderAccepted", "OrderFilled"]
    assert events[0].ts_event == 110
    assert fills(events) == [(D(1), D(91), LiquiditySide.TAKER)]


def test_with_latency_a_cancel_can_lose_the_race_to_a_fill() -> None:
    venue = SimulatedVenue("SIM", latency_ns=100)
    venue.on_trade(trade("101", ts=0))
    spec = order(price="100")
    venue.submit(spec, ts=0)
    venue.advance(100)
    venue.cancel(spec, ts=150)
    assert fills(venue.on_trade(trade("99", ts=200))) == [(D(2), D(100), LiquiditySide.MAKER)]
    [answer] = venue.advance(250)
    assert isinstance(answer, OrderCancelRejected)
    assert answer.reason_code == VenueRejectCode.NOT_RESTING


# --- flags, modify, cancel --------------------------------------------------------------------


def test_post_only_limit_that_would_take_is_rejected_and_one_that_would_not_rests() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_quote(quote("99", "100"))
    [rejected] = venue.submit(order(price="100", post_only=True), ts=11)
    assert isinstance(rejected, OrderRejected)
    assert rejected.reason_code == VenueRejectCode.POST_ONLY_WOULD_TAKE
    assert kinds(venue.submit(order("o-2", price="99.5", post_only=True), ts=12)) == [
        "OrderAccepted"
    ]


def test_reduce_only_is_rejected_without_a_position_to_reduce_and_never_flips_it() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_quote(quote("99", "100"))
    [rejected] = venue.submit(order(side=OrderSide.SELL, reduce_only=True), ts=11)
    assert rejected.reason_code == VenueRejectCode.REDUCE_ONLY_WOULD_INCREASE  # type: ignore[union-attr]
    venue.submit(order("long", qty="1"), ts=12)
    assert venue.net_position(BTC) == 1
    events = venue.submit(order("close", side=OrderSide.SELL, qty="3", reduce_only=True), 13)
    assert fills(events) == [(D(1), D(99), LiquiditySide.TAKER)]
    assert kinds(events)[-1] == "OrderCanceled"
    assert venue.net_position(BTC) == 0


def test_modify_changes_price_and_quantity_and_a_marketable_new_price_takes() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_quote(quote("99", "101"))
    spec = order(price="100")
    venue.submit(spec, ts=11)
    events = venue.modify(spec, 12, quantity=D(3), price=D(101))
    assert isinstance(events[0], OrderUpdated)
    assert (events[0].quantity, events[0].price) == (D(3), D(101))
    assert fills(events) == [(D(3), D(101), LiquiditySide.TAKER)]


def test_modify_to_at_most_the_filled_quantity_and_of_a_finished_order_is_refused() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_quote(quote("99", "100", ask_size="1"))
    spec = order(qty="3", price="100")
    venue.submit(spec, ts=11)
    [too_low] = venue.modify(spec, 12, quantity=D(1), price=None)
    assert isinstance(too_low, OrderModifyRejected)
    assert too_low.reason_code == VenueRejectCode.QUANTITY_NOT_ABOVE_FILLED
    venue.cancel(spec, 13)
    [gone] = venue.modify(spec, 14, quantity=D(5), price=None)
    assert gone.reason_code == VenueRejectCode.NOT_RESTING  # type: ignore[union-attr]


def test_cancel_answers_once_and_then_refuses() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_trade(trade("101", ts=5))
    spec = order(price="100")
    venue.submit(spec, ts=6)
    assert kinds(venue.cancel(spec, 7)) == ["OrderCanceled"]
    assert kinds(venue.cancel(spec, 8)) == ["OrderCancelRejected"]
    assert venue.on_trade(trade("90", ts=9)) == []


@pytest.mark.parametrize("order_type", [OrderType.STOP_MARKET, OrderType.MARKET_IF_TOUCHED])
def test_types_with_a_trigger_are_not_native_and_are_rejected(order_type: OrderType) -> None:
    venue = SimulatedVenue("SIM")
    [event] = venue.submit(order(order_type=order_type, trigger_price=D(90)), ts=5)
    assert isinstance(event, OrderRejected)
    assert event.reason_code == VenueRejectCode.UNSUPPORTED_ORDER_TYPE


def test_market_order_before_any_data_is_rejected_no_market_data() -> None:
    [event] = SimulatedVenue("SIM").submit(order(), ts=5)
    assert isinstance(event, OrderRejected)
    assert event.reason_code == VenueRejectCode.NO_MARKET_DATA
    assert "BTCUSDT.SIM" in event.reason


# --- fees, slippage, determinism, restart ------------------------------------------------------


def test_fees_are_charged_at_maker_and_taker_rates_in_the_quote_currency() -> None:
    instrument = Instrument(BTC, "BTC", "USDT", D("0.01"), D("0.001"), D("0.001"))
    venue = SimulatedVenue("SIM", "USD", D("0.001"), D("0.0002"), instruments=[instrument])
    venue.on_quote(quote("99", "100"))
    [_, taker] = venue.submit(order(qty="2"), ts=11)
    venue.submit(order("o-2", side=OrderSide.SELL, qty="1", price="101"), ts=12)
    [maker] = venue.on_trade(trade("102", ts=13))
    assert isinstance(taker, OrderFilled)
    assert isinstance(maker, OrderFilled)
    assert (taker.commission, taker.commission_currency) == (D("0.2"), "USDT")
    assert (maker.commission, maker.liquidity_side) == (D("0.0202"), LiquiditySide.MAKER)


def test_slippage_moves_taker_fills_by_whole_ticks_and_a_seed_makes_it_repeatable() -> None:
    instrument = Instrument(BTC, "BTC", "USDT", D("0.5"), D("0.001"), D("0.001"))
    model = FillModel(slippage_bps=D(1), prob_slippage=0.5)

    def run(seed: int) -> list[Decimal]:
        venue = SimulatedVenue("SIM", fill_model=model, seed=seed, instruments=[instrument])
        venue.on_trade(trade("100", ts=0))
        prices = []
        for i in range(40):
            venue.submit(order(f"o-{i}", qty="1"), ts=2 * i + 1)
            prices += [f[1] for f in fills(venue.on_trade(trade("100", ts=2 * i + 2)))]
        return prices

    first = run(seed=7)
    assert set(first) == {D(100), D("100.5")}  # 1 bp of 100 rounds up to one 0.5 tick
    assert run(seed=7) == first
    assert run(seed=8) != first


def test_ids_derive_from_venue_name_and_client_order_id_so_replays_match() -> None:
    venue = SimulatedVenue("PAPER")
    venue.on_quote(quote("99", "100", ask_size="1"))
    events = venue.submit(order("abc", qty="2"), ts=5)
    events += venue.on_quote(quote("99", "100", ask_size="1", ts=6))
    accepted, first, second = events
    assert isinstance(accepted, OrderAccepted)
    assert accepted.venue_order_id == "PAPER-abc"
    assert [first.trade_id, second.trade_id] == ["PAPER-abc-1", "PAPER-abc-2"]  # type: ignore[union-attr]


def test_restored_order_works_again_with_its_fill_count_and_filled_quantity() -> None:
    venue = SimulatedVenue("SIM")
    venue.restore(
        order(qty="3", price="100"),
        venue_order_id=VenueOrderId("SIM-o-1"),
        filled_qty=D(1),
        fills=1,
    )
    [fill] = venue.on_trade(trade("99", size="10", ts=5))
    assert isinstance(fill, OrderFilled)
    assert (fill.last_qty, fill.trade_id) == (D(2), "SIM-o-1-2")


def test_restored_order_is_not_traded_by_data_from_before_it_was_accepted() -> None:
    venue = SimulatedVenue("SIM")
    venue.restore(order(qty="1", price="100"), VenueOrderId("SIM-o-1"), ts_accepted=10)
    assert venue.on_trade(trade("99", size="10", ts=9)) == []
    [fill] = venue.on_trade(trade("99", size="10", ts=11))
    assert isinstance(fill, OrderFilled)


def test_duplicate_client_order_id_is_rejected() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_trade(trade("101", ts=5))
    venue.submit(order(price="100"), ts=6)
    [event] = venue.submit(order(price="99"), ts=7)
    assert isinstance(event, OrderRejected)
    assert event.reason_code == VenueRejectCode.DUPLICATE_CLIENT_ORDER_ID


def test_forgotten_order_no_longer_works() -> None:
    venue = SimulatedVenue("SIM")
    venue.on_trade(trade("101", ts=5))
    venue.submit(order(price="100"), ts=6)
    venue.forget(ClientOrderId("o-1"))
    assert venue.on_trade(trade("90", ts=7)) == []
    assert isinstance(venue.cancel(order(price="100"), 8)[0], OrderCancelRejected)
    assert not any(isinstance(e, OrderCanceled) for e in venue.advance(9))
