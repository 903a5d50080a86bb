"""The averages indicators are built from: exponential, Wilder's, simple; streaming and batch.

Each average's ``update`` returns the average after the input (None during its warm-up of
``period`` inputs) and its ``series`` is the batch form: the same arithmetic, in the same
order, over an array. The exponential and Wilder forms are recursions, so their ``series``
loops in Python over the array's floats; the simple average is vectorised
(:func:`~foxtrot.core.indicators.rolling.rolling_sums`).

The arithmetic follows TA-Lib's, so that indicators built on these match it to the bit where
TA-Lib has no running sums of its own: the EMA step is ``(x - ema) * alpha + ema``, Wilder's
step is ``(avg * (period - 1) + x) / period``, both seeded with the sum of the first
``period`` inputs divided by ``period``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from foxtrot.core.indicators.base import (
    FloatArray,
    Seed,
    Smoothing,
    check_choice,
    check_period,
    check_positive,
)
from foxtrot.core.indicators.rolling import RollingSums, rolling_sums

__all__ = [
    "SEEDS",
    "SMOOTHINGS",
    "Average",
    "ExponentialAverage",
    "SimpleAverage",
    "WilderAverage",
    "WilderSum",
    "make_average",
]

SEEDS: tuple[Seed, ...] = ("sma", "first")
SMOOTHINGS: tuple[Smoothing, ...] = ("wilder", "ema", "sma")


class Average(ABC):
    """A streaming average of ``period`` inputs with a batch ``series`` form."""

    __slots__ = ("period",)

    def __init__(self, period: int) -> None:
        self.period = check_period("period", period)

    @abstractmethod
    def update(self, x: float) -> float | None:
        """Take one input; the average, or None during the warm-up."""

    @abstractmethod
    def reset(self) -> None:
        """Forget every input."""

    @abstractmethod
    def series(self, values: FloatArray) -> FloatArray:
        """What ``update`` returns for each of ``values`` from a fresh start; NaN for None."""


class ExponentialAverage(Average):
    """EMA with ``alpha`` (default 2 / (period + 1)), seeded as ``seed`` says."""

    __slots__ = ("_average", "_count", "_sum", "alpha", "seed")

    def __init__(self, period: int, *, seed: Seed = "sma", alpha: float | None = None) -> None:
        super().__init__(period)
        check_choice("seed", seed, SEEDS)
        self.seed = seed
        self.alpha = 2.0 / (period + 1) if alpha is None else check_positive("alpha", alpha)
        if self.alpha > 1.0:
            raise ValueError(f"alpha must be at most 1, was {alpha}")
        self.reset()

    def reset(self) -> None:
        self._count = 0
        self._sum = 0.0
        self._average = 0.0

    def update(self, x: float) -> float | None:
        count = self._count = self._count + 1
        if self.seed == "first":
            if count == 1:
                self._average = x
            else:
                self._average = (x - self._average) * self.alpha + self._average
        elif count > self.period:
            self._average = (x - self._average) * self.alpha + self._average
        else:
            self._sum += x
            if count < self.period:
                return None
            self._average = self._sum / self.period
        return self._average if count >= self.period else None

    def series(self, values: FloatArray) -> FloatArray:
        n, alpha = self.period, self.alpha
        xs: list[float] = values.tolist()
        out = [math.nan] * len(xs)
        if len(xs) < n:
            return np.array(out)
        if self.seed == "first":
            average = xs[0]
            for x in xs[1:n]:
                average = (x - average) * alpha + average
        else:
            total = 0.0
            for x in xs[:n]:
                total += x
            average = total / n
        out[n - 1] = average
        for i in range(n, len(xs)):
            average = (xs[i] - average) * alpha + average
            out[i] = average
        return np.array(out)


class WilderAverage(Average):
    """Wilder's average: the mean of the first ``period`` inputs, then a 1/period recursion."""

    __slots__ = ("_average", "_count", "_keep")

    def __init__(self, period: int) -> None:
        super().__init__(period)
        self._keep = float(period - 1)
        self.reset()

    def reset(self) -> None:
        self._count = 0
        self._average = 0.0

    def update(self, x: float) -> float | None:
        count = self._count = self._count + 1
        if count > self.period:
            self._average = (self._average * self._keep + x) / self.period
            return self._average
        self._average += x
        if count < self.period:
            return None
        self._average = self._average / self.period
        return self._average

    def series(self, values: FloatArray) -> FloatArray:
        n, keep = self.period, self._keep
        xs: list[float] = values.tolist()
        out = [math.nan] * len(xs)
        if len(xs) < n:
            return np.array(out)
        total = 0.0
        for x in xs[:n]:
            total += x
        average = total / n
        out[n - 1] = average
        for i in range(n, len(xs)):
            average = (average * keep + xs[i]) / n
            out[i] = average
        return np.array(out)


class WilderSum(Average):
    """Wilder's running sum as TA-Lib keeps it for DM and TR: the plain sum of the first
    ``period - 1`` inputs, then ``sum - sum / period + x`` for each input after."""

    __slots__ = ("_count", "_sum")

    def __init__(self, period: int) -> None:
        super().__init__(period)
        self.reset()

    def reset(self) -> None:
        self._count = 0
        self._sum = 0.0

    def update(self, x: float) -> float | None:
        count = self._count = self._count + 1
        if count < self.period:
            self._sum += x
            return None
        self._sum = self._sum - self._sum / self.period + x
        return self._sum

    def series(self, values: FloatArray) -> FloatArray:
        n = self.period
        xs: list[float] = values.tolist()
        out = [math.nan] * len(xs)
        running = 0.0
        for i, x in enumerate(xs):
            if i < n - 1:
                running += x
                continue
            running = running - running / n + x
            out[i] = running
        return np.array(out)


class SimpleAverage(Average):
    """Mean of the last ``period`` inputs (window sums without drift)."""

    __slots__ = ("_sums",)

    def __init__(self, period: int) -> None:
        super().__init__(period)
        self._sums = RollingSums(period)

    def reset(self) -> None:
        self._sums.reset()

    def update(self, x: float) -> float | None:
        if self._sums.update(x):
            return self._sums.total / self.period
        return None

    def series(self, values: FloatArray) -> FloatArray:
        return rolling_sums(values, self.period).total / self.period


def make_average(smoothing: Smoothing, period: int) -> Average:
    """The average ``smoothing`` names (EMAs seeded with the SMA of their first inputs)."""
    check_choice("smoothing", smoothing, SMOOTHINGS)
    if smoothing == "wilder":
        return WilderAverage(period)
    if smoothing == "ema":
        return ExponentialAverage(period)
    return SimpleAverage(period)
