"""Bar aggregation rules (see foxtrot.core.aggregation), one behaviour per test."""

from __future__ import annotations

from decimal import Decimal

import pytest

from foxtrot.core.aggregation import (
    EmptyBarPolicy,
    ThresholdBarAggregator,
    TimeBarAggregator,
    aggregator_for,
)
from foxtrot.core.bar_spec import BarKind, BarSpec
from foxtrot.core.data import Bar
from foxtrot.core.identifiers import InstrumentId

BTC = InstrumentId("BTCUSDT", "BINANCE")
S = 1_000_000_000
MINUTE = 60 * S
T0 = 1_600_000_020 * S  # a minute boundary: 1_600_000_020 is divisible by 60


def D(text: str | int) -> Decimal:  # noqa: N802
    return Decimal(text)


def minute_bars(empty: EmptyBarPolicy = EmptyBarPolicy.CARRY_FORWARD) -> TimeBarAggregator:
    return TimeBarAggregator(BTC, BarSpec.parse("1m"), empty)


def ohlcv(bar: Bar) -> tuple[Decimal, ...]:
    return (bar.open, bar.high, bar.low, bar.close, bar.volume)


@pytest.mark.parametrize(
    ("text", "kind", "step"),
    [
        ("1s", BarKind.TIME, 1),
        ("90s", BarKind.TIME, 90),
        ("15m", BarKind.TIME, 15),
        ("4h", BarKind.TIME, 4),
        ("1d", BarKind.TIME, 1),
        ("100t", BarKind.TICK, 100),
        ("10v", BarKind.VOLUME, 10),
        ("1000000q", BarKind.VALUE, 1_000_000),
    ],
)
def test_bar_specs_parse(text: str, kind: BarKind, step: int) -> None:
    spec = BarSpec.parse(text)
    assert (spec.kind, spec.step, str(spec)) == (kind, step, text)


@pytest.mark.parametrize("text", ["0m", "m", "1w", "2d", "7m", "25h", "1.5m", "", "-1m"])
def test_bad_bar_specs_are_refused_with_what_is_allowed(text: str) -> None:
    with pytest.raises(ValueError, match=r"bar spec must be|must last 1s to 1d"):
        BarSpec.parse(text)


def test_a_time_bar_has_correct_ohlcv_vwap_count_and_times() -> None:
    agg = minute_bars()
    for price, size, dt in (("100", "1", 1), ("103", "2", 10), ("99", "1", 20), ("101", "4", 59)):
        assert agg.on_trade(D(price), D(size), T0 + dt * S) == []
    [bar] = agg.on_trade(D("105"), D("1"), T0 + MINUTE)
    assert ohlcv(bar) == (D(100), D(103), D(99), D(101), D(8))
    assert bar.vwap == (D(100) + D(206) + D(99) + D(404)) / D(8)
    assert (bar.trade_count, bar.ts_open, bar.ts_event, bar.spec) == (4, T0, T0 + MINUTE, "1m")


def test_a_time_bar_closes_on_time_without_a_further_trade() -> None:
    agg = minute_bars()
    agg.on_trade(D("100"), D("1"), T0 + 5 * S)
    assert agg.on_time(T0 + MINUTE - 1) == []
    [bar] = agg.on_time(T0 + MINUTE)
    assert (bar.close, bar.ts_event, bar.ts_init) == (D(100), T0 + MINUTE, T0 + MINUTE)


def test_empty_intervals_carry_the_last_close_forward_by_default() -> None:
    agg = minute_bars()
    agg.on_trade(D("100"), D("1"), T0 + S)
    bars = agg.on_time(T0 + 3 * MINUTE)
    assert [b.ts_event for b in bars] == [T0 + MINUTE, T0 + 2 * MINUTE, T0 + 3 * MINUTE]
    flat = bars[1]
    assert ohlcv(flat) == (D(100), D(100), D(100), D(100), D(0))
    assert (flat.vwap, flat.trade_count) == (None, 0)


def test_empty_intervals_can_be_skipped() -> None:
    agg = minute_bars(EmptyBarPolicy.SKIP)
    agg.on_trade(D("100"), D("1"), T0 + S)
    assert [b.ts_event for b in agg.on_time(T0 + 3 * MINUTE)] == [T0 + MINUTE]
    assert agg.on_trade(D("102"), D("1"), T0 + 5 * MINUTE + S) == []
    [bar] = agg.on_time(T0 + 6 * MINUTE)
    assert (bar.open, bar.ts_open, bar.ts_event) == (D(102), T0 + 5 * MINUTE, T0 + 6 * MINUTE)


