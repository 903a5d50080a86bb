"""Ichimoku Kinko Hyo: conversion and base lines, the cloud, and the lagging span."""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from foxtrot.core.indicators.base import (
    BarIndicator,
    FloatArray,
    as_series,
    check_period,
    nan_series,
)
from foxtrot.core.indicators.rolling import RollingExtreme, rolling_max, rolling_min

__all__ = ["Ichimoku", "IchimokuSeries"]


class IchimokuSeries(NamedTuple):
    """Batch outputs of :class:`Ichimoku`."""

    tenkan: FloatArray
    kijun: FloatArray
    senkou_a: FloatArray
    senkou_b: FloatArray
    chikou: FloatArray


class _Midpoint:
    """(highest high + lowest low) / 2 over a window."""

    __slots__ = ("highest", "lowest")

    def __init__(self, period: int) -> None:
        self.highest = RollingExtreme(period, highest=True)
        self.lowest = RollingExtreme(period, highest=False)

    def reset(self) -> None:
        self.highest.reset()
        self.lowest.reset()

    def update(self, high: float, low: float) -> float:
        self.highest.update(high)
        self.lowest.update(low)
        return (self.highest.value + self.lowest.value) / 2.0


def _midpoint_series(highs: FloatArray, lows: FloatArray, period: int) -> FloatArray:
    return (rolling_max(highs, period) + rolling_min(lows, period)) / 2.0


class Ichimoku(BarIndicator):
    """Ichimoku: tenkan (conversion) and kijun (base) are the high-low midpoints of
    ``tenkan`` and ``kijun`` bars; senkou A is their mean and senkou B the midpoint of
    ``senkou`` bars, both as computed ``displacement`` bars ago, so the cloud they give is
    the one drawn over the current bar (0 gives them undisplaced; TradingView draws them
    ``displacement - 1`` bars ahead, so pass 25 to match its 26). Chikou, the lagging span,
    is the current close, which charts draw ``displacement`` bars back.
    """

    __slots__ = (
        "_base", "_conversion", "_leading", "_spans", "chikou", "displacement", "kijun",
        "kijun_period", "senkou_a", "senkou_b", "senkou_period", "tenkan", "tenkan_period",
    )  # fmt: skip
    name = "ichimoku"
    outputs = ("tenkan", "kijun", "senkou_a", "senkou_b", "chikou")
    tenkan: float | None
    kijun: float | None
    senkou_a: float | None
    senkou_b: float | None
    chikou: float | None

    def __init__(
        self, tenkan: int = 9, kijun: int = 26, senkou: int = 52, displacement: int = 26
    ) -> None:
        self.tenkan_period = check_period("tenkan", tenkan)
        self.kijun_period = check_period("kijun", kijun)
        self.senkou_period = check_period("senkou", senkou)
        self.displacement = check_period("displacement", displacement, minimum=0)
        self.warmup = max(tenkan, kijun, senkou) + displacement
        self._conversion = _Midpoint(tenkan)
        self._base = _Midpoint(kijun)
        self._leading = _Midpoint(senkou)
        self._spans: deque[tuple[float, float]] = deque(maxlen=displacement + 1)
        self.reset()

    def reset(self) -> None:
        self._conversion.reset()
        self._base.reset()
        self._leading.reset()
        self._spans.clear()
        self.count = 0
        self.value = self.tenkan = self.kijun = self.senkou_a = self.senkou_b = None
        self.chikou = None

    def update(self, high: float, low: float, close: float) -> None:
        self.count += 1
        tenkan = self._conversion.update(high, low)
        kijun = self._base.update(high, low)
        leading = self._leading.update(high, low)
        if self.count < self.warmup - self.displacement:
            return
        spans = self._spans
        spans.append(((tenkan + kijun) / 2.0, leading))
        if len(spans) > self.displacement:
            self.value = self.tenkan = tenkan
            self.kijun = kijun
            self.senkou_a, self.senkou_b = spans[0]
            self.chikou = close

    def batch(
        self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike
    ) -> IchimokuSeries:
        """Every line of each bar."""
        highs, lows, closes = as_series(high, low, close, names=self.inputs)
        size, shift = len(closes), self.displacement
        tenkan = _midpoint_series(highs, lows, self.tenkan_period)
        kijun = _midpoint_series(highs, lows, self.kijun_period)
        span_a, span_b = (tenkan + kijun) / 2.0, _midpoint_series(highs, lows, self.senkou_period)
        senkou_a, senkou_b = nan_series(size), nan_series(size)
        if size > shift:
            senkou_a[shift:] = span_a[: size - shift]
            senkou_b[shift:] = span_b[: size - shift]
        lines = [tenkan, kijun, senkou_a, senkou_b, closes.copy()]
        for line in lines:
            line[: self.warmup - 1] = np.nan
        return IchimokuSeries(*lines)
