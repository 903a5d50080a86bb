"""Emulated order types firing on the real data in ../shared/data, checked against a plain
scan of the same data that shares no code with the emulator."""

from __future__ import annotations

import dataclasses
import itertools
from decimal import Decimal
from typing import Any

from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.enums import OrderSide, OrderStatus, OrderType, TrailingOffsetType
from foxtrot.core.events import OrderEvent, OrderFilled, OrderTriggered, OrderUpdated
from foxtrot.core.execution import ExecutionEngine
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.venue import SimulatedVenue

D = Decimal


def spec(
    instrument: InstrumentId, side: OrderSide, order_type: OrderType, **fields: Any
) -> OrderSpec:
    return OrderSpec(
        client_order_id=ClientOrderId("emu-1"),
        strategy_id=StrategyId("s1"),
        account_id=AccountId("acc"),
        instrument_id=instrument,
        side=side,
        order_type=order_type,
        **{"quantity": D("0.001"), **fields},
    )


def run(
    engine: ExecutionEngine[SimulatedVenue], data: list[Any], start: int
) -> list[tuple[int, OrderEvent]]:
    """Feed data from index ``start`` and return (index, event) for every event."""
    out = []
    for i, item in enumerate(data[start:], start):
        if isinstance(item, TradeTick):
            events = engine.on_trade(item)
        elif isinstance(item, QuoteTick):
            events = engine.on_quote(item)
        else:
            assert isinstance(item, Bar)
            events = engine.on_bar(item)
        out += [(i, e) for e in events]
    return out


def first(events: list[tuple[int, OrderEvent]], kind: type) -> tuple[int, Any]:
    return next((i, e) for i, e in events if isinstance(e, kind))


def engine_after(data: list[Any], start: int) -> ExecutionEngine[SimulatedVenue]:
    engine = ExecutionEngine(SimulatedVenue("SIM"))
    run(engine, data[:start], 0)
    return engine


def test_sell_stop_market_triggers_on_the_first_trade_at_or_below_it_and_fills_on_the_next(
    tardis_btcusdt_trades: list[TradeTick],
) -> None:
    trades = tardis_btcusdt_trades
    start, trigger = 100, trades[100].price - 15
    expected = next(i for i in range(start, len(trades)) if trades[i].price <= trigger)
    engine = engine_after(trades, start)
    instrument = trades[0].instrument_id
    engine.submit(spec(instrument, OrderSide.SELL, OrderType.STOP_MARKET, trigger_price=trigger), 0)
    events = run(engine, trades, start)
    at, triggered = first(events, OrderTriggered)
    assert at == expected
    assert triggered.ts_event == trades[expected].ts_init
    filled_at, fill = first(events, OrderFilled)
    assert filled_at == expected + 1
    assert fill.last_px == trades[expected + 1].price
    assert sum(e.last_qty for _, e in events if isinstance(e, OrderFilled)) == D("0.001")


def test_buy_market_if_touched_triggers_when_the_ask_dips_to_it(
    eurusd_quotes: list[QuoteTick],
) -> None:
    quotes = eurusd_quotes
    start = 10
    trigger = min(q.ask_price for q in quotes[start:2000]) + D("0.00002")
    expected = next(i for i in range(start, len(quotes)) if quotes[i].ask_price <= trigger)
    engine = engine_after(quotes, start)
    instrument = quotes[0].instrument_id
    order = spec(instrument, OrderSide.BUY, OrderType.MARKET_IF_TOUCHED, trigger_price=trigger)
    engine.submit(dataclasses.replace(order, quantity=D(1000)), 0)
    events = run(engine, quotes, start)
    at, _ = first(events, OrderTriggered)
    assert at == expected
    # Released at once against the quote standing: it buys at that quote's ask.
    filled_at, fill = first(events, OrderFilled)
    assert (filled_at, fill.last_px) == (expected, quotes[expected].ask_price)


def test_sell_limit_if_touched_triggers_when_the_bid_rises_to_it_then_rests_at_its_limit(
    eurusd_quotes: list[QuoteTick],
) -> None:
    quotes = eurusd_quotes
    start = 10
    trigger = max(q.bid_price for q in quotes[start:3000]) - D("0.00001")
    limit = trigger + D("0.00005")
    expected = next(i for i in range(start, len(quotes)) if quotes[i].bid_price >= trigger)
    fill_expected = next(
        (i for i in range(expected + 1, len(quotes)) if quotes[i].bid_price >= limit), None
    )
    engine = engine_after(quotes, start)
    order = spec(
        quotes[0].instrument_id,
        OrderSide.SELL,
        OrderType.LIMIT_IF_TOUCHED,
        trigger_price=trigger,
        price=limit,
    )
    engine.submit(order, 0)
    events = run(engine, quotes, start)
    assert first(events, OrderTriggered)[0] == expected
    fills = [(i, e) for i, e in events if isinstance(e, OrderFilled)]
    if fill_expected is None:
        assert fills == []
        assert engine.orders[ClientOrderId("emu-1")].status is OrderStatus.TRIGGERED
    else:
        assert fills[0][0] == fill_expected
        assert fills[0][1].last_px == limit


