"""Bars aggregated from the real Tardis BTCUSDT trades equal an independent pandas computation."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from foxtrot.core.aggregation import EmptyBarPolicy, TimeBarAggregator, aggregator_for
from foxtrot.core.bar_spec import BarSpec
from foxtrot.core.data import Bar
from foxtrot.core.identifiers import InstrumentId

TRADES = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "trades"
    / "tardis_binance-futures_BTCUSDT_trades_2020-02-22.csv"
)
BTC = InstrumentId("BTCUSDT", "BINANCE-FUTURES")

pytestmark = pytest.mark.skipif(not TRADES.exists(), reason="shared/data is not beside the repo")


def _trades() -> list[tuple[Decimal, Decimal, int]]:
    with TRADES.open(newline="") as handle:
        return [
            (Decimal(r["price"]), Decimal(r["amount"]), int(r["timestamp"]) * 1_000)
            for r in csv.DictReader(handle)
        ]


def _frame() -> pd.DataFrame:
    df = pd.read_csv(TRADES)
    df.index = pd.to_datetime(df["timestamp"], unit="us", utc=True)
    df["notional"] = df["price"] * df["amount"]
    return df


def _aggregate(spec: str, empty: EmptyBarPolicy = EmptyBarPolicy.SKIP) -> list[Bar]:
    agg = aggregator_for(BTC, spec, empty)
    bars: list[Bar] = []
    trades = _trades()
    for price, size, ts in trades:
        bars += agg.on_trade(price, size, ts)
    if isinstance(agg, TimeBarAggregator):
        bars += agg.on_time(trades[-1][2] + BarSpec.parse(spec).interval_ns)
    return bars


def _assert_bars_equal(bars: list[Bar], expected: pd.DataFrame) -> None:
    assert len(bars) == len(expected)
    for bar, (_, row) in zip(bars, expected.iterrows(), strict=True):
        assert [float(bar.open), float(bar.high), float(bar.low), float(bar.close)] == [
            row["open"],
            row["high"],
            row["low"],
            row["close"],
        ]
        assert float(bar.volume) == pytest.approx(row["volume"], rel=1e-12)
        assert float(bar.vwap or 0) == pytest.approx(row["vwap"], rel=1e-12)
        assert bar.trade_count == row["count"]


@pytest.mark.parametrize(
    ("spec", "rule"), [("1s", "1s"), ("1m", "1min"), ("5m", "5min"), ("15m", "15min"), ("1h", "1h")]
)
def test_time_bars_equal_pandas_resample(spec: str, rule: str) -> None:
    df = _frame()
    grouped = df.resample(rule, label="left", closed="left")
    expected = grouped["price"].ohlc()
    expected["volume"] = grouped["amount"].sum()
    expected["count"] = grouped["price"].count()
    expected["vwap"] = grouped["notional"].sum() / expected["volume"]
    expected = expected[expected["count"] > 0]
    bars = _aggregate(spec)
    _assert_bars_equal(bars, expected)
    starts = [pd.Timestamp(b.ts_open, unit="ns", tz="UTC") for b in bars]
    assert starts == list(expected.index)


def test_carry_forward_fills_exactly_the_intervals_pandas_leaves_empty() -> None:
    df = _frame()
    counts = df.resample("1s", label="left", closed="left")["price"].count()
    closes = df.resample("1s", label="left", closed="left")["price"].last().ffill()
    bars = _aggregate("1s", EmptyBarPolicy.CARRY_FORWARD)
    assert len(bars) == len(counts)
    empty = [b for b in bars if b.trade_count == 0]
    assert len(empty) == int((counts == 0).sum()) > 0
    for bar, close in zip(bars, closes, strict=True):
        assert float(bar.close) == close


def test_tick_bars_equal_fixed_size_groups() -> None:
    df = _frame().reset_index(drop=True)
    full = len(df) // 100 * 100
    grouped = df.iloc[:full].groupby(df.index[:full] // 100)
    expected = pd.DataFrame(
        {
            "open": grouped["price"].first(),
            "high": grouped["price"].max(),
            "low": grouped["price"].min(),
            "close": grouped["price"].last(),
            "volume": grouped["amount"].sum(),
            "count": grouped["price"].count(),
        }
    )
    expected["vwap"] = grouped["notional"].sum() / expected["volume"]
    _assert_bars_equal(_aggregate("100t"), expected)


def test_volume_bars_equal_groups_cut_where_the_running_volume_reaches_the_threshold() -> None:
    df = _frame().reset_index(drop=True)
    group, running, ids = 0, 0.0, []
    for amount in df["amount"]:
        ids.append(group)
        running += amount
        if running >= 25 - 1e-9:  # whole trades: the crossing trade closes the bar
            group, running = group + 1, 0.0
    df["bar"] = ids
    df = df[df["bar"] < group]  # only finished bars
    grouped = df.groupby("bar")
    expected = pd.DataFrame(
        {
            "open": grouped["price"].first(),
            "high": grouped["price"].max(),
            "low": grouped["price"].min(),
            "close": grouped["price"].last(),
            "volume": grouped["amount"].sum(),
            "count": grouped["price"].count(),
        }
    )
    expected["vwap"] = grouped["notional"].sum() / expected["volume"]
    _assert_bars_equal(_aggregate("25v"), expected)
