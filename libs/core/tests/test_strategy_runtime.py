"""StrategyRuntime: lifecycle, the order helpers, the strategy's view, timers and faults."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from foxtrot.core.clock import TimeEvent
from foxtrot.core.commands import CancelOrder, ModifyOrder, SubmitOrder, SubmitOrderList
from foxtrot.core.data import Bar, TradeTick
from foxtrot.core.enums import (
    AggressorSide,
    ContingencyType,
    LiquiditySide,
    OrderSide,
    OrderType,
    TrailingOffsetType,
)
from foxtrot.core.errors import InvalidOrder
from foxtrot.core.events import OrderAccepted, OrderCanceled, OrderFilled, OrderSubmitted
from foxtrot.core.identifiers import InstrumentId, TradeId, VenueOrderId
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.portfolio import Position, PositionChange
from foxtrot.core.strategy import (
    Strategy,
    StrategyConfig,
    StrategyFaulted,
    StrategyRuntime,
    StrategyState,
)

BTC = InstrumentId("BTCUSDT", "BINANCE")
ETH = InstrumentId("ETHUSDT", "BINANCE")
ONE = Decimal(1)


class Recorder(Strategy[StrategyConfig]):
    """Records every call; does whatever ``self.act`` says on each bar."""

    def __init__(self, config: StrategyConfig) -> None:
        super().__init__(config)
        self.calls: list[tuple[str, Any]] = []
        self.act: Any = None

    def on_start(self) -> None:
        self.calls.append(("start", None))
        self.subscribe_bars(BTC, "1m")
        self.subscribe_trades(BTC)

    def on_stop(self) -> None:
        self.calls.append(("stop", None))

    def on_bar(self, bar: Bar) -> None:
        self.calls.append(("bar", bar.ts_event))
        if self.act is not None:
            self.act(self)

    def on_trade(self, trade: TradeTick) -> None:
        self.calls.append(("trade", trade.ts_event))

    def on_order_event(self, event: Any) -> None:
        self.calls.append((type(event).__name__, event.client_order_id))

    def on_fill(self, fill: OrderFilled) -> None:
        self.calls.append(("fill", fill.last_qty))

    def on_position(self, position: Position, change: PositionChange) -> None:
        self.calls.append(("position", (change.value, position.quantity)))

    def on_timer(self, event: TimeEvent) -> None:
        self.calls.append(("timer", event.ts_event))


def hosted(strategy_id: str = "rec") -> tuple[Recorder, StrategyRuntime]:
    strategy = Recorder(StrategyConfig(strategy_id=strategy_id))
    runtime = StrategyRuntime(strategy)
    runtime.start()
    return strategy, runtime


def bar(ts: int, instrument: InstrumentId = BTC, spec: str = "1m", close: str = "100") -> Bar:
    price = Decimal(close)
    return Bar(instrument, spec, price, price, price, price, ONE, ts, ts)


def filled(spec: OrderSpec, qty: Decimal, ts: int = 5) -> list[Any]:
    fields = spec.event_fields(ts)
    return [
        OrderSubmitted(**fields),
        OrderAccepted(**fields, venue_order_id=VenueOrderId("V1")),
        OrderFilled(
            **fields,
            venue_order_id=VenueOrderId("V1"),
            trade_id=TradeId(f"T-{ts}"),
            side=spec.side,
            last_qty=qty,
            last_px=Decimal(100),
            commission=Decimal("0.1"),
            commission_currency="USDT",
            liquidity_side=LiquiditySide.TAKER,
        ),
    ]


def only_submit(runtime: StrategyRuntime) -> OrderSpec:
    commands = runtime.drain()
    assert len(commands) == 1
    assert isinstance(commands[0], SubmitOrder)
    return commands[0].spec


# --- lifecycle and data ----------------------------------------------------------------------


def test_start_subscribes_and_only_subscribed_data_reaches_the_strategy() -> None:
    strategy, runtime = hosted()
    assert runtime.state is StrategyState.RUNNING
    runtime.on_bar(bar(1))
    runtime.on_bar(bar(2, spec="5m"))
    runtime.on_bar(bar(3, instrument=ETH))
    runtime.on_trade(TradeTick(BTC, ONE, ONE, AggressorSide.BUYER, TradeId("t"), 4, 4))
    assert strategy.calls == [("start", None), ("bar", 1), ("trade", 4)]


def test_a_stopped_strategy_sees_nothing_and_its_timers_are_cancelled() -> None:
    strategy, runtime = hosted()
    strategy.clock.set_timer("t", 10)
    runtime.stop()
    runtime.on_bar(bar(1))
    runtime.on_timers(100)
    assert runtime.state is StrategyState.STOPPED
    assert strategy.calls == [("start", None), ("stop", None)]


def test_registered_indicators_see_each_bar_before_the_strategy() -> None:
    seen: list[str] = []

    class Indicator:
        def handle_bar(self, b: Bar) -> None:
            seen.append(f"indicator {b.ts_event}")

        def reset(self) -> None:
            seen.append("reset")

    class WithIndicator(Strategy[StrategyConfig]):
        def on_start(self) -> None:
            self.register_indicator(BTC, "1m", Indicator())

        def on_bar(self, b: Bar) -> None:
            seen.append(f"strategy {b.ts_event}")

    runtime = StrategyRuntime(WithIndicator(StrategyConfig(strategy_id="i")))
    runtime.start()
    runtime.on_bar(bar(7))
    runtime.reset()
    assert seen == ["indicator 7", "strategy 7", "reset"]
    assert len(runtime.strategy.indicators) == 1


def test_timers_fire_through_on_timer_with_their_due_times() -> None:
    strategy, runtime = hosted()
    strategy.clock.set_timer("every", 10)
    runtime.on_timers(35)
    assert [c for c in strategy.calls if c[0] == "timer"] == [
        ("timer", 10),
        ("timer", 20),
        ("timer", 30),
    ]


# --- orders ------------------------------------------------------------------------------------


def test_every_order_helper_builds_the_order_type_it_names() -> None:
    strategy, runtime = hosted()
    p, t, o = Decimal(100), Decimal(90), Decimal(5)
    strategy.market(BTC, OrderSide.BUY, ONE)
    strategy.limit(BTC, OrderSide.BUY, ONE, p, post_only=True)
    strategy.stop_market(BTC, OrderSide.SELL, ONE, t)
    strategy.stop_limit(BTC, OrderSide.SELL, ONE, t, t)
    strategy.market_if_touched(BTC, OrderSide.BUY, ONE, t)
    strategy.limit_if_touched(BTC, OrderSide.BUY, ONE, t, t)
    strategy.trailing_stop_market(BTC, OrderSide.SELL, ONE, o)
    strategy.trailing_stop_limit(
        BTC,
        OrderSide.SELL,
        ONE,
        Decimal(50),
        Decimal(10),
        offset_type=TrailingOffsetType.BASIS_POINTS,
    )
    specs = [c.spec for c in runtime.drain() if isinstance(c, SubmitOrder)]
    assert [s.order_type for s in specs] == [
        OrderType.MARKET,
        OrderType.LIMIT,
        OrderType.STOP_MARKET,
        OrderType.STOP_LIMIT,
        OrderType.MARKET_IF_TOUCHED,
        OrderType.LIMIT_IF_TOUCHED,
        OrderType.TRAILING_STOP_MARKET,
        OrderType.TRAILING_STOP_LIMIT,
    ]
    assert specs[1].post_only
    assert specs[7].trailing_offset_type is TrailingOffsetType.BASIS_POINTS
    assert all(s.strategy_id == "rec" and s.account_id == "SIM-001" for s in specs)
    assert len({s.client_order_id for s in specs}) == 8
    assert len(strategy.orders_open()) == 8


def test_a_bracket_is_one_list_whose_exits_cancel_each_other() -> None:
    strategy, runtime = hosted()
    entry, stop, take = strategy.bracket(
        BTC, OrderSide.BUY, ONE, stop_loss=Decimal(90), take_profit=Decimal(120)
    )
    (command,) = runtime.drain()
    assert isinstance(command, SubmitOrderList)
    by_id = {s.client_order_id: s for s in command.specs}
    assert by_id[entry].contingency_type is ContingencyType.OTO
    assert by_id[stop].order_type is OrderType.STOP_MARKET
    assert by_id[stop].side is OrderSide.SELL
    assert by_id[take].order_type is OrderType.LIMIT
    assert by_id[stop].linked_order_ids == (take,)
    assert by_id[take].parent_order_id == entry


def test_one_cancels_other_links_two_orders_both_ways() -> None:
    strategy, runtime = hosted()
    first = strategy.order_spec(BTC, OrderSide.SELL, ONE, OrderType.LIMIT, price=Decimal(110))
    second = strategy.order_spec(
        BTC, OrderSide.SELL, ONE, OrderType.STOP_MARKET, trigger_price=Decimal(90)
    )
    strategy.one_cancels_other(first, second)
    (command,) = runtime.drain()
    assert isinstance(command, SubmitOrderList)
    a, b = command.specs
    assert a.linked_order_ids == (b.client_order_id,)
    assert b.linked_order_ids == (a.client_order_id,)


def test_fills_update_the_order_then_the_position_then_the_strategy_is_told() -> None:
    strategy, runtime = hosted()
    strategy.market(BTC, OrderSide.BUY, Decimal(2))
    spec = only_submit(runtime)
    for event in filled(spec, Decimal(2)):
        assert runtime.on_order_event(event)
    position = strategy.position(BTC)
    assert position is not None
    assert position.quantity == 2
    assert strategy.net_position(BTC) == 2
    assert strategy.orders_open() == []
    order = strategy.order(spec.client_order_id)
    assert order is not None
    assert order.filled_qty == 2
    assert strategy.calls[-4:] == [
        ("OrderAccepted", spec.client_order_id),
        ("OrderFilled", spec.client_order_id),
        ("fill", Decimal(2)),
        ("position", ("OPENED", Decimal(2))),
    ]


def test_an_event_seen_twice_or_of_an_unknown_order_is_not_shown_again() -> None:
    strategy, runtime = hosted()
    strategy.market(BTC, OrderSide.BUY, ONE)
    spec = only_submit(runtime)
    events = filled(spec, ONE)
    for event in events:
        runtime.on_order_event(event)
    assert not runtime.on_order_event(events[-1])
    other = OrderCanceled(**spec.event_fields(9) | {"client_order_id": "nope"})
    assert not runtime.on_order_event(other)
    assert strategy.net_position(BTC) == 1


def test_close_position_sends_a_reduce_only_market_order_for_what_is_held() -> None:
    strategy, runtime = hosted()
    strategy.market(BTC, OrderSide.SELL, Decimal(3))
    spec = only_submit(runtime)
    for event in filled(spec, Decimal(3)):
        runtime.on_order_event(event)
    strategy.close_all_positions()
    close = only_submit(runtime)
    assert (close.side, close.quantity, close.reduce_only) == (OrderSide.BUY, Decimal(3), True)
    assert strategy.close_position(ETH) is None


def test_modify_and_cancel_name_the_order_and_unknown_orders_are_refused() -> None:
    strategy, runtime = hosted()
    cid = strategy.limit(BTC, OrderSide.BUY, ONE, Decimal(100))
    runtime.drain()
    strategy.modify_order(cid, price=Decimal(101))
    strategy.cancel_all_orders(BTC)
    modify, cancel = runtime.drain()
    assert modify == ModifyOrder(cid, strategy.id, BTC, None, Decimal(101), None)
    assert cancel == CancelOrder(cid, strategy.id, BTC)
    with pytest.raises(InvalidOrder, match="strategy rec has no order nope"):
        strategy.cancel_order("nope")


def test_client_order_ids_follow_the_input_time_and_count_within_it() -> None:
    strategy, runtime = hosted()

    def two_orders(s: Strategy[Any]) -> None:
        s.market(BTC, OrderSide.BUY, ONE)
        s.market(BTC, OrderSide.BUY, ONE)

    strategy.act = two_orders
    runtime.on_bar(bar(60))
    runtime.on_bar(bar(120))
    ids = [c.spec.client_order_id for c in runtime.drain() if isinstance(c, SubmitOrder)]
    assert ids == ["rec-60-1", "rec-60-2", "rec-120-1", "rec-120-2"]


def test_the_order_id_counter_survives_save_and_load() -> None:
    strategy, runtime = hosted()
    strategy.act = lambda s: s.market(BTC, OrderSide.BUY, ONE)
    runtime.on_bar(bar(60))
    state = runtime.save()
    again = Recorder(StrategyConfig(strategy_id="rec"))
    restored = StrategyRuntime(again)
    restored.load(state)
    restored.start()
    restored._current_ts = 60  # more orders asked at the same input time
    assert restored.next_order_id() == "rec-60-2"


def test_state_of_another_version_is_refused() -> None:
    _, runtime = hosted()
    with pytest.raises(ValueError, match="strategy state version must be 1, was 99"):
        runtime.load({"version": 99})


# --- faults ------------------------------------------------------------------------------------


def test_a_raising_handler_faults_the_strategy_and_drops_what_that_call_asked_for() -> None:
    strategy, runtime = hosted()

    def order_then_raise(s: Strategy[Any]) -> None:
        s.market(BTC, OrderSide.BUY, ONE)
        raise ZeroDivisionError("boom")

    strategy.act = order_then_raise
    with pytest.raises(
        StrategyFaulted, match="strategy rec raised in on_bar: ZeroDivisionError: boom"
    ):
        runtime.on_bar(bar(1))
    assert runtime.state is StrategyState.FAULTED
    assert runtime.fault is not None
    assert "boom" in runtime.fault
    assert runtime.drain() == []
    assert strategy.orders_open() == []
    runtime.on_bar(bar(2))  # a faulted strategy sees nothing more
    assert [c for c in strategy.calls if c[0] == "bar"] == [("bar", 1)]
    with pytest.raises(InvalidOrder, match="is faulted"):
        runtime.start()
    runtime.reset()
    runtime.start()
    assert runtime.running


def test_an_order_of_another_strategy_id_is_refused() -> None:
    strategy, _ = hosted()
    other = Recorder(StrategyConfig(strategy_id="other"))
    StrategyRuntime(other)
    spec = other.order_spec(BTC, OrderSide.BUY, ONE, OrderType.MARKET)
    with pytest.raises(InvalidOrder, match="an order of strategy rec must carry its id, was other"):
        strategy.submit_order(spec)


def test_an_unhosted_strategy_says_so() -> None:
    strategy = Recorder(StrategyConfig(strategy_id="x"))
    with pytest.raises(RuntimeError, match="strategy x is not hosted yet"):
        strategy.market(BTC, OrderSide.BUY, ONE)