def test_trailing_stop_market_in_price_follows_the_high_and_triggers_on_the_pullback(
    tardis_btcusdt_trades: list[TradeTick],
) -> None:
    trades = tardis_btcusdt_trades
    start, offset = 200, D(12)
    best = trades[start].price
    expected, expected_trigger = None, None
    trigger = best - offset
    for i in range(start + 1, len(trades)):
        price = trades[i].price
        if price <= trigger:
            expected, expected_trigger = i, trigger
            break
        if price - offset > trigger:
            trigger = price - offset
    assert expected is not None, "the file should pull back 12 USDT from a high"
    engine = engine_after(trades, start + 1)
    order = spec(
        trades[0].instrument_id,
        OrderSide.SELL,
        OrderType.TRAILING_STOP_MARKET,
        trailing_offset=offset,
    )
    started = engine.submit(order, 0)
    assert isinstance(started[-1], OrderUpdated)
    assert started[-1].trigger_price == trades[start].price - offset
    events = run(engine, trades, start + 1)
    at, _ = first(events, OrderTriggered)
    assert at == expected
    updates = [e for i, e in events if isinstance(e, OrderUpdated)]
    assert updates
    assert updates[-1].trigger_price == expected_trigger
    assert all(
        a.trigger_price < b.trigger_price  # type: ignore[operator]
        for a, b in itertools.pairwise(updates)
    )


def test_trailing_stop_limit_in_basis_points_on_one_minute_bars(
    ftx_btc_perp_1m_bars: list[Bar],
) -> None:
    bars = ftx_btc_perp_1m_bars
    start, bps, limit_bps = 50, D(80), D(10)
    # Plain scan: a buy trailing stop trails the low at +80 bp, the path of each bar
    # visiting the extreme nearer its open first.
    trigger = bars[start - 1].close * (1 + bps / 10_000)
    expected = None
    for i in range(start, len(bars)):
        b = bars[i]
        path = (
            [b.open, b.high, b.low, b.close]
            if b.high - b.open <= b.open - b.low
            else [b.open, b.low, b.high, b.close]
        )
        for price in path:
            if price >= trigger:
                expected = i
                break
            trigger = min(trigger, price * (1 + bps / 10_000))
        if expected is not None:
            break
    assert expected is not None
    engine = engine_after(bars, start)
    order = spec(
        bars[0].instrument_id,
        OrderSide.BUY,
        OrderType.TRAILING_STOP_LIMIT,
        trailing_offset=bps,
        trailing_offset_type=TrailingOffsetType.BASIS_POINTS,
        limit_offset=limit_bps,
    )
    engine.submit(order, 0)
    events = run(engine, bars, start)
    at, _ = first(events, OrderTriggered)
    assert at == expected
    last_move = [e for i, e in events if isinstance(e, OrderUpdated) and i <= at][-1]
    assert last_move.trigger_price == trigger
    assert last_move.price == trigger * (1 + limit_bps / 10_000)


def test_stop_limit_triggered_inside_a_bar_trades_from_the_next_bar(
    ftx_btc_perp_1m_bars: list[Bar],
) -> None:
    bars = ftx_btc_perp_1m_bars
    start = 10
    trigger = min(b.low for b in bars[start : start + 30])
    expected = next(i for i in range(start, len(bars)) if bars[i].low <= trigger)
    engine = engine_after(bars, start)
    order = spec(
        bars[0].instrument_id,
        OrderSide.SELL,
        OrderType.STOP_LIMIT,
        trigger_price=trigger,
        price=trigger - 50,
    )
    engine.submit(order, 0)
    events = run(engine, bars, start)
    assert first(events, OrderTriggered)[0] == expected
    fill_at, fill = first(events, OrderFilled)
    nxt = bars[expected + 1]
    assert fill_at == expected + 1
    # The released sell limit was priced through the last price (the triggering bar's
    # close) or not; either way the next bar decides, at its open or at the limit.
    assert fill.last_px in (nxt.open, trigger - 50)
