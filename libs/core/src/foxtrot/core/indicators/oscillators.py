"""Bounded oscillators: RSI, Stochastic, Stochastic RSI, Williams %R, CCI."""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

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
    starting_at,
)
from foxtrot.core.indicators.order_statistics import OrderedMultiset
from foxtrot.core.indicators.rolling import (
    RollingExtreme,
    RollingSums,
    rolling_max,
    rolling_min,
    rolling_sums,
)
from foxtrot.core.indicators.smoothing import SimpleAverage, make_average

__all__ = ["CCI", "RSI", "Stochastic", "StochasticRSI", "StochasticSeries", "WilliamsR"]


class RSI(CloseIndicator):
    """Relative strength index: 100 * average gain / (average gain + average loss).

    ``smoothing`` averages the close-to-close gains and losses: Wilder's recursion seeded
    with their mean over the first ``period`` changes (TA-Lib, the default), an EMA seeded
    the same way, or a simple moving average (Cutler's RSI). A window with neither gains nor
    losses gives 0, as in TA-Lib.
    """

    __slots__ = ("_gains", "_losses", "_previous", "period", "smoothing")
    name = "rsi"

    def __init__(self, period: int = 14, *, smoothing: Smoothing = "wilder") -> None:
        self.period = check_period("period", period)
        self.smoothing = smoothing
        self.warmup = period + 1
        self._gains = make_average(smoothing, period)
        self._losses = make_average(smoothing, period)
        self.reset()

    def reset(self) -> None:
        self._gains.reset()
        self._losses.reset()
        self._previous: float | None = None
        self.count = 0
        self.value = None

    def update(self, close: float) -> None:
        self.count += 1
        previous = self._previous
        self._previous = close
        if previous is None:
            return
        change = close - previous
        gain = self._gains.update(change if change > 0.0 else 0.0)
        loss = self._losses.update(-change if change < 0.0 else 0.0)
        if gain is None or loss is None:
            return
        both = gain + loss
        self.value = 100.0 * (gain / both) if both != 0.0 else 0.0

    def batch(self, close: npt.ArrayLike) -> FloatArray:
        """RSI of each close (Wilder and EMA averages loop in Python)."""
        (closes,) = as_series(close, names=("close",))
        out = nan_series(len(closes))
        if len(closes) < 2:
            return out
        changes = np.diff(closes)
        gain = self._gains.series(np.where(changes > 0.0, changes, 0.0))
        loss = self._losses.series(np.where(changes < 0.0, -changes, 0.0))
        both = gain + loss
        with np.errstate(divide="ignore", invalid="ignore"):
            out[1:] = np.where(both != 0.0, 100.0 * (gain / both), 0.0)
        return out


def _stochastic(latest: float, highest: float, lowest: float) -> float:
    """Where ``latest`` sits in [lowest, highest], in percent; 0 for an empty range (TA-Lib)."""
    spread = (highest - lowest) / 100.0
    return (latest - lowest) / spread if spread != 0.0 else 0.0


def _stochastic_series(latest: FloatArray, highest: FloatArray, lowest: FloatArray) -> FloatArray:
    spread = (highest - lowest) / 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(spread != 0.0, (latest - lowest) / spread, 0.0)


class StochasticSeries(NamedTuple):
    """Batch outputs of the stochastic oscillators."""

    k: FloatArray
    d: FloatArray


