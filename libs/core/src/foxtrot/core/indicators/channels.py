"""Bands around price: Bollinger Bands, Keltner Channels, Donchian Channels."""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from foxtrot.core.indicators.base import (
    BarIndicator,
    CloseIndicator,
    FloatArray,
    HighLowIndicator,
    as_series,
    check_choice,
    check_period,
    check_positive,
)
from foxtrot.core.indicators.rolling import (
    RollingExtreme,
    RollingSums,
    rolling_max,
    rolling_min,
    rolling_sums,
)
from foxtrot.core.indicators.smoothing import ExponentialAverage, SimpleAverage
from foxtrot.core.indicators.volatility import (
    ATR,
    check_ddof,
    window_deviation,
    window_deviation_series,
)

__all__ = ["BandSeries", "BollingerBands", "DonchianChannels", "KeltnerChannels"]

MovingAverageKind = Literal["ema", "sma"]


class BandSeries(NamedTuple):
    """Batch outputs of a band indicator."""

    middle: FloatArray
    upper: FloatArray
    lower: FloatArray


class BollingerBands(CloseIndicator):
    """Bollinger Bands: the SMA of ``period`` closes, plus and minus ``stddevs`` standard
    deviations of them (population, ``ddof=0``, as TA-Lib and Bollinger; or sample)."""

    __slots__ = ("_sums", "ddof", "lower", "middle", "period", "stddevs", "upper")
    name = "bollinger_bands"
    outputs = ("middle", "upper", "lower")
    middle: float | None
    upper: float | None
    lower: float | None

    def __init__(self, period: int = 20, stddevs: float = 2.0, *, ddof: int = 0) -> None:
        self.ddof = check_ddof(ddof)
        self.period = check_period("period", period, minimum=1 + self.ddof)
        self.stddevs = check_positive("stddevs", stddevs)
        self.warmup = period
        self._sums = RollingSums(period, anchored=True, squares=True)
        self.reset()

    def reset(self) -> None:
        self._sums.reset()
        self.count = 0
        self.value = self.middle = self.upper = self.lower = None

    def update(self, close: float) -> None:
        self.count += 1
        sums = self._sums
        if not sums.update(close):
            return
        middle = sums.anchor + sums.total / self.period
        width = self.stddevs * window_deviation(sums, self.ddof)
        self.value = self.middle = middle
        self.upper = middle + width
        self.lower = middle - width

    def batch(self, close: npt.ArrayLike) -> BandSeries:
        """Middle, upper and lower band of each close."""
        (closes,) = as_series(close, names=("close",))
        sums = rolling_sums(closes, self.period, anchored=True, squares=True)
        middle = sums.anchor + sums.total / self.period
        width = self.stddevs * window_deviation_series(sums, self.period, self.ddof)
        return BandSeries(middle, middle + width, middle - width)


class KeltnerChannels(BarIndicator):
    """Keltner Channels: an average of closes (EMA by default, or SMA) over ``period``, plus
    and minus ``multiplier`` times Wilder's ATR over ``atr_period`` (Raschke's version)."""

    __slots__ = (
        "_atr",
        "_average",
        "atr_period",
        "lower",
        "ma",
        "middle",
        "multiplier",
        "period",
        "upper",
    )
    name = "keltner_channels"
    outputs = ("middle", "upper", "lower")
    middle: float | None
    upper: float | None
    lower: float | None

    def __init__(
        self,
        period: int = 20,
        multiplier: float = 2.0,
        atr_period: int = 10,
        *,
        ma: MovingAverageKind = "ema",
    ) -> None:
        self.period = check_period("period", period)
        self.multiplier = check_positive("multiplier", multiplier)
        self.atr_period = check_period("atr_period", atr_period)
        check_choice("ma", ma, ("ema", "sma"))
        self.ma = ma
        self.warmup = max(period, atr_period + 1)
        self._average = ExponentialAverage(period) if ma == "ema" else SimpleAverage(period)
        self._atr = ATR(atr_period)
        self.reset()

    def reset(self) -> None:
        self._average.reset()
        self._atr.reset()
        self.count = 0
        self.value = self.middle = self.upper = self.lower = None

    def update(self, high: float, low: float, close: float) -> None:
        self.count += 1
        middle = self._average.update(close)
        self._atr.update(high, low, close)
        atr = self._atr.value
        if middle is None or atr is None:
            return
        width = self.multiplier * atr
        self.value = self.middle = middle
        self.upper = middle + width
        self.lower = middle - width

    def batch(self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike) -> BandSeries:
        """Middle, upper and lower channel of each bar."""
        highs, lows, closes = as_series(high, low, close, names=self.inputs)
        middle = self._average.series(closes)
        width = self.multiplier * self._atr.batch(highs, lows, closes)
        middle[: self.warmup - 1] = np.nan
        return BandSeries(middle, middle + width, middle - width)


class DonchianChannels(HighLowIndicator):
    """Donchian Channels: the highest high and lowest low of ``period`` bars, and their mean."""

    __slots__ = ("_highest", "_lowest", "lower", "middle", "period", "upper")
    name = "donchian_channels"
    outputs = ("middle", "upper", "lower")
    middle: float | None
    upper: float | None
    lower: float | None

    def __init__(self, period: int = 20) -> None:
        self.period = check_period("period", period)
        self.warmup = period
        self._highest = RollingExtreme(period, highest=True)
        self._lowest = RollingExtreme(period, highest=False)
        self.reset()

    def reset(self) -> None:
        self._highest.reset()
        self._lowest.reset()
        self.count = 0
        self.value = self.middle = self.upper = self.lower = None

    def update(self, high: float, low: float) -> None:
        self.count += 1
        self._highest.update(high)
        self._lowest.update(low)
        if self.count >= self.period:
            upper, lower = self._highest.value, self._lowest.value
            self.upper, self.lower = upper, lower
            self.value = self.middle = (upper + lower) / 2.0

    def batch(self, high: npt.ArrayLike, low: npt.ArrayLike) -> BandSeries:
        """Middle, upper and lower channel of each bar."""
        highs, lows = as_series(high, low, names=self.inputs)
        upper = rolling_max(highs, self.period)
        lower = rolling_min(lows, self.period)
        return BandSeries((upper + lower) / 2.0, upper, lower)
