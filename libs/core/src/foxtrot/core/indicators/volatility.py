"""Volatility: true range, ATR, normalised ATR, standard deviation, z-score.

Standard deviations come from anchored window sums (see
:mod:`foxtrot.core.indicators.rolling`): ``sum(d*d) - sum(d)**2 / n`` over deviations ``d``
from a recent input, not over the prices themselves, so the subtraction keeps its digits.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from foxtrot.core.indicators.base import (
    BarIndicator,
    CloseIndicator,
    FloatArray,
    Smoothing,
    as_series,
    check_period,
    nan_series,
)
from foxtrot.core.indicators.rolling import RollingSums, WindowSums, rolling_sums
from foxtrot.core.indicators.smoothing import make_average

__all__ = [
    "ATR",
    "NATR",
    "StandardDeviation",
    "TrueRange",
    "ZScore",
    "true_range_series",
    "window_deviation",
    "window_deviation_series",
]

Ddof = Literal[0, 1]


class TrueRange(BarIndicator):
    """True range: the bar's range stretched to the previous close; first value on bar 2."""

    __slots__ = ("_previous",)
    name = "true_range"

    def __init__(self) -> None:
        self.warmup = 2
        self.reset()

    def reset(self) -> None:
        self._previous: float | None = None
        self.count = 0
        self.value = None

    def update(self, high: float, low: float, close: float) -> None:
        self.count += 1
        previous = self._previous
        self._previous = close
        if previous is not None:
            self.value = max(high - low, abs(high - previous), abs(low - previous))

    def batch(self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike) -> FloatArray:
        """True range of each bar."""
        highs, lows, closes = as_series(high, low, close, names=self.inputs)
        return true_range_series(highs, lows, closes)


def true_range_series(highs: FloatArray, lows: FloatArray, closes: FloatArray) -> FloatArray:
    """True range of each bar but the first (NaN)."""
    out = nan_series(len(closes))
    if len(closes) > 1:
        previous = closes[:-1]
        high, low = highs[1:], lows[1:]
        out[1:] = np.maximum(
            np.maximum(high - low, np.abs(high - previous)), np.abs(low - previous)
        )
    return out


class ATR(BarIndicator):
    """Average true range: true range averaged as ``smoothing`` says (Wilder's, TA-Lib)."""

    __slots__ = ("_average", "_range", "period", "smoothing")
    name = "atr"

    def __init__(self, period: int = 14, *, smoothing: Smoothing = "wilder") -> None:
        self.period = check_period("period", period)
        self.smoothing = smoothing
        self.warmup = period + 1
        self._range = TrueRange()
        self._average = make_average(smoothing, period)
        self.reset()

    def reset(self) -> None:
        self._range.reset()
        self._average.reset()
        self.count = 0
        self.value = None

    def update(self, high: float, low: float, close: float) -> None:
        self.count += 1
        self._range.update(high, low, close)
        if self._range.value is not None:
            self.value = self._average.update(self._range.value)

    def batch(self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike) -> FloatArray:
        """ATR of each bar (Wilder and EMA averages loop in Python)."""
        highs, lows, closes = as_series(high, low, close, names=self.inputs)
        ranges = true_range_series(highs, lows, closes)
        out = nan_series(len(ranges))
        if len(ranges) > 1:
            out[1:] = self._average.series(ranges[1:])
        return out


class NATR(BarIndicator):
    """Normalised ATR: ATR as a percentage of the close (0 for a close of 0)."""

    __slots__ = ("_atr", "period")
    name = "natr"

    def __init__(self, period: int = 14, *, smoothing: Smoothing = "wilder") -> None:
        self._atr = ATR(period, smoothing=smoothing)
        self.period = period
        self.warmup = self._atr.warmup
        self.reset()

    def reset(self) -> None:
        self._atr.reset()
        self.count = 0
        self.value = None

    def update(self, high: float, low: float, close: float) -> None:
        self.count += 1
        self._atr.update(high, low, close)
        atr = self._atr.value
        if atr is not None:
            self.value = (atr / close) * 100.0 if close != 0.0 else 0.0

    def batch(self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike) -> FloatArray:
        """NATR of each bar."""
        highs, lows, closes = as_series(high, low, close, names=self.inputs)
        atr = self._atr.batch(highs, lows, closes)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(closes != 0.0, (atr / closes) * 100.0, 0.0)


def check_ddof(ddof: int) -> Ddof:
    """``ddof`` if it is 0 (population) or 1 (sample), else a ValueError."""
    if ddof not in (0, 1):
        raise ValueError(f"ddof must be 0 (population) or 1 (sample), was {ddof!r}")
    return 0 if ddof == 0 else 1


def window_deviation(sums: RollingSums, ddof: int) -> float:
    """Standard deviation of the window ``sums`` covers (0 where rounding makes it negative)."""
    n = sums.period
    total = sums.total
    variance = (sums.squares_total - total * total / n) / (n - ddof)
    return math.sqrt(variance) if variance > 0.0 else 0.0


def window_deviation_series(sums: WindowSums, period: int, ddof: int) -> FloatArray:
    """:func:`window_deviation` of each window of a batch."""
    variance = (sums.squares - sums.total * sums.total / period) / (period - ddof)
    return np.sqrt(np.maximum(variance, 0.0))


class StandardDeviation(CloseIndicator):
    """Standard deviation of the last ``period`` closes: population (``ddof=0``, TA-Lib's
    STDDEV) or sample (``ddof=1``, pandas' default)."""

    __slots__ = ("_sums", "ddof", "period")
    name = "standard_deviation"

    def __init__(self, period: int, *, ddof: int = 0) -> None:
        self.ddof = check_ddof(ddof)
        self.period = check_period("period", period, minimum=1 + self.ddof)
        self.warmup = period
        self._sums = RollingSums(period, anchored=True, squares=True)
        self.reset()

    def reset(self) -> None:
        self._sums.reset()
        self.count = 0
        self.value = None

    def update(self, close: float) -> None:
        self.count += 1
        if self._sums.update(close):
            self.value = window_deviation(self._sums, self.ddof)

    def batch(self, close: npt.ArrayLike) -> FloatArray:
        """Standard deviation of each window of closes."""
        (closes,) = as_series(close, names=("close",))
        sums = rolling_sums(closes, self.period, anchored=True, squares=True)
        return window_deviation_series(sums, self.period, self.ddof)


class ZScore(CloseIndicator):
    """Z-score: how many standard deviations the close is from the mean of the last
    ``period`` closes (itself included); 0 when they are all equal."""

    __slots__ = ("_sums", "ddof", "period")
    name = "z_score"

    def __init__(self, period: int, *, ddof: int = 0) -> None:
        self.ddof = check_ddof(ddof)
        self.period = check_period("period", period, minimum=2)
        self.warmup = period
        self._sums = RollingSums(period, anchored=True, squares=True)
        self.reset()

    def reset(self) -> None:
        self._sums.reset()
        self.count = 0
        self.value = None

    def update(self, close: float) -> None:
        self.count += 1
        sums = self._sums
        if sums.update(close):
            deviation = window_deviation(sums, self.ddof)
            mean = sums.anchor + sums.total / self.period
            self.value = (close - mean) / deviation if deviation != 0.0 else 0.0

    def batch(self, close: npt.ArrayLike) -> FloatArray:
        """Z-score of each close."""
        (closes,) = as_series(close, names=("close",))
        sums = rolling_sums(closes, self.period, anchored=True, squares=True)
        deviation = window_deviation_series(sums, self.period, self.ddof)
        mean = sums.anchor + sums.total / self.period
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(deviation != 0.0, (closes - mean) / deviation, 0.0)