class Stochastic(BarIndicator):
    """Stochastic oscillator: %K is where the close sits in the ``k_period`` high-low range,
    averaged over ``k_slowing`` bars (1: the fast stochastic); %D is the SMA of %K over
    ``d_period``. TA-Lib's STOCH with SMA averages."""

    __slots__ = (
        "_d",
        "_highest",
        "_lowest",
        "_slow",
        "d",
        "d_period",
        "k",
        "k_period",
        "k_slowing",
    )
    name = "stochastic"
    outputs = ("k", "d")
    k: float | None
    d: float | None

    def __init__(self, k_period: int = 5, k_slowing: int = 3, d_period: int = 3) -> None:
        self.k_period = check_period("k_period", k_period)
        self.k_slowing = check_period("k_slowing", k_slowing)
        self.d_period = check_period("d_period", d_period)
        self.warmup = k_period + k_slowing + d_period - 2
        self._highest = RollingExtreme(k_period, highest=True)
        self._lowest = RollingExtreme(k_period, highest=False)
        self._slow = SimpleAverage(k_slowing)
        self._d = SimpleAverage(d_period)
        self.reset()

    def reset(self) -> None:
        self._highest.reset()
        self._lowest.reset()
        self._slow.reset()
        self._d.reset()
        self.count = 0
        self.value = self.k = self.d = None

    def update(self, high: float, low: float, close: float) -> None:
        self.count += 1
        self._highest.update(high)
        self._lowest.update(low)
        if self.count < self.k_period:
            return
        fast = _stochastic(close, self._highest.value, self._lowest.value)
        slow = self._slow.update(fast)
        if slow is None:
            return
        d = self._d.update(slow)
        if d is not None:
            self.value = self.k = slow
            self.d = d

    def batch(
        self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike
    ) -> StochasticSeries:
        """%K and %D of each bar."""
        highs, lows, closes = as_series(high, low, close, names=self.inputs)
        n = self.k_period
        fast = _stochastic_series(closes, rolling_max(highs, n), rolling_min(lows, n))
        slow = starting_at(fast, n - 1, self._slow.series)
        d = starting_at(slow, n + self.k_slowing - 2, self._d.series)
        slow[: self.warmup - 1] = np.nan
        return StochasticSeries(slow, d)


class StochasticRSI(CloseIndicator):
    """Stochastic oscillator of RSI: where RSI sits in its own ``k_period`` range, averaged
    over ``k_slowing`` (TA-Lib: 1; TradingView: 3), with %D the SMA of that over ``d_period``."""

    __slots__ = (
        "_d",
        "_highest",
        "_lowest",
        "_rsi",
        "_slow",
        "d",
        "d_period",
        "k",
        "k_period",
        "k_slowing",
        "rsi_period",
    )
    name = "stochastic_rsi"
    outputs = ("k", "d")
    k: float | None
    d: float | None

    def __init__(
        self,
        rsi_period: int = 14,
        k_period: int = 5,
        d_period: int = 3,
        *,
        k_slowing: int = 1,
        smoothing: Smoothing = "wilder",
    ) -> None:
        self._rsi = RSI(rsi_period, smoothing=smoothing)
        self.rsi_period = rsi_period
        self.k_period = check_period("k_period", k_period)
        self.k_slowing = check_period("k_slowing", k_slowing)
        self.d_period = check_period("d_period", d_period)
        self.warmup = rsi_period + k_period + k_slowing + d_period - 2
        self._highest = RollingExtreme(k_period, highest=True)
        self._lowest = RollingExtreme(k_period, highest=False)
        self._slow = SimpleAverage(k_slowing)
        self._d = SimpleAverage(d_period)
        self.reset()

    def reset(self) -> None:
        self._rsi.reset()
        self._highest.reset()
        self._lowest.reset()
        self._slow.reset()
        self._d.reset()
        self.count = 0
        self.value = self.k = self.d = None

    def update(self, close: float) -> None:
        self.count += 1
        self._rsi.update(close)
        rsi = self._rsi.value
        if rsi is None:
            return
        self._highest.update(rsi)
        self._lowest.update(rsi)
        if self.count < self.rsi_period + self.k_period:
            return
        slow = self._slow.update(_stochastic(rsi, self._highest.value, self._lowest.value))
        if slow is None:
            return
        d = self._d.update(slow)
        if d is not None:
            self.value = self.k = slow
            self.d = d

    def batch(self, close: npt.ArrayLike) -> StochasticSeries:
        """%K and %D of each close."""
        (closes,) = as_series(close, names=("close",))
        rsi = self._rsi.batch(closes)
        n = self.k_period
        start = self.rsi_period
        highest = starting_at(rsi, start, lambda values: rolling_max(values, n))
        lowest = starting_at(rsi, start, lambda values: rolling_min(values, n))
        fast = _stochastic_series(rsi, highest, lowest)
        slow = starting_at(fast, start + n - 1, self._slow.series)
        d = starting_at(slow, start + n + self.k_slowing - 2, self._d.series)
        slow[: self.warmup - 1] = np.nan
        return StochasticSeries(slow, d)


