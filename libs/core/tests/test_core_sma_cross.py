"""SmaCross: its signals on real BTC-PERP bars, one order at a time, replayable ids."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from foxtrot.core.data import Bar
from foxtrot.core.enums import OrderSide, OrderType
from foxtrot.core.identifiers import AccountId, InstrumentId, StrategyId
from foxtrot.core.strategies.sma_cross import SmaCross, SmaCrossConfig

BTC_PERP = InstrumentId("BTC-PERP", "FTX")
SIZE = Decimal("0.01")
Signal = tuple[int, OrderSide, Decimal]


def config(fast: int = 10, slow: int = 30, size: Decimal = SIZE) -> SmaCrossConfig:
    return SmaCrossConfig(StrategyId("sma"), AccountId("acc"), BTC_PERP, "1m", fast, slow, size)


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


def run_with_instant_fills(strategy: SmaCross, bars: list[Bar]) -> list[Signal]:
    signals: list[Signal] = []
    for bar in bars:
        spec = strategy.on_bar(bar)
        if spec is None:
            continue
        assert spec.order_type is OrderType.MARKET
        signals.append((bar.ts_event, spec.side, spec.quantity))
        strategy.on_fill(spec.side, spec.quantity)
        strategy.on_order_closed(spec.client_order_id)
    return signals


@pytest.mark.parametrize(("fast", "slow"), [(10, 30), (5, 20), (12, 13)])
def test_signals_on_real_bars_match_an_independent_crossover_computation(
    ftx_btc_perp_1m_bars: list[Bar], fast: int, slow: int
) -> None:
    bars = ftx_btc_perp_1m_bars
    expected = expected_signals(
        [b.close for b in bars], [b.ts_event for b in bars], fast, slow, SIZE
    )
    actual = run_with_instant_fills(SmaCross(config(fast, slow)), bars)
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
    signals = run_with_instant_fills(SmaCross(config(2, 3)), bars)
    assert signals == [
        (bars[4].ts_event, OrderSide.BUY, SIZE),
        (bars[6].ts_event, OrderSide.SELL, SIZE),
    ]


def test_relation_on_the_first_initialized_bar_is_not_a_cross() -> None:
    # Rising prices: fast is above slow from the first bar both exist, and stays above.
    assert run_with_instant_fills(SmaCross(config(2, 3)), synthetic_bars(1, 2, 3, 4, 5, 6)) == []


def test_no_order_is_asked_for_while_one_is_pending() -> None:
    strategy = SmaCross(config(2, 3))
    bars = synthetic_bars(*CROSS_UP_THEN_DOWN)
    orders = [strategy.on_bar(b) for b in bars[:5]]
    buy = orders[4]
    assert buy is not None
    assert strategy.pending == buy.client_order_id
    strategy.on_fill(OrderSide.BUY, SIZE)  # filled, but the order has not closed yet
    assert strategy.on_bar(bars[5]) is None
    assert strategy.on_bar(bars[6]) is None  # the cross down is skipped while pending
    strategy.on_order_closed("some-other-order")
    assert strategy.pending == buy.client_order_id
    strategy.on_order_closed(buy.client_order_id)
    assert strategy.pending is None


def test_denied_order_leaves_the_position_flat_so_the_next_cross_up_buys_again() -> None:
    strategy = SmaCross(config(2, 3))
    bars = synthetic_bars(*CROSS_UP_THEN_DOWN, 20, 30)
    first = [o for o in map(strategy.on_bar, bars[:5]) if o is not None]
    assert len(first) == 1
    strategy.on_order_closed(first[0].client_order_id)  # denied: no fill
    later = [o for o in map(strategy.on_bar, bars[5:]) if o is not None]
    assert [(o.side, o.quantity) for o in later] == [(OrderSide.BUY, SIZE)]
    assert strategy.position == 0


def test_sell_closes_the_whole_position() -> None:
    strategy = SmaCross(config(2, 3))
    bars = synthetic_bars(*CROSS_UP_THEN_DOWN)
    buy = next(o for o in map(strategy.on_bar, bars[:5]) if o is not None)
    strategy.on_fill(OrderSide.BUY, Decimal("0.007"))  # partially filled, then done
    strategy.on_order_closed(buy.client_order_id)
    assert strategy.on_bar(bars[5]) is None
    sell = strategy.on_bar(bars[6])
    assert sell is not None
    assert (sell.side, sell.quantity) == (OrderSide.SELL, Decimal("0.007"))


def test_client_order_ids_derive_from_the_bar_time_so_replays_ask_the_same() -> None:
    bars = synthetic_bars(*CROSS_UP_THEN_DOWN)
    specs = []
    for _ in range(2):
        strategy = SmaCross(config(2, 3))
        specs.append([s for s in map(strategy.on_bar, bars) if s is not None])
    assert specs[0][0].client_order_id == f"sma-{bars[4].ts_event}"
    assert specs[0] == specs[1]


def test_orders_carry_the_configured_ids() -> None:
    strategy = SmaCross(config(2, 3))
    spec = next(s for s in map(strategy.on_bar, synthetic_bars(*CROSS_UP_THEN_DOWN)) if s)
    assert (spec.strategy_id, spec.account_id, spec.instrument_id) == ("sma", "acc", BTC_PERP)


def test_bars_of_another_spec_or_instrument_are_ignored() -> None:
    strategy = SmaCross(config(2, 3))
    for b in synthetic_bars(*CROSS_UP_THEN_DOWN[:4]):
        strategy.on_bar(b)
    before = (strategy.fast.value, strategy.slow.value)
    other_spec = synthetic_bars(1000, spec="5m")[0]
    price = Decimal(1000)
    other_instrument = Bar(
        InstrumentId("ETH-PERP", "FTX"), "1m", price, price, price, price, Decimal(1), 1, 1
    )
    assert strategy.on_bar(other_spec) is None
    assert strategy.on_bar(other_instrument) is None
    assert (strategy.fast.value, strategy.slow.value) == before


@pytest.mark.parametrize(
    ("fast", "slow", "size", "message"),
    [
        (30, 10, SIZE, "need 0 < fast_period < slow_period, was 30/10"),
        (10, 10, SIZE, "was 10/10"),
        (0, 10, SIZE, "was 0/10"),
        (2, 3, Decimal(0), "trade_size must be positive, was 0"),
        (2, 3, Decimal("-0.1"), "trade_size must be positive, was -0.1"),
    ],
)
def test_inconsistent_config_is_refused(fast: int, slow: int, size: Decimal, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config(fast, slow, size)
