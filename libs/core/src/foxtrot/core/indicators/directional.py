"""Trend direction and strength: DMI (+DI, -DI, DX), ADX, Aroon."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from foxtrot.core.indicators.base import (
    BarIndicator,
    FloatArray,
    HighLowIndicator,
    Smoothing,
    as_series,
    check_choice,
    check_period,
    nan_series,
)
from foxtrot.core.indicators.rolling import (
    RollingExtreme,
    rolling_age_of_max,
    rolling_age_of_min,
)
from foxtrot.core.indicators.smoothing import (
    SMOOTHINGS,
    Average,
    WilderAverage,
    WilderSum,
    make_average,
)
from foxtrot.core.indicators.volatility import true_range_series

__all__ = ["ADX", "DMI", "ADXSeries", "Aroon", "AroonSeries", "DMISeries"]


class DMISeries(NamedTuple):
    """Batch outputs of :class:`DMI`."""

    dx: FloatArray
    plus_di: FloatArray
    minus_di: FloatArray


class DMI(BarIndicator):
    """Directional movement: +DI and -DI (smoothed +DM and -DM over smoothed true range, in
    percent) and DX = 100 * |+DI - -DI| / (+DI + -DI).

    ``smoothing="wilder"`` is TA-Lib's: running sums seeded with the plain sum of the first
    ``period - 1`` values, then ``sum - sum / period + x``; ``"ema"`` and ``"sma"`` average
    the first ``period`` values instead. DX keeps its last value (0 at first) on bars where
    it is undefined (no true range or no directional movement), as TA-Lib's DX does.
    """

    __slots__ = (
        "_minus",
        "_plus",
        "_previous",
        "_range",
        "defined",
        "dx",
        "minus_di",
        "period",
        "plus_di",
        "smoothing",
    )
    name = "dmi"
    outputs = ("dx", "plus_di", "minus_di")
    dx: float | None
    plus_di: float | None
    minus_di: float | None

    def __init__(self, period: int = 14, *, smoothing: Smoothing = "wilder") -> None:
        self.period = check_period("period", period, minimum=2)
        check_choice("smoothing", smoothing, SMOOTHINGS)
        self.smoothing = smoothing
        self.warmup = period + 1
        self._plus = _directional_average(smoothing, period)
        self._minus = _directional_average(smoothing, period)
        self._range = _directional_average(smoothing, period)
        self.reset()

    def reset(self) -> None:
        self._plus.reset()
        self._minus.reset()
        self._range.reset()
        self._previous: tuple[float, float, float] | None = None
        #: Whether this bar's DX was defined (rather than carried over from the bar before).
        self.defined = False
        self.count = 0
        self.value = self.dx = self.plus_di = self.minus_di = None

    def update(self, high: float, low: float, close: float) -> None:
        self.count += 1
        previous = self._previous
        self._previous = (high, low, close)
        if previous is None:
            return
        previous_high, previous_low, previous_close = previous
        up = high - previous_high
        down = previous_low - low
        true_range = max(high - low, abs(high - previous_close), abs(low - previous_close))
        plus = self._plus.update(up if up > 0.0 and up > down else 0.0)
        minus = self._minus.update(down if down > 0.0 and down > up else 0.0)
        smoothed_range = self._range.update(true_range)
        if plus is None or minus is None or smoothed_range is None:
            return
        if smoothed_range != 0.0:
            plus_di = 100.0 * (plus / smoothed_range)
            minus_di = 100.0 * (minus / smoothed_range)
        else:
            plus_di = minus_di = 0.0
        both = minus_di + plus_di
        self.defined = smoothed_range != 0.0 and both != 0.0
        if self.defined:
            self.value = self.dx = 100.0 * (abs(minus_di - plus_di) / both)
        elif self.dx is None:
            self.value = self.dx = 0.0
        self.plus_di, self.minus_di = plus_di, minus_di

    def batch(self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike) -> DMISeries:
        """DX, +DI and -DI of each bar (the averages loop in Python)."""
        highs, lows, closes = as_series(high, low, close, names=self.inputs)
        dx, plus_di, minus_di, _ = self._series(highs, lows, closes)
        return DMISeries(dx, plus_di, minus_di)

    def _series(
        self, highs: FloatArray, lows: FloatArray, closes: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_]]:
        """DX, +DI, -DI and whether each bar's DX was defined."""
        size = len(closes)
        plus_di, minus_di, dx = nan_series(size), nan_series(size), nan_series(size)
        defined = np.zeros(size, dtype=np.bool_)
        if size < 2:
            return dx, plus_di, minus_di, defined
        up = highs[1:] - highs[:-1]
        down = lows[:-1] - lows[1:]
        plus = self._plus.series(np.where((up > 0.0) & (up > down), up, 0.0))
        minus = self._minus.series(np.where((down > 0.0) & (down > up), down, 0.0))
        ranges = self._range.series(true_range_series(highs, lows, closes)[1:])
        with np.errstate(divide="ignore", invalid="ignore"):
            plus_di[1:] = np.where(ranges != 0.0, 100.0 * (plus / ranges), 0.0)
            minus_di[1:] = np.where(ranges != 0.0, 100.0 * (minus / ranges), 0.0)
            both = minus_di + plus_di
            raw = 100.0 * (np.abs(minus_di - plus_di) / both)
        ready = ~np.isnan(plus_di)
        defined = ready & (np.nan_to_num(both) != 0.0)
        # Carry the last defined DX forward over undefined bars (0 before the first one).
        last = np.maximum.accumulate(np.where(defined, np.arange(size), -1))
        carried = np.where(last >= 0, raw[np.maximum(last, 0)], 0.0)
        dx[ready] = carried[ready]
        plus_di[~ready] = np.nan
        minus_di[~ready] = np.nan
        return dx, plus_di, minus_di, defined


