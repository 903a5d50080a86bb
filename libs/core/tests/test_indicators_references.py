"""Indicators TA-Lib lacks, and conventions TA-Lib does not offer, against references written
here from the definitions (pandas, plain numpy, or TA-Lib building blocks), on real bars.

Tolerances: 1e-12 relative unless a test says otherwise; exact where both sides only take
maxima, minima and one division.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import talib
from numpy.lib.stride_tricks import sliding_window_view
from talib._ta_lib import MA_Type

from foxtrot.core.indicators import (
    ATR,
    DEMA,
    EMA,
    HMA,
    MACD,
    RSI,
    TEMA,
    VWAP,
    BollingerBands,
    DonchianChannels,
    Ichimoku,
    Indicator,
    KeltnerChannels,
    StandardDeviation,
    StochasticRSI,
    Supertrend,
    ZScore,
)

Columns = dict[str, npt.NDArray[Any]]
FloatArray = npt.NDArray[np.float64]
Stream = Callable[[Indicator, Columns], dict[str, FloatArray]]
DAY_NS = 86_400 * 1_000_000_000


def _assert_close(actual: FloatArray, expected: FloatArray, rtol: float = 1e-12) -> None:
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), "warm-up differs"
    np.testing.assert_allclose(actual, expected, rtol=rtol)


def _wma(values: FloatArray, period: int) -> FloatArray:
    """Weights 1 (oldest) .. period (newest), by convolution."""
    out = np.full(len(values), np.nan)
    weights = np.arange(period, 0, -1, dtype=np.float64)  # np.convolve flips the kernel
    out[period - 1 :] = np.convolve(values, weights)[period - 1 : len(values)] / weights.sum()
    return out


def _ewm(values: FloatArray, alpha: float, period: int) -> FloatArray:
    """pandas' recursive EWM started from the first value, hidden for ``period - 1``."""
    series = pd.Series(values).ewm(alpha=alpha, adjust=False, min_periods=period).mean()
    return np.asarray(series.to_numpy(), dtype=np.float64)


def _seeded(values: FloatArray, alpha: float, period: int) -> FloatArray:
    """pandas' recursive EWM seeded with the mean of the first ``period`` values."""
    out = np.full(len(values), np.nan)
    seeded = np.concatenate(([values[:period].mean()], values[period:]))
    out[period - 1 :] = pd.Series(seeded).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return out


def _after(
    values: FloatArray, start: int, compute: Callable[[FloatArray], FloatArray]
) -> FloatArray:
    out = np.full(len(values), np.nan)
    out[start:] = compute(values[start:])
    return out


