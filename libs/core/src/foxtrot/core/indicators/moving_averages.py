"""Moving averages of closes: SMA, EMA, WMA, DEMA, TEMA, HMA, KAMA."""

from __future__ import annotations

import math
from collections import deque

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
from foxtrot.core.indicators.rolling import RollingSums, rolling_sums
from foxtrot.core.indicators.smoothing import ExponentialAverage

__all__ = ["DEMA", "EMA", "HMA", "KAMA", "SMA", "TEMA", "WMA"]


class SMA(CloseIndicator):
    """Simple moving average: the mean of the last ``period`` closes."""

    __slots__ = ("_sums", "period")
    name = "sma"

    def __init__(self, period: int) -> None:
        self.period = check_period("period", period)
        self.warmup = period
        self._sums = RollingSums(period)
        self.reset()

    def reset(self) -> None:
        self._sums.reset()
        self.count = 0
        self.value = None

    def update(self, close: float) -> None:
        self.count += 1
        if self._sums.update(close):
            self.value = self._sums.total / self.period

    def batch(self, close: npt.ArrayLike) -> FloatArray:
        """SMA of each close."""
        (closes,) = as_series(close, names=("close",))
        return rolling_sums(closes, self.period).total / self.period


class EMA(CloseIndicator):
    """Exponential moving average, alpha = 2 / (period + 1); first value after ``period``
    closes, seeded with their mean (``seed="sma"``, TA-Lib) or the first close (``"first"``)."""

    __slots__ = ("_average", "period", "seed")
    name = "ema"

    def __init__(self, period: int, *, seed: Seed = "sma") -> None:
        self.period = check_period("period", period)
        self.seed = seed
        self.warmup = period
        self._average = ExponentialAverage(period, seed=seed)
        self.reset()

    def reset(self) -> None:
        self._average.reset()
        self.count = 0
        self.value = None

    def update(self, close: float) -> None:
        self.count += 1
        self.value = self._average.update(close)

    def batch(self, close: npt.ArrayLike) -> FloatArray:
        """EMA of each close (a Python loop: the recursion does not vectorise)."""
        (closes,) = as_series(close, names=("close",))
        return self._average.series(closes)


class WMA(CloseIndicator):
    """Linearly weighted moving average: weights 1 (oldest) to ``period`` (newest)."""

    __slots__ = ("_divisor", "_sums", "period")
    name = "wma"

    def __init__(self, period: int) -> None:
        self.period = check_period("period", period)
        self.warmup = period
        self._divisor = period * (period + 1) / 2
        self._sums = RollingSums(period, weighted=True)
        self.reset()

    def reset(self) -> None:
        self._sums.reset()
        self.count = 0
        self.value = None

    def update(self, close: float) -> None:
        self.count += 1
        if self._sums.update(close):
            self.value = self._sums.weighted_total / self._divisor

    def batch(self, close: npt.ArrayLike) -> FloatArray:
        """WMA of each close."""
        (closes,) = as_series(close, names=("close",))
        return rolling_sums(closes, self.period, weighted=True).weighted / self._divisor


class DEMA(CloseIndicator):
    """Double EMA: 2 * EMA(close) - EMA(EMA(close)); each EMA seeded as ``seed`` says."""

    __slots__ = ("_first", "_second", "period", "seed")
    name = "dema"

    def __init__(self, period: int, *, seed: Seed = "sma") -> None:
        self.period = check_period("period", period)
        self.seed = seed
        self.warmup = 2 * period - 1
        self._first = ExponentialAverage(period, seed=seed)
        self._second = ExponentialAverage(period, seed=seed)
        self.reset()

    def reset(self) -> None:
        self._first.reset()
        self._second.reset()
        self.count = 0
        self.value = None

    def update(self, close: float) -> None:
        self.count += 1
        first = self._first.update(close)
        if first is None:
            return
        second = self._second.update(first)
        if second is not None:
            self.value = 2.0 * first - second

    def batch(self, close: npt.ArrayLike) -> FloatArray:
        """DEMA of each close (EMAs loop in Python)."""
        (closes,) = as_series(close, names=("close",))
        first = self._first.series(closes)
        second = starting_at(first, self.period - 1, self._second.series)
        return 2.0 * first - second


