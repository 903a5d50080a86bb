"""The backtest loop: orders go through risk to the simulated venue on the data's clock, and
events come back to risk, the account and the strategies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from foxtrot.core.backtest import BacktestEngine, BacktestResult
from foxtrot.core.clock import TimeEvent
from foxtrot.core.data import Bar
from foxtrot.core.enums import OrderSide, OrderStatus
from foxtrot.core.events import OrderDenied, OrderEvent
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.instruments import Instrument
from foxtrot.core.risk import RiskLimits
from foxtrot.core.strategy import Strategy, StrategyConfig
from foxtrot.core.venue import SimulatedVenue

BTC = InstrumentId("BTCUSD", "SIM")
MINUTE = 60_000_000_000
ONE = Decimal(1)


def instrument() -> Instrument:
    return Instrument(BTC, "BTC", "USD", Decimal("0.5"), Decimal("0.001"), Decimal("0.001"))


def bars(*prices: tuple[int, int, int, int] | int) -> list[Bar]:
    out = []
    for i, p in enumerate(prices, start=1):
        o, h, lo, c = p if isinstance(p, tuple) else (p, p, p, p)
        out.append(
            Bar(
                BTC,
                "1m",
                Decimal(o),
                Decimal(h),
                Decimal(lo),
                Decimal(c),
                Decimal(1000),
                i * MINUTE,
                i * MINUTE,
            )
        )
    return out


class Scripted(Strategy[StrategyConfig]):
    """Runs ``script[i]`` on the i-th bar (0-based) and records the order events it sees."""

    def __init__(self, config: StrategyConfig, script: dict[int, Any] | None = None) -> None:
        super().__init__(config)
        self.script = script or {}
        self.seen = 0
        self.events: list[OrderEvent] = []
        self.timers: list[int] = []

    def on_start(self) -> None:
        self.subscribe_bars(BTC, "1m")

    def on_bar(self, bar: Bar) -> None:
        action = self.script.get(self.seen)
        self.seen += 1
        if action is not None:
            action(self)

    def on_order_event(self, event: OrderEvent) -> None:
        self.events.append(event)

    def on_timer(self, event: TimeEvent) -> None:
        self.timers.append(event.ts_event)
        self.market(BTC, OrderSide.BUY, ONE)


def engine(
    limits: RiskLimits | None = None, latency_ns: int = 0, btc: Decimal = Decimal(0)
) -> BacktestEngine:
    return BacktestEngine(
        venue=SimulatedVenue("SIM", "USD", Decimal("0.001"), Decimal(0), latency_ns=latency_ns),
        instruments=[instrument()],
        starting_balances={"USD": Decimal(10_000), "BTC": btc},
        risk_limits=limits,
    )


def run(strategy: Strategy[Any], data: list[Bar], **kwargs: Any) -> BacktestResult:
    e = engine(**kwargs)
    e.add_strategy(strategy)
    return e.run(data)


def buy(s: Strategy[Any]) -> None:
    s.market(BTC, OrderSide.BUY, ONE)


def test_a_market_order_fills_at_the_next_bars_open_with_its_fee() -> None:
    result = run(
        Scripted(StrategyConfig(strategy_id="s"), {0: buy}), bars(100, (104, 106, 103, 105), 107)
    )
    (fill,) = result.fills
    assert (fill.last_px, fill.last_qty, fill.commission) == (Decimal(104), ONE, Decimal("0.104"))
    assert fill.client_order_id == f"s-{MINUTE}-1"
    balances = {b.currency: b.total for b in result.balances}
    assert balances == {"BTC": ONE, "USD": Decimal(10_000) - Decimal(104) - Decimal("0.104")}
    # Equity after each bar: cash + 1 BTC at the close.
    assert list(result.equity.equity) == pytest.approx(
        [10_000, 10_000 - 104.104 + 105, 10_000 - 104.104 + 107]
    )
    assert list(result.equity.gross_exposure) == [0, 105, 107]
    assert result.starting_equity == Decimal(10_000)


def test_an_order_over_a_risk_limit_is_denied_and_the_strategy_hears_why() -> None:
    strategy = Scripted(StrategyConfig(strategy_id="s"), {0: buy})
    result = run(strategy, bars(100, 101), limits=RiskLimits(max_order_quantity=Decimal("0.5")))
    assert result.fills == []
    (denied,) = strategy.events
    assert isinstance(denied, OrderDenied)
    assert denied.reason_code == "MAX_ORDER_QUANTITY"
    assert [o.status for o in result.orders] == [OrderStatus.DENIED]


def test_latency_delays_an_order_past_the_bars_before_it_arrives() -> None:
    strategy = Scripted(StrategyConfig(strategy_id="s"), {0: buy})
    result = run(strategy, bars(100, 101, 102, 103), latency_ns=MINUTE + 1)
    (fill,) = result.fills
    assert fill.last_px == Decimal(102)  # sent at bar 1, arrived after bar 2: bar 3 open


def test_a_resting_limit_fills_when_a_bar_trades_through_it() -> None:
    def place(s: Strategy[Any]) -> None:
        s.limit(BTC, OrderSide.BUY, ONE, Decimal(95))

    result = run(
        Scripted(StrategyConfig(strategy_id="s"), {0: place}),
        bars(100, (99, 100, 96, 98), (97, 98, 94, 96)),
    )
    (fill,) = result.fills
    assert fill.last_px == Decimal(95)


def test_a_bracket_enters_then_exits_at_its_take_profit_and_cancels_its_stop() -> None:
    def bracket(s: Strategy[Any]) -> None:
        s.bracket(BTC, OrderSide.BUY, ONE, stop_loss=Decimal(90), take_profit=Decimal(110))

    # Risk judges a bracket's exits on the balances of the moment and reserves for each of
    # them (a cash account must hold what it sells), so the account starts with 2 BTC.
    result = run(
        Scripted(StrategyConfig(strategy_id="s"), {0: bracket}),
        bars(100, 100, (101, 112, 100, 111), 105),
        btc=Decimal(2),
    )
    assert [(f.side, f.last_px) for f in result.fills] == [
        (OrderSide.BUY, Decimal(100)),
        (OrderSide.SELL, Decimal(110)),
    ]
    statuses = sorted(o.status.value for o in result.orders)
    assert statuses == ["CANCELED", "FILLED", "FILLED"]


def test_timers_fire_between_records_and_their_orders_trade_on_the_next_record() -> None:
    class Timed(Scripted):
        def on_start(self) -> None:
            super().on_start()
            self.clock.set_time_alert("half-past", MINUTE + MINUTE // 2)

    strategy = Timed(StrategyConfig(strategy_id="t"))
    result = run(strategy, bars(100, 101, 102))
    assert strategy.timers == [MINUTE + MINUTE // 2]
    (fill,) = result.fills
    assert fill.last_px == Decimal(101)
    assert fill.client_order_id == f"t-{MINUTE + MINUTE // 2}-1"


def test_a_strategy_that_raises_is_faulted_and_the_others_keep_trading() -> None:
    def boom(s: Strategy[Any]) -> None:
        raise KeyError("no such thing")

    e = engine()
    e.add_strategy(Scripted(StrategyConfig(strategy_id="bad"), {1: boom}))
    e.add_strategy(Scripted(StrategyConfig(strategy_id="good"), {2: buy}))
    result = e.run(bars(100, 101, 102, 103))
    assert [f.strategy_id for f in result.fills] == ["good"]
    (fault,) = e.faults
    assert (fault.strategy_id, fault.handler, fault.ts) == ("bad", "on_bar", 2 * MINUTE)
    states = {o.strategy_id: (o.state, o.fault is not None) for o in result.strategies}
    assert states == {"bad": ("FAULTED", True), "good": ("STOPPED", False)}


def test_the_same_run_twice_gives_the_same_orders_and_fills() -> None:
    def trade(s: Strategy[Any]) -> None:
        s.market(BTC, OrderSide.BUY if s.net_position(BTC) == 0 else OrderSide.SELL, ONE)

    script = dict.fromkeys(range(10), trade)
    data = bars(*range(100, 120))
    first = run(Scripted(StrategyConfig(strategy_id="s"), script), data)
    second = run(Scripted(StrategyConfig(strategy_id="s"), script), data)
    assert first.fills == second.fills
    assert len(first.fills) == 10


def test_records_out_of_time_order_are_refused_with_both_times() -> None:
    data = bars(100, 101)
    with pytest.raises(ValueError, match=f"came after {2 * MINUTE}"):
        run(Scripted(StrategyConfig(strategy_id="s")), [data[1], data[0]])


def test_a_strategy_id_used_twice_is_refused() -> None:
    e = engine()
    e.add_strategy(Scripted(StrategyConfig(strategy_id="s")))
    with pytest.raises(ValueError, match="strategy id s is already in this backtest"):
        e.add_strategy(Scripted(StrategyConfig(strategy_id="s")))


def test_a_subscription_made_during_the_run_is_routed_from_then_on() -> None:
    class Late(Scripted):
        def on_start(self) -> None:
            self.clock.set_time_alert("subscribe", 2 * MINUTE + 1)

        def on_timer(self, event: TimeEvent) -> None:
            self.subscribe_bars(BTC, "1m")

    strategy = Late(StrategyConfig(strategy_id="late"))
    run(strategy, bars(100, 101, 102, 103))
    assert strategy.seen == 2  # bars 3 and 4


def test_a_bracket_whose_entry_fills_in_parts_while_its_exits_are_in_flight_grows_them() -> None:
    def bracket(s: Strategy[Any]) -> None:
        s.bracket(BTC, OrderSide.BUY, ONE, stop_loss=Decimal(90), take_profit=Decimal(110))

    thin = [
        Bar(BTC, "1m", *(Decimal(p),) * 4, Decimal("0.6"), i * MINUTE, i * MINUTE)
        for i, p in enumerate((100, 100, 101, 102, 103, 112, 113), start=1)
    ]
    e = engine(latency_ns=MINUTE + MINUTE // 2, btc=Decimal(2))
    e.add_strategy(Scripted(StrategyConfig(strategy_id="s"), {0: bracket}))
    result = e.run(thin)
    entry = [f.last_qty for f in result.fills if f.side is OrderSide.BUY]
    exits = [(f.last_qty, f.last_px) for f in result.fills if f.side is OrderSide.SELL]
    assert entry == [Decimal("0.6"), Decimal("0.4")]
    # The take-profit grew to the whole entry and fills at the opens that gap through it.
    assert exits == [(Decimal("0.6"), Decimal(112)), (Decimal("0.4"), Decimal(113))]


def test_a_list_with_one_denied_order_is_denied_whole_naming_that_order_as_risk_does() -> None:
    def bracket(s: Strategy[Any]) -> None:
        s.bracket(BTC, OrderSide.BUY, ONE, stop_loss=Decimal(90), take_profit=Decimal(110))

    strategy = Scripted(StrategyConfig(strategy_id="s"), {0: bracket})
    result = run(strategy, bars(100, 101))  # no BTC: the exits cannot be funded
    assert result.fills == []
    reasons = {e.reason for e in strategy.events if isinstance(e, OrderDenied)}
    assert reasons == {f"order s-{MINUTE}-2: needs 1 BTC, free 0 BTC"}
    assert len([e for e in strategy.events if isinstance(e, OrderDenied)]) == 3
