"""SmaCross: its signals on real BTC-PERP bars, one order at a time, replayable ids."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from foxtrot.core.commands import SubmitOrder
from foxtrot.core.data import Bar
from foxtrot.core.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from foxtrot.core.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderFilled,
    OrderSubmitted,
)
from foxtrot.core.identifiers import InstrumentId, TradeId, VenueOrderId
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.strategies.sma_cross import SmaCross, SmaCrossConfig
from foxtrot.core.strategy import StrategyRuntime

BTC_PERP = InstrumentId("BTC-PERP", "FTX")
SIZE = Decimal("0.01")
Signal = tuple[int, OrderSide, Decimal]


def config(fast: int = 10, slow: int = 30, size: Decimal = SIZE) -> SmaCrossConfig:
    return SmaCrossConfig(
        strategy_id="sma",
        account_id="acc",
        instrument_id=str(BTC_PERP),
        fast_period=fast,
        slow_period=slow,
        trade_size=size,
    )


class Harness:
    """Hosts an SmaCross in a runtime and plays its venue by hand."""

    def __init__(self, cfg: SmaCrossConfig) -> None:
        self.strategy = SmaCross(cfg)
        self.runtime = StrategyRuntime(self.strategy)
        self.runtime.start()

    def bar(self, bar: Bar) -> OrderSpec | None:
        """Show a bar; the order it asked for, if any (at most one)."""
        self.runtime.on_bar(bar)
        commands = self.runtime.drain()
        assert len(commands) <= 1
        if not commands:
            return None
        assert isinstance(commands[0], SubmitOrder)
        return commands[0].spec

    def fill(self, spec: OrderSpec, quantity: Decimal | None = None, ts: int = 0) -> None:
        """The order was sent, accepted and (partly) filled."""
        fields = spec.event_fields(ts)
        self.runtime.on_order_event(OrderSubmitted(**fields))
        self.runtime.on_order_event(OrderAccepted(**fields, venue_order_id=VenueOrderId("V")))
        self.runtime.on_order_event(
            OrderFilled(
                **fields,
                venue_order_id=VenueOrderId("V"),
                trade_id=TradeId(f"T-{spec.client_order_id}"),
                side=spec.side,
                last_qty=quantity if quantity is not None else spec.quantity,
                last_px=Decimal(100),
                commission=Decimal(0),
                commission_currency="USD",
                liquidity_side=LiquiditySide.TAKER,
            )
        )

    def end(self, spec: OrderSpec, ts: int = 0) -> None:
        """The rest of the order was canceled (or it was denied before that)."""
        order = self.runtime.orders[spec.client_order_id]
        if order.status is OrderStatus.INITIALIZED:
            self.runtime.on_order_event(
                OrderDenied(**spec.event_fields(ts), reason_code="X", reason="denied")
            )
        else:
            self.runtime.on_order_event(OrderCanceled(**spec.event_fields(ts)))


def expected_signals(
    closes: list[Decimal], times: list[int], fast: int, slow: int, size: Decimal
) -> list[Signal]:
    """Long-or-flat crossovers, worked out with exact fractions over plain lists.

    A bar where fast == slow changes nothing; the relation seen on the first bar where both
    averages exist (and differ) is only the starting point, not a cross.
    """
    prefix = [Fraction(0)]
    for close in closes:
        prefix.append(prefix[-1] + Fraction(close))
    signals: list[Signal] = []
    was_above: bool | None = None
    position = Decimal(0)
    for i in range(slow - 1, len(closes)):
        fast_mean = (prefix[i + 1] - prefix[i + 1 - fast]) / fast
        slow_mean = (prefix[i + 1] - prefix[i + 1 - slow]) / slow
        if fast_mean == slow_mean:
            continue
        above = fast_mean > slow_mean
        crossed = was_above is not None and above != was_above
        was_above = above
        if crossed and above and position == 0:
            signals.append((times[i], OrderSide.BUY, size))
            position += size
        elif crossed and not above and position > 0:
            signals.append((times[i], OrderSide.SELL, position))
            position = Decimal(0)
    return signals


def run_with_instant_fills(harness: Harness, bars: list[Bar]) -> list[Signal]:
    signals: list[Signal] = []
    for bar in bars:
        spec = harness.bar(bar)
        if spec is None:
            continue
        assert spec.order_type is OrderType.MARKET
        signals.append((bar.ts_event, spec.side, spec.quantity))
        harness.fill(spec)
    return signals


@pytest.mark.parametrize(("fast", "slow"), [(10, 30), (5, 20), (12, 13)])
def test_signals_on_real_bars_match_an_independent_crossover_computation(
    ftx_btc_perp_1m_bars: list[Bar], fast: int, slow: int
) -> None:
    bars = ftx_btc_perp_1m_bars
    expected = expected_signals(
        [b.close for b in bars], [b.ts_event for b in bars], fast, slow, SIZE
    )
    actual = run_with_instant_fills(Harness(config(fast, slow)), bars)
    assert len(expected) > 100  # the comparison is not vacuous
    assert actual == expected


def synthetic_bars(*closes: int, spec: str = "1m") -> list[Bar]:
    return [
        Bar(
            BTC_PERP,
            spec,
            Decimal(c),
            Decimal(c),
            Decimal(c),
            Decimal(c),
            Decimal(1),
            (i + 1) * 60_000_000_000,
            (i + 1) * 60_000_000_000,
        )
        for i, c in enumerate(closes)
    ]


# fast=2, slow=3. Index: fast / slow -> relation
#   2: 8.5  / 9     below (first relation: not a cross)
#   3: 8.5  / 8.67  below
#   4: 10.5 / 9.67  above -> cross up: BUY
#   5: 9    / 9     equal -> state unchanged (still "above")
#   6: 5.5  / 7.67  below -> cross down: SELL (on bar 6, not bar 5)
CROSS_UP_THEN_DOWN = (10, 9, 8, 9, 12, 6, 5)


def test_equal_averages_leave_the_state_so_the_cross_down_comes_on_the_next_bar() -> None:
    bars = synthetic_bars(*CROSS_UP_THEN_DOWN)
    signals = run_with_instant_fills(Harness(config(2, 3)), bars)
    assert signals == [
        (bars[4].ts_event, OrderSide.BUY, SIZE),
        (bars[6].ts_event, OrderSide.SELL, SIZE),
    ]


def test_relation_on_the_first_initialized_bar_is_not_a_cross() -> None:
    # Rising prices: fast is above slow from the first bar both exist, and stays above.
    assert run_with_instant_fills(Harness(config(2, 3)), synthetic_bars(1, 2, 3, 4, 5, 6)) == []


def test_no_order_is_asked_for_while_one_is_open() -> None:
    h = Harness(config(2, 3))
    bars = synthetic_bars(*CROSS_UP_THEN_DOWN)
    orders = [h.bar(b) for b in bars[:5]]
    buy = orders[4]
    assert buy is not None
    h.fill(buy, Decimal("0.004"))  # partly filled: the order is still open
    assert h.bar(bars[5]) is None
    assert h.bar(bars[6]) is None  # the cross down is skipped while the buy is open
    assert [o.client_order_id for o in h.strategy.orders_open(BTC_PERP)] == [buy.client_order_id]


def test_denied_order_leaves_the_position_flat_so_the_next_cross_up_buys_again() -> None:
    h = Harness(config(2, 3))
    bars = synthetic_bars(*CROSS_UP_THEN_DOWN, 20, 30)
    first = [o for o in map(h.bar, bars[:5]) if o is not None]
    assert len(first) == 1
    h.end(first[0])  # denied: no fill
    later = [o for o in map(h.bar, bars[5:]) if o is not None]
    assert [(o.side, o.quantity) for o in later] == [(OrderSide.BUY, SIZE)]
    assert h.strategy.net_position(BTC_PERP) == 0


def test_sell_closes_the_whole_position() -> None:
    h = Harness(config(2, 3))
    bars = synthetic_bars(*CROSS_UP_THEN_DOWN)
    buy = next(o for o in map(h.bar, bars[:5]) if o is not None)
    h.fill(buy, Decimal("0.007"))  # partially filled, then the rest canceled
    h.end(buy)
    assert h.bar(bars[5]) is None
    sell = h.bar(bars[6])
    assert sell is not None
    assert (sell.side, sell.quantity) == (OrderSide.SELL, Decimal("0.007"))


def test_client_order_ids_derive_from_the_bar_time_so_replays_ask_the_same() -> None:
    bars = synthetic_bars(*CROSS_UP_THEN_DOWN)
    specs = []
    for _ in range(2):
        h = Harness(config(2, 3))
        specs.append([s for s in map(h.bar, bars) if s is not None])
    assert specs[0][0].client_order_id == f"sma-{bars[4].ts_event}-1"
    assert specs[0] == specs[1]


def test_orders_carry_the_configured_ids() -> None:
    h = Harness(config(2, 3))
    spec = next(s for s in map(h.bar, synthetic_bars(*CROSS_UP_THEN_DOWN)) if s)
    assert (spec.strategy_id, spec.account_id, spec.instrument_id) == ("sma", "acc", BTC_PERP)


def test_bars_of_another_spec_or_instrument_are_not_shown_to_it() -> None:
    h = Harness(config(2, 3))
    for b in synthetic_bars(*CROSS_UP_THEN_DOWN[:4]):
        h.bar(b)
    before = (h.strategy.fast.value, h.strategy.slow.value)
    other_spec = synthetic_bars(1000, spec="5m")[0]
    price = Decimal(1000)
    other_instrument = Bar(
        InstrumentId("ETH-PERP", "FTX"), "1m", price, price, price, price, Decimal(1), 1, 1
    )
    assert h.bar(other_spec) is None
    assert h.bar(other_instrument) is None
    assert (h.strategy.fast.value, h.strategy.slow.value) == before


def test_saved_state_resumes_the_averages_after_a_restart() -> None:
    bars = synthetic_bars(*CROSS_UP_THEN_DOWN)
    whole = Harness(config(2, 3))
    expected = [whole.bar(b) for b in bars]
    first = Harness(config(2, 3))
    asked = [first.bar(b) for b in bars[:3]]
    state = first.runtime.save()
    second = Harness.__new__(Harness)
    second.strategy = SmaCross(config(2, 3))
    second.runtime = StrategyRuntime(second.strategy)
    second.runtime.load(state)
    second.runtime.start()
    asked += [second.bar(b) for b in bars[3:]]
    assert asked == expected


@pytest.mark.parametrize(
    ("fast", "slow", "size", "message"),
    [
        (30, 10, SIZE, "need fast_period < slow_period, was 30/10"),
        (10, 10, SIZE, "was 10/10"),
        (0, 10, SIZE, "fast_period"),
        (2, 3, Decimal(0), "trade_size"),
        (2, 3, Decimal("-0.1"), "trade_size"),
    ],
)
def test_inconsistent_config_is_refused(fast: int, slow: int, size: Decimal, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config(fast, slow, size)