class TEMA(CloseIndicator):
    """Triple EMA: 3 * EMA - 3 * EMA(EMA) + EMA(EMA(EMA)); each EMA seeded as ``seed`` says."""

    __slots__ = ("_first", "_second", "_third", "period", "seed")
    name = "tema"

    def __init__(self, period: int, *, seed: Seed = "sma") -> None:
        self.period = check_period("period", period)
        self.seed = seed
        self.warmup = 3 * period - 2
        self._first = ExponentialAverage(period, seed=seed)
        self._second = ExponentialAverage(period, seed=seed)
        self._third = ExponentialAverage(period, seed=seed)
        self.reset()

    def reset(self) -> None:
        self._first.reset()
        self._second.reset()
        self._third.reset()
        self.count = 0
        self.value = None

    def update(self, close: float) -> None:
        self.count += 1
        first = self._first.update(close)
        if first is None:
            return
        second = self._second.update(first)
        if second is None:
            return
        third = self._third.update(second)
        if third is not None:
            self.value = 3.0 * first - 3.0 * second + third

    def batch(self, close: npt.ArrayLike) -> FloatArray:
        """TEMA of each close (EMAs loop in Python)."""
        (closes,) = as_series(close, names=("close",))
        lag = self.period - 1
        first = self._first.series(closes)
        second = starting_at(first, lag, self._second.series)
        third = starting_at(second, 2 * lag, self._third.series)
        return 3.0 * first - 3.0 * second + third


class HMA(CloseIndicator):
    """Hull moving average: WMA over isqrt(period) of 2 * WMA(period // 2) - WMA(period)."""

    __slots__ = ("_full", "_half", "_smooth", "period")
    name = "hma"

    def __init__(self, period: int) -> None:
        self.period = check_period("period", period, minimum=2)
        self._half = WMA(period // 2)
        self._full = WMA(period)
        self._smooth = WMA(math.isqrt(period))
        self.warmup = period + self._smooth.period - 1
        self.reset()

    def reset(self) -> None:
        self._half.reset()
        self._full.reset()
        self._smooth.reset()
        self.count = 0
        self.value = None

    def update(self, close: float) -> None:
        self.count += 1
        self._half.update(close)
        self._full.update(close)
        half, full = self._half.value, self._full.value
        if half is None or full is None:
            return
        self._smooth.update(2.0 * half - full)
        self.value = self._smooth.value

    def batch(self, close: npt.ArrayLike) -> FloatArray:
        """HMA of each close."""
        (closes,) = as_series(close, names=("close",))
        raw = 2.0 * self._half.batch(closes) - self._full.batch(closes)
        return starting_at(raw, self.period - 1, self._smooth.batch)


class KAMA(CloseIndicator):
    """Kaufman's adaptive moving average.

    The efficiency ratio |close - close ``period`` ago| / (sum of |close-to-close changes|)
    sets the smoothing constant (ratio * (2/(fast+1) - 2/(slow+1)) + 2/(slow+1)) ** 2. As in
    TA-Lib it starts from the previous close, the first value comes after ``period + 1``
    closes, and a window with no movement counts as fully efficient (ratio 1).
    """

    __slots__ = ("_changes", "_closes", "_slowest", "_span", "fast", "period", "slow")
    name = "kama"

    def __init__(self, period: int = 10, *, fast: int = 2, slow: int = 30) -> None:
        self.period = check_period("period", period)
        self.fast = check_period("fast", fast)
        self.slow = check_period("slow", slow)
        if fast >= slow:
            raise ValueError(f"fast must be below slow ({slow}), was {fast}")
        self._slowest = 2.0 / (slow + 1.0)
        self._span = 2.0 / (fast + 1.0) - self._slowest
        self.warmup = period + 1
        self._closes: deque[float] = deque(maxlen=period + 1)
        self._changes = RollingSums(period)
        self.reset()

    def reset(self) -> None:
        self._closes.clear()
        self._changes.reset()
        self.count = 0
        self.value = None

    def update(self, close: float) -> None:
        self.count += 1
        closes = self._closes
        if not closes:
            closes.append(close)
            return
        ready = self._changes.update(abs(close - closes[-1]))
        closes.append(close)
        if not ready:
            return
        change = close - closes[0]
        volatility = self._changes.total
        moved = volatility > change and volatility != 0.0
        efficiency = abs(change / volatility) if moved else 1.0
        constant = efficiency * self._span + self._slowest
        constant = constant * constant
        previous = closes[-2] if self.value is None else self.value
        self.value = (close - previous) * constant + previous

    def batch(self, close: npt.ArrayLike) -> FloatArray:
        """KAMA of each close (ratios vectorised, the recursion loops in Python)."""
        (closes,) = as_series(close, names=("close",))
        n = self.period
        out = nan_series(len(closes))
        if len(closes) <= n:
            return out
        volatility = rolling_sums(np.abs(np.diff(closes)), n).total[n - 1 :]
        change = closes[n:] - closes[:-n]
        with np.errstate(divide="ignore", invalid="ignore"):
            efficiency = np.where(
                (volatility <= change) | (volatility == 0.0), 1.0, np.abs(change / volatility)
            )
        constants = efficiency * self._span + self._slowest
        constants = constants * constants
        xs: list[float] = closes[n:].tolist()
        kama = float(closes[n - 1])
        values = []
        for x, constant in zip(xs, constants.tolist(), strict=True):
            kama = (x - kama) * constant + kama
            values.append(kama)
        out[n:] = values
        return out