def _directional_average(smoothing: Smoothing, period: int) -> Average:
    return WilderSum(period) if smoothing == "wilder" else make_average(smoothing, period)


class ADXSeries(NamedTuple):
    """Batch outputs of :class:`ADX`."""

    adx: FloatArray
    plus_di: FloatArray
    minus_di: FloatArray


class ADX(BarIndicator):
    """Average directional index: DX averaged over ``period`` (Wilder's recursion seeded with
    the mean of the first ``period`` DX, as TA-Lib), with the +DI and -DI of :class:`DMI`.
    Bars where DX is undefined count as 0 in the seed and leave ADX unchanged after it."""

    __slots__ = (
        "_average",
        "_directional",
        "_seen",
        "adx",
        "minus_di",
        "period",
        "plus_di",
        "smoothing",
    )
    name = "adx"
    outputs = ("adx", "plus_di", "minus_di")
    adx: float | None
    plus_di: float | None
    minus_di: float | None

    def __init__(self, period: int = 14, *, smoothing: Smoothing = "wilder") -> None:
        self._directional = DMI(period, smoothing=smoothing)
        self.period = period
        self.smoothing = smoothing
        self.warmup = 2 * period
        self.reset()

    def _new_average(self) -> Average:
        if self.smoothing == "wilder":
            return WilderAverage(self.period)
        return make_average(self.smoothing, self.period)

    def reset(self) -> None:
        self._directional.reset()
        self._average = self._new_average()
        self._seen = 0
        self.count = 0
        self.value = self.adx = self.plus_di = self.minus_di = None

    def update(self, high: float, low: float, close: float) -> None:
        self.count += 1
        directional = self._directional
        directional.update(high, low, close)
        dx = directional.dx
        if dx is None:
            return
        self._seen += 1
        adx: float | None
        if self._seen <= self.period:
            adx = self._average.update(dx if directional.defined else 0.0)
        elif directional.defined:
            adx = self._average.update(dx)
        else:
            adx = self.adx
        if adx is not None:
            self.value = self.adx = adx
            self.plus_di, self.minus_di = directional.plus_di, directional.minus_di

    def batch(self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike) -> ADXSeries:
        """ADX, +DI and -DI of each bar (the averages loop in Python)."""
        highs, lows, closes = as_series(high, low, close, names=self.inputs)
        dx, plus_di, minus_di, defined = self._directional._series(highs, lows, closes)
        adx = nan_series(len(dx))
        average = self._new_average()
        start = self.period
        latest: float | None = None
        for i, (value, fresh) in enumerate(
            zip(dx[start:].tolist(), defined[start:].tolist(), strict=True)
        ):
            if i < self.period:
                latest = average.update(value if fresh else 0.0)
            elif fresh:
                latest = average.update(value)
            if latest is not None:
                adx[start + i] = latest
        plus_di[: self.warmup - 1] = np.nan
        minus_di[: self.warmup - 1] = np.nan
        return ADXSeries(adx, plus_di, minus_di)


class AroonSeries(NamedTuple):
    """Batch outputs of :class:`Aroon`."""

    oscillator: FloatArray
    up: FloatArray
    down: FloatArray


class Aroon(HighLowIndicator):
    """Aroon: how recent the highest high (up) and lowest low (down) of the last
    ``period + 1`` bars are, from 100 (this bar) to 0 (``period`` bars ago), and up - down.
    Ties go to the most recent bar, as in TA-Lib."""

    __slots__ = ("_factor", "_highest", "_lowest", "down", "oscillator", "period", "up")
    name = "aroon"
    outputs = ("oscillator", "up", "down")
    oscillator: float | None
    up: float | None
    down: float | None

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("period", period)
        self.warmup = period + 1
        self._factor = 100.0 / period
        self._highest = RollingExtreme(period + 1, highest=True)
        self._lowest = RollingExtreme(period + 1, highest=False)
        self.reset()

    def reset(self) -> None:
        self._highest.reset()
        self._lowest.reset()
        self.count = 0
        self.value = self.oscillator = self.up = self.down = None

    def update(self, high: float, low: float) -> None:
        self.count += 1
        self._highest.update(high)
        self._lowest.update(low)
        if self.count <= self.period:
            return
        high_age, low_age = self._highest.age, self._lowest.age
        self.up = self._factor * (self.period - high_age)
        self.down = self._factor * (self.period - low_age)
        self.value = self.oscillator = self._factor * (low_age - high_age)

    def batch(self, high: npt.ArrayLike, low: npt.ArrayLike) -> AroonSeries:
        """Oscillator, up and down of each bar."""
        highs, lows = as_series(high, low, names=self.inputs)
        high_age = rolling_age_of_max(highs, self.period + 1)
        low_age = rolling_age_of_min(lows, self.period + 1)
        return AroonSeries(
            self._factor * (low_age - high_age),
            self._factor * (self.period - high_age),
            self._factor * (self.period - low_age),
        )
