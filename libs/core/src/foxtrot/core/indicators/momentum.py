"""Momentum of closes: MACD, rate of change, momentum, TRIX."""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from foxtrot.core.indicators.base import (
    CloseIndicator,
    FloatArray,
    Seed,
    as_series,
    check_period,
    nan_series,
    starting_at,
)
from foxtrot.core.indicators.smoothing import ExponentialAverage

__all__ = ["MACD", "ROC", "TRIX", "MACDSeries", "Momentum"]


class MACDSeries(NamedTuple):
    """Batch outputs of :class:`MACD`."""

    macd: FloatArray
    signal: FloatArray
    histogram: FloatArray


class MACD(CloseIndicator):
    """Moving average convergence/divergence: EMA(fast) - EMA(slow), its EMA(signal), and
    the difference of the two.

    With ``seed="sma"`` (TA-Lib) every EMA starts from the mean of its first inputs and the
    fast EMA skips the first ``slow - fast`` closes, so both EMAs start on the same bar, as
    TA-Lib's MACD aligns them; with ``seed="first"`` both start from the first close.
    """

    __slots__ = (
        "_delay",
        "_fast",
        "_signal",
        "_slow",
        "fast",
        "histogram",
        "macd",
        "seed",
        "signal",
        "signal_period",
        "slow",
    )
    name = "macd"
    outputs = ("macd", "signal", "histogram")
    macd: float | None
    signal: float | None
    histogram: float | None

    def __init__(
        self, fast: int = 12, slow: int = 26, signal: int = 9, *, seed: Seed = "sma"
    ) -> None:
        self.fast = check_period("fast", fast)
        self.slow = check_period("slow", slow, minimum=2)
        self.signal_period = check_period("signal", signal)
        if fast >= slow:
            raise ValueError(f"fast must be below slow ({slow}), was {fast}")
        self.seed = seed
        self.warmup = slow + signal - 1
        self._delay = slow - fast if seed == "sma" else 0
        self._fast = ExponentialAverage(fast, seed=seed)
        self._slow = ExponentialAverage(slow, seed=seed)
        self._signal = ExponentialAverage(signal, seed=seed)
        self.reset()

    def reset(self) -> None:
        self._fast.reset()
        self._slow.reset()
        self._signal.reset()
        self.count = 0
        self.value = self.macd = self.signal = self.histogram = None

    def update(self, close: float) -> None:
        self.count += 1
        fast = self._fast.update(close) if self.count > self._delay else None
        slow = self._slow.update(close)
        if fast is None or slow is None:
            return
        macd = fast - slow
        signal = self._signal.update(macd)
        if signal is not None:
            self.value = self.macd = macd
            self.signal = signal
            self.histogram = macd - signal

    def batch(self, close: npt.ArrayLike) -> MACDSeries:
        """MACD, signal and histogram of each close (EMAs loop in Python)."""
        (closes,) = as_series(close, names=("close",))
        fast = starting_at(closes, self._delay, self._fast.series)
        macd = fast - self._slow.series(closes)
        signal = starting_at(macd, self.slow - 1, self._signal.series)
        histogram = macd - signal
        macd[: self.warmup - 1] = np.nan
        return MACDSeries(macd, signal, histogram)


class ROC(CloseIndicator):
    """Rate of change: percent change of the close over ``period`` bars (0 from a close of 0)."""

    __slots__ = ("_closes", "period")
    name = "roc"

    def __init__(self, period: int = 10) -> None:
        self.period = check_period("period", period)
        self.warmup = period + 1
        self._closes: deque[float] = deque(maxlen=period + 1)
        self.reset()

    def reset(self) -> None:
        self._closes.clear()
        self.count = 0
        self.value = None

    def update(self, close: float) -> None:
        self.count += 1
        self._closes.append(close)
        if self.count > self.period:
            before = self._closes[0]
            self.value = (close / before - 1.0) * 100.0 if before != 0.0 else 0.0

    def batch(self, close: npt.ArrayLike) -> FloatArray:
        """ROC of each close."""
        (closes,) = as_series(close, names=("close",))
        return _rate_of_change(closes, self.period)


def _rate_of_change(values: FloatArray, period: int) -> FloatArray:
    out = nan_series(len(values))
    if len(values) > period:
        before, after = values[:-period], values[period:]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[period:] = np.where(before != 0.0, (after / before - 1.0) * 100.0, 0.0)
    return out


class Momentum(CloseIndicator):
    """Momentum: the close minus the close ``period`` bars before."""

    __slots__ = ("_closes", "period")
    name = "momentum"

    def __init__(self, period: int = 10) -> None:
        self.period = check_period("period", period)
        self.warmup = period + 1
        self._closes: deque[float] = deque(maxlen=period + 1)
        self.reset()

    def reset(self) -> None:
        self._closes.clear()
        self.count = 0
        self.value = None

    def update(self, close: float) -> None:
        self.count += 1
        self._closes.append(close)
        if self.count > self.period:
            self.value = close - self._closes[0]

    def batch(self, close: npt.ArrayLike) -> FloatArray:
        """Momentum of each close."""
        (closes,) = as_series(close, names=("close",))
        out = nan_series(len(closes))
        if len(closes) > self.period:
            out[self.period :] = closes[self.period :] - closes[: -self.period]
        return out


class TRIX(CloseIndicator):
    """TRIX: the one-bar rate of change, in percent, of a triple EMA of closes."""

    __slots__ = ("_emas", "_previous", "period", "seed")
    name = "trix"

    def __init__(self, period: int = 30, *, seed: Seed = "sma") -> None:
        self.period = check_period("period", period)
        self.seed = seed
        self.warmup = 3 * period - 1
        self._emas = tuple(ExponentialAverage(period, seed=seed) for _ in range(3))
        self.reset()

    def reset(self) -> None:
        for ema in self._emas:
            ema.reset()
        self._previous: float | None = None
        self.count = 0
        self.value = None

    def update(self, close: float) -> None:
        self.count += 1
        first, second, third = self._emas
        smoothed = first.update(close)
        if smoothed is not None:
            smoothed = second.update(smoothed)
        if smoothed is not None:
            smoothed = third.update(smoothed)
        if smoothed is None:
            return
        previous = self._previous
        self._previous = smoothed
        if previous is not None:
            self.value = (smoothed / previous - 1.0) * 100.0 if previous != 0.0 else 0.0

    def batch(self, close: npt.ArrayLike) -> FloatArray:
        """TRIX of each close (EMAs loop in Python)."""
        (closes,) = as_series(close, names=("close",))
        lag = self.period - 1
        smoothed = closes
        for stage, ema in enumerate(self._emas):
            smoothed = starting_at(smoothed, stage * lag, ema.series)
        return starting_at(smoothed, 3 * lag, lambda values: _rate_of_change(values, 1))