@pytest.mark.parametrize("period", [9, 16, 25])
def test_hma_is_a_wma_of_twice_the_half_wma_less_the_full_wma(
    real_columns: Columns, stream: Stream, period: int
) -> None:
    close = real_columns["close"]
    raw = 2.0 * _wma(close, period // 2) - _wma(close, period)
    expected = _after(raw, period - 1, lambda v: _wma(v, math.isqrt(period)))
    _assert_close(stream(HMA(period), real_columns)["value"], expected)


def test_ema_family_seeded_with_the_first_close_matches_pandas_ewm(
    real_columns: Columns, stream: Stream
) -> None:
    close, n = real_columns["close"], 20
    alpha = 2.0 / (n + 1)
    first = _ewm(close, alpha, n)
    second = _after(first, n - 1, lambda v: _ewm(v, alpha, n))
    third = _after(second, 2 * (n - 1), lambda v: _ewm(v, alpha, n))
    _assert_close(stream(EMA(n, seed="first"), real_columns)["value"], first)
    _assert_close(stream(DEMA(n, seed="first"), real_columns)["value"], 2.0 * first - second)
    _assert_close(
        stream(TEMA(n, seed="first"), real_columns)["value"],
        3.0 * first - 3.0 * second + third,
        rtol=1e-11,  # three EWMs of a price, then a difference near the price
    )


def test_macd_seeded_with_the_first_close_starts_both_emas_on_bar_one(
    real_columns: Columns, stream: Stream
) -> None:
    close = real_columns["close"]
    fast = _ewm(close, 2.0 / 13, 12)
    macd = fast - _ewm(close, 2.0 / 27, 26)
    signal = _after(macd, 25, lambda v: _ewm(v, 2.0 / 10, 9))
    macd[: 26 + 9 - 2] = np.nan
    ours = stream(MACD(12, 26, 9, seed="first"), real_columns)
    # MACD is a difference of two EWMs of the price: compare on the price's scale.
    scale = np.nanmax(np.abs(close))
    np.testing.assert_allclose(ours["macd"], macd, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(ours["signal"], signal, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(ours["histogram"], macd - signal, rtol=0, atol=1e-12 * scale)


def _gains_and_losses(close: FloatArray) -> tuple[FloatArray, FloatArray]:
    change = np.diff(close)
    return np.clip(change, 0.0, None), np.clip(-change, 0.0, None)


@pytest.mark.parametrize("smoothing", ["ema", "sma"])
def test_rsi_with_ema_or_sma_averages_matches_pandas(
    real_columns: Columns, stream: Stream, smoothing: str
) -> None:
    n = 14
    gains, losses = _gains_and_losses(real_columns["close"])
    if smoothing == "ema":
        gain, loss = _seeded(gains, 2.0 / (n + 1), n), _seeded(losses, 2.0 / (n + 1), n)
    else:
        gain = pd.Series(gains).rolling(n).mean().to_numpy()
        loss = pd.Series(losses).rolling(n).mean().to_numpy()
    both = gain + loss
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100.0 * gain / both
    rsi[both == 0.0] = 0.0
    expected = np.concatenate(([np.nan], rsi))
    ours = stream(RSI(n, smoothing=smoothing), real_columns)["value"]  # type: ignore[arg-type]
    # pandas' rolling mean keeps a running sum: its residue where no gains is ~1e-13 of 100.
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("smoothing", ["ema", "sma"])
def test_atr_with_ema_or_sma_averages_matches_pandas(
    real_columns: Columns, stream: Stream, smoothing: str
) -> None:
    n = 14
    ranges = talib.TRANGE(real_columns["high"], real_columns["low"], real_columns["close"])[1:]
    if smoothing == "ema":
        average = _seeded(ranges, 2.0 / (n + 1), n)
    else:
        average = pd.Series(ranges).rolling(n).mean().to_numpy()
    expected = np.concatenate(([np.nan], average))
    ours = stream(ATR(n, smoothing=smoothing), real_columns)["value"]  # type: ignore[arg-type]
    _assert_close(ours, expected, rtol=1e-11)  # pandas' running sum, as above


@pytest.mark.parametrize(("ma", "period", "atr_period"), [("ema", 20, 10), ("sma", 20, 30)])
def test_keltner_channels_are_an_average_plus_minus_a_multiple_of_atr(
    real_columns: Columns, stream: Stream, ma: str, period: int, atr_period: int
) -> None:
    high, low, close = real_columns["high"], real_columns["low"], real_columns["close"]
    if ma == "ema":
        middle = talib.EMA(close, period)
    else:
        middle = pd.Series(close).rolling(period).mean().to_numpy().copy()
    width = 2.0 * talib.ATR(high, low, close, atr_period)
    warmup = max(period, atr_period + 1)
    middle[: warmup - 1] = np.nan
    ours = stream(KeltnerChannels(period, 2.0, atr_period, ma=ma), real_columns)  # type: ignore[arg-type]
    _assert_close(ours["middle"], middle)
    _assert_close(ours["upper"], middle + width)
    _assert_close(ours["lower"], middle - width)


@pytest.mark.parametrize("period", [1, 20, 55])
def test_donchian_channels_are_the_rolling_high_and_low(
    real_columns: Columns, stream: Stream, period: int
) -> None:
    upper = pd.Series(real_columns["high"]).rolling(period).max().to_numpy()
    lower = pd.Series(real_columns["low"]).rolling(period).min().to_numpy()
    ours = stream(DonchianChannels(period), real_columns)
    np.testing.assert_array_equal(ours["upper"], upper)
    np.testing.assert_array_equal(ours["lower"], lower)
    np.testing.assert_array_equal(ours["middle"], (upper + lower) / 2.0)


@pytest.mark.parametrize("anchor", ["day", "none"])
def test_vwap_is_the_volume_weighted_typical_price_since_the_anchor(
    real_columns: Columns, stream: Stream, anchor: str
) -> None:
    frame = pd.DataFrame(
        {
            "pv": (real_columns["high"] + real_columns["low"] + real_columns["close"])
            / 3.0
            * real_columns["volume"],
            "volume": real_columns["volume"],
            # ts_event is the close time: a bar closing at 00:00 belongs to the day before.
            "session": (real_columns["ts_event"] - 1) // DAY_NS if anchor == "day" else 0,
        }
    )
    sums = frame.groupby("session")[["pv", "volume"]].cumsum()
    expected = (sums["pv"] / sums["volume"]).to_numpy()
    ours = stream(VWAP(anchor=anchor), real_columns)["value"]  # type: ignore[arg-type]
    _assert_close(ours, expected)


def test_vwap_starts_a_new_session_at_each_utc_midnight(
    ftx_btc_perp_1m_columns: Columns, stream: Stream
) -> None:
    ts = ftx_btc_perp_1m_columns["ts_event"]
    close = ftx_btc_perp_1m_columns["close"]
    typical = (ftx_btc_perp_1m_columns["high"] + ftx_btc_perp_1m_columns["low"] + close) / 3.0
    ours = stream(VWAP(), ftx_btc_perp_1m_columns)["value"]
    first_bars = np.flatnonzero(np.diff((ts - 1) // DAY_NS)) + 1
    assert len(first_bars) >= 30  # a month of sessions
    np.testing.assert_allclose(ours[first_bars], typical[first_bars], rtol=1e-15)


@pytest.mark.parametrize("displacement", [26, 25, 0])
def test_ichimoku_lines_are_displaced_high_low_midpoints(
    real_columns: Columns, stream: Stream, displacement: int
) -> None:
    high, low = pd.Series(real_columns["high"]), pd.Series(real_columns["low"])

    def midpoint(period: int) -> pd.Series:
        return (high.rolling(period).max() + low.rolling(period).min()) / 2.0

    tenkan, kijun = midpoint(9), midpoint(26)
    expected = {
        "tenkan": tenkan,
        "kijun": kijun,
        "senkou_a": ((tenkan + kijun) / 2.0).shift(displacement),
        "senkou_b": midpoint(52).shift(displacement),
        "chikou": pd.Series(real_columns["close"]),
    }
    ours = stream(Ichimoku(9, 26, 52, displacement), real_columns)
    warmup = 52 + displacement
    for name, line in expected.items():
        reference = line.to_numpy().copy()
        reference[: warmup - 1] = np.nan
        np.testing.assert_array_equal(ours[name], reference, err_msg=name)


def _supertrend_reference(columns: Columns, period: int, multiplier: float) -> FloatArray:
    """The textbook rules, bar by bar, on TA-Lib's ATR."""
    high, low, close = columns["high"], columns["low"], columns["close"]
    atr = talib.ATR(high, low, close, period)
    hl2 = (high + low) / 2.0
    basic_upper, basic_lower = hl2 + multiplier * atr, hl2 - multiplier * atr
    line = np.full(len(close), np.nan)
    upper = lower = math.nan
    uptrend = True
    for i in range(period, len(close)):
        if i == period:
            upper, lower = basic_upper[i], basic_lower[i]
        else:
            upper = basic_upper[i] if basic_upper[i] < upper or close[i - 1] > upper else upper
            lower = basic_lower[i] if basic_lower[i] > lower or close[i - 1] < lower else lower
            if uptrend and close[i] < lower:
                uptrend = False
            elif not uptrend and close[i] > upper:
                uptrend = True
        line[i] = lower if uptrend else upper
    return line


@pytest.mark.parametrize(("period", "multiplier"), [(10, 3.0), (7, 2.0)])
def test_supertrend_follows_the_textbook_band_rules(
    real_columns: Columns, stream: Stream, period: int, multiplier: float
) -> None:
    ours = stream(Supertrend(period, multiplier), real_columns)
    expected = _supertrend_reference(real_columns, period, multiplier)
    _assert_close(ours["value"], expected)
    flips = np.count_nonzero(np.diff(ours["direction"][period:]))
    assert flips > 10, "the real data should make the trend turn"


def _two_pass(values: FloatArray, period: int, ddof: int) -> tuple[FloatArray, FloatArray]:
    """Mean and standard deviation of each window, the slow accurate way."""
    windows = sliding_window_view(values, period)
    mean, deviation = np.full(len(values), np.nan), np.full(len(values), np.nan)
    mean[period - 1 :] = windows.mean(axis=1)
    deviation[period - 1 :] = windows.std(axis=1, ddof=ddof)
    return mean, deviation


@pytest.mark.parametrize(("period", "ddof"), [(5, 0), (20, 0), (20, 1), (200, 1)])
def test_standard_deviation_bollinger_and_z_score_match_a_two_pass_reference(
    real_columns: Columns, stream: Stream, period: int, ddof: int
) -> None:
    close = real_columns["close"]
    mean, deviation = _two_pass(close, period, ddof)
    # Both keep ~13 significant digits of the deviation (TA-Lib's STDDEV is off by 1e-10
    # here); the z-score divides by deviations as small as a tick, hence absolute bounds.
    ours = stream(StandardDeviation(period, ddof=ddof), real_columns)["value"]
    np.testing.assert_allclose(ours, deviation, rtol=1e-12, atol=1e-11)
    bands = stream(BollingerBands(period, 2.0, ddof=ddof), real_columns)
    np.testing.assert_allclose(bands["middle"], mean, rtol=1e-12)
    np.testing.assert_allclose(bands["upper"], mean + 2.0 * deviation, rtol=1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (close - mean) / deviation
    z[deviation == 0.0] = 0.0
    np.testing.assert_allclose(
        stream(ZScore(period, ddof=ddof), real_columns)["value"], z, rtol=1e-12, atol=1e-11
    )


def test_stochastic_rsi_with_slowing_is_talib_stoch_of_rsi(
    real_columns: Columns, stream: Stream
) -> None:
    rsi = talib.RSI(real_columns["close"], 14)
    k, d = talib.STOCH(rsi, rsi, rsi, 14, 3, MA_Type.SMA, 3, MA_Type.SMA)
    ours = stream(StochasticRSI(14, 14, 3, k_slowing=3), real_columns)
    for name, expected in (("k", k), ("d", d)):
        assert np.array_equal(np.isnan(ours[name]), np.isnan(expected)), name
        np.testing.assert_allclose(ours[name], expected, rtol=1e-12, atol=1e-10, err_msg=name)