class WilliamsR(BarIndicator):
    """Williams %R: where the close sits below the ``period`` high, from 0 to -100."""

    __slots__ = ("_highest", "_lowest", "period")
    name = "williams_r"

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("period", period)
        self.warmup = period
        self._highest = RollingExtreme(period, highest=True)
        self._lowest = RollingExtreme(period, highest=False)
        self.reset()

    def reset(self) -> None:
        self._highest.reset()
        self._lowest.reset()
        self.count = 0
        self.value = None

    def update(self, high: float, low: float, close: float) -> None:
        self.count += 1
        self._highest.update(high)
        self._lowest.update(low)
        if self.count >= self.period:
            highest = self._highest.value
            spread = (highest - self._lowest.value) / -100.0
            self.value = (highest - close) / spread if spread != 0.0 else 0.0

    def batch(self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike) -> FloatArray:
        """%R of each bar."""
        highs, lows, closes = as_series(high, low, close, names=self.inputs)
        highest = rolling_max(highs, self.period)
        spread = (highest - rolling_min(lows, self.period)) / -100.0
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(spread != 0.0, (highest - closes) / spread, 0.0)


class CCI(BarIndicator):
    """Commodity channel index: (typical price - its SMA) / (0.015 * mean absolute deviation).

    The mean deviation around the window's own mean cannot be updated in O(1): it is taken
    from an order-statistics tree in O(log period) per bar, the one indicator here that is
    not O(1). 0 when the deviation or the distance from the mean is 0, as in TA-Lib.
    """

    __slots__ = ("_sorted", "_sums", "_window", "period")
    name = "cci"

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("period", period)
        self.warmup = period
        self._window: deque[float] = deque()
        self._sorted = OrderedMultiset()
        self._sums = RollingSums(period)
        self.reset()

    def reset(self) -> None:
        self._window.clear()
        self._sorted.clear()
        self._sums.reset()
        self.count = 0
        self.value = None

    def update(self, high: float, low: float, close: float) -> None:
        self.count += 1
        typical = (high + low + close) / 3.0
        window, ordered = self._window, self._sorted
        if len(window) == self.period:
            ordered.remove(window.popleft())
        window.append(typical)
        ordered.add(typical)
        if not self._sums.update(typical):
            return
        n = self.period
        mean = self._sums.total / n
        below, below_sum = ordered.below(mean)
        deviation = (ordered.total - below_sum - mean * (n - below)) + (mean * below - below_sum)
        distance = typical - mean
        if distance != 0.0 and deviation != 0.0:
            self.value = distance / (0.015 * (deviation / n))
        else:
            self.value = 0.0

    def batch(self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike) -> FloatArray:
        """CCI of each bar; the deviation sums in another order than the streaming form's
        tree, so the two agree to rounding (about 1e-12 relative), not bit for bit."""
        highs, lows, closes = as_series(high, low, close, names=self.inputs)
        n = self.period
        typical = (highs + lows + closes) / 3.0
        out = nan_series(len(typical))
        if len(typical) < n:
            return out
        mean = (rolling_sums(typical, n).total / n)[n - 1 :]
        deviation = np.zeros(len(mean))
        for lag in range(n):  # n vectorised passes: O(len) memory, unlike a window view
            deviation += np.abs(typical[lag : lag + len(mean)] - mean)
        distance = typical[n - 1 :] - mean
        with np.errstate(divide="ignore", invalid="ignore"):
            out[n - 1 :] = np.where(
                (distance != 0.0) & (deviation != 0.0),
                distance / (0.015 * (deviation / n)),
                0.0,
            )
        return out