def test_no_bar_is_emitted_before_the_first_input() -> None:
    assert minute_bars().on_time(T0 + 10 * MINUTE) == []


def test_late_input_for_a_closed_bar_is_counted_and_leaves_closed_bars_alone() -> None:
    agg = minute_bars()
    agg.on_trade(D("100"), D("1"), T0 + S)
    [closed] = agg.on_time(T0 + MINUTE)
    assert agg.on_trade(D("500"), D("9"), T0 + 30 * S) == []
    assert agg.late == 1
    [next_bar] = agg.on_trade(D("101"), D("1"), T0 + 2 * MINUTE)
    assert ohlcv(closed) == (D(100), D(100), D(100), D(100), D(1))
    assert ohlcv(next_bar) == (D(100), D(100), D(100), D(100), D(0))


def test_out_of_order_input_in_the_open_bar_orders_open_and_close_by_time() -> None:
    agg = minute_bars()
    agg.on_trade(D("101"), D("1"), T0 + 20 * S)
    agg.on_trade(D("100"), D("1"), T0 + 10 * S)  # earlier: becomes the open
    agg.on_trade(D("103"), D("1"), T0 + 50 * S)
    agg.on_trade(D("102"), D("1"), T0 + 40 * S)  # earlier than the close: not the close
    [bar] = agg.on_time(T0 + MINUTE)
    assert ohlcv(bar) == (D(100), D(103), D(100), D(103), D(4))
    assert agg.late == 0


def test_quotes_build_time_bars_from_mid_prices_without_volume() -> None:
    agg = minute_bars()
    agg.on_quote(D("99"), D("101"), T0 + S)
    agg.on_quote(D("101"), D("103"), T0 + 2 * S)
    [bar] = agg.on_time(T0 + MINUTE)
    assert ohlcv(bar) == (D(100), D(102), D(100), D(102), D(0))
    assert (bar.vwap, bar.trade_count) == (None, 2)


def test_tick_bars_close_on_the_nth_trade() -> None:
    agg = aggregator_for(BTC, "3t")
    assert agg.on_trade(D("10"), D("1"), 1) == []
    assert agg.on_trade(D("12"), D("1"), 2) == []
    [bar] = agg.on_trade(D("11"), D("2"), 3)
    assert ohlcv(bar) == (D(10), D(12), D(10), D(11), D(4))
    assert (bar.ts_open, bar.ts_event, bar.trade_count) == (1, 3, 3)
    assert agg.on_time(10**18) == []


def test_volume_bars_close_on_the_trade_that_reaches_the_threshold_whole() -> None:
    agg = aggregator_for(BTC, "5v")
    assert agg.on_trade(D("10"), D("3"), 1) == []
    [bar] = agg.on_trade(D("11"), D("4"), 2)  # 7 >= 5: the whole trade belongs here
    assert (bar.volume, bar.trade_count) == (D(7), 2)
    [bar] = agg.on_trade(D("12"), D("5"), 3)
    assert (bar.volume, bar.open) == (D(5), D(12))


def test_value_bars_close_on_notional() -> None:
    agg = aggregator_for(BTC, "1000q")
    assert agg.on_trade(D("100"), D("5"), 1) == []
    [bar] = agg.on_trade(D("100"), D("5"), 2)
    assert (bar.volume, bar.vwap) == (D(10), D(100))


def test_volume_bars_refuse_quotes() -> None:
    with pytest.raises(ValueError, match="need trades"):
        aggregator_for(BTC, "5v").on_quote(D("1"), D("2"), 1)


def test_threshold_aggregator_refuses_a_time_spec() -> None:
    with pytest.raises(ValueError, match="time bar"):
        ThresholdBarAggregator(BTC, BarSpec.parse("1m"))


def test_a_silence_longer_than_max_carry_is_not_filled_but_counted() -> None:
    agg = TimeBarAggregator(BTC, BarSpec.parse("1m"), max_carry=5)
    agg.on_trade(D("100"), D("1"), T0 + S)
    bars = agg.on_time(T0 + 3 * MINUTE)
    assert len(bars) == 3  # the real bar and two carried forward: within the limit
    assert agg.on_time(T0 + 100 * MINUTE) == []
    assert agg.gaps == 1
    # The interval in which the silence was noticed is carried; nothing before it.
    [bar] = agg.on_trade(D("101"), D("1"), T0 + 101 * MINUTE)
    assert (bar.trade_count, bar.close, bar.ts_event) == (0, D(100), T0 + 101 * MINUTE)
    [resumed] = agg.on_time(T0 + 102 * MINUTE)
    assert (resumed.open, resumed.ts_open) == (D(101), T0 + 101 * MINUTE)
