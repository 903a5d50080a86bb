"""Least-squares line through the last ``period`` closes: end value, slope, intercept."""

from __future__ import annotations

from typing import NamedTuple

import numpy.typing as npt

from foxtrot.core.indicators.base import CloseIndicator, FloatArray, as_series, check_period
from foxtrot.core.indicators.rolling import RollingSums, rolling_sums

__all__ = ["LinearRegression", "LinearRegressionSeries"]


class LinearRegressionSeries(NamedTuple):
    """Batch outputs of :class:`LinearRegression`."""

    value: FloatArray
    slope: FloatArray
    intercept: FloatArray


class LinearRegression(CloseIndicator):
    """Least-squares line through the last ``period`` closes against bar number: ``value`` is
    the line at the newest bar (TA-Lib's LINEARREG), ``slope`` its rise per bar
    (LINEARREG_SLOPE), ``intercept`` the line at the oldest bar (LINEARREG_INTERCEPT).

    The sums are anchored window sums, so slope = sum((w - mean w) * (close - anchor)) /
    sum((w - mean w) ** 2) over weights w = 1..period keeps its digits at any price level.
    """

    __slots__ = ("_centre", "_half_span", "_spread", "_sums", "intercept", "period", "slope")
    name = "linear_regression"
    outputs = ("value", "slope", "intercept")
    slope: float | None
    intercept: float | None

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("period", period, minimum=2)
        self.warmup = period
        self._centre = (period + 1) / 2
        self._half_span = (period - 1) / 2
        self._spread = period * (period * period - 1) / 12
        self._sums = RollingSums(period, anchored=True, weighted=True)
        self.reset()

    def reset(self) -> None:
        self._sums.reset()
        self.count = 0
        self.value = self.slope = self.intercept = None

    def update(self, close: float) -> None:
        self.count += 1
        sums = self._sums
        if not sums.update(close):
            return
        slope = (sums.weighted_total - self._centre * sums.total) / self._spread
        mean = sums.anchor + sums.total / self.period
        self.value = mean + slope * self._half_span
        self.slope = slope
        self.intercept = mean - slope * self._half_span

    def batch(self, close: npt.ArrayLike) -> LinearRegressionSeries:
        """End value, slope and intercept of each window of closes."""
        (closes,) = as_series(close, names=("close",))
        sums = rolling_sums(closes, self.period, anchored=True, weighted=True)
        slope = (sums.weighted - self._centre * sums.total) / self._spread
        mean = sums.anchor + sums.total / self.period
        return LinearRegressionSeries(
            mean + slope * self._half_span, slope, mean - slope * self._half_span
        )
