"""Stop-and-reverse trend followers: Parabolic SAR and Supertrend.

Both are a recursion from bar to bar with no vectorised form: SAR's batch form runs the
streaming recursion over the arrays on a fresh instance, Supertrend's vectorises the ATR and
the basic bands and loops over the trailing rule; both loop in Python.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy.typing as npt

from foxtrot.core.indicators.base import (
    BarIndicator,
    FloatArray,
    HighLowIndicator,
    Smoothing,
    as_series,
    check_positive,
    nan_series,
)
from foxtrot.core.indicators.volatility import ATR

__all__ = ["ParabolicSAR", "Supertrend", "SupertrendSeries"]


class ParabolicSAR(HighLowIndicator):
    """Wilder's parabolic stop and reverse, as TA-Lib's SAR computes it.

    The acceleration factor starts at ``start``, grows by ``step`` with each new extreme up
    to ``maximum``, and goes back to ``start`` on a reversal. The first trend is short when
    the second bar's low falls further than its high rises (a -DM), long otherwise; the
    first SAR is then the first bar's high (short) or low (long). ``value`` on a bar is the
    stop in force during it, or the reversal level on the bar that reverses.
    """

    __slots__ = (
        "_extreme",
        "_factor",
        "_long",
        "_previous",
        "_sar",
        "maximum",
        "start",
        "step",
    )
    name = "parabolic_sar"

    def __init__(self, start: float = 0.02, step: float = 0.02, maximum: float = 0.2) -> None:
        self.start = check_positive("start", start)
        self.step = check_positive("step", step)
        self.maximum = check_positive("maximum", maximum)
        if start > maximum:
            raise ValueError(f"start must be at most maximum ({maximum}), was {start}")
        self.warmup = 2
        self.reset()

    def reset(self) -> None:
        self._previous: tuple[float, float] | None = None
        self._long = True
        self._extreme = self._sar = 0.0
        self._factor = self.start
        self.count = 0
        self.value = None

    def update(self, high: float, low: float) -> None:
        self.count += 1
        previous = self._previous
        self._previous = (high, low)
        if previous is None:
            return
        if self.count == 2:
            first_high, first_low = previous
            down, up = first_low - low, high - first_high
            self._long = not (down > 0.0 and up < down)
            self._extreme, self._sar = (high, first_low) if self._long else (low, first_high)
            previous = (high, low)  # TA-Lib lets the second bar be its own previous bar
        previous_high, previous_low = previous
        sar, extreme = self._sar, self._extreme
        if self._long:
            if low <= sar:  # reverse to short at the extreme high
                self._long = False
                self.value = sar = max(extreme, previous_high, high)
                self._factor = self.start
                extreme = low
                sar = max(sar + self._factor * (extreme - sar), previous_high, high)
            else:
                self.value = sar
                if high > extreme:
                    extreme = high
                    self._factor = min(self._factor + self.step, self.maximum)
                sar = min(sar + self._factor * (extreme - sar), previous_low, low)
        elif high >= sar:  # reverse to long at the extreme low
            self._long = True
            self.value = sar = min(extreme, previous_low, low)
            self._factor = self.start
            extreme = high
            sar = min(sar + self._factor * (extreme - sar), previous_low, low)
        else:
            self.value = sar
            if low < extreme:
                extreme = low
                self._factor = min(self._factor + self.step, self.maximum)
            sar = max(sar + self._factor * (extreme - sar), previous_high, high)
        self._sar, self._extreme = sar, extreme

    def batch(self, high: npt.ArrayLike, low: npt.ArrayLike) -> FloatArray:
        """SAR of each bar (the streaming recursion, looped over the arrays)."""
        highs, lows = as_series(high, low, names=self.inputs)
        fresh = ParabolicSAR(self.start, self.step, self.maximum)
        out = nan_series(len(highs))
        for i, (bar_high, bar_low) in enumerate(zip(highs.tolist(), lows.tolist(), strict=True)):
            fresh.update(bar_high, bar_low)
            if fresh.value is not None:
                out[i] = fresh.value
        return out


class SupertrendSeries(NamedTuple):
    """Batch outputs of :class:`Supertrend`."""

    value: FloatArray
    direction: FloatArray
    upper: FloatArray
    lower: FloatArray


class Supertrend(BarIndicator):
    """Supertrend: a trailing band ``multiplier`` ATRs from the bar's midpoint (high + low) / 2.

    The upper band only falls and the lower only rises while the previous close stays
    inside them; the trend turns down when the close falls below the lower band and up when
    it rises above the upper. ``value`` is the lower band in an up-trend and the upper band
    in a down-trend; ``direction`` is +1 (up) or -1 (down); the first bar counts as up.
    """

    __slots__ = ("_atr", "_close", "direction", "lower", "multiplier", "period", "upper")
    name = "supertrend"
    outputs = ("value", "direction", "upper", "lower")
    direction: float | None
    upper: float | None
    lower: float | None

    def __init__(
        self, period: int = 10, multiplier: float = 3.0, *, smoothing: Smoothing = "wilder"
    ) -> None:
        self._atr = ATR(period, smoothing=smoothing)
        self.period = period
        self.multiplier = check_positive("multiplier", multiplier)
        self.warmup = self._atr.warmup
        self.reset()

    def reset(self) -> None:
        self._atr.reset()
        self._close = 0.0
        self.count = 0
        self.value = self.direction = self.upper = self.lower = None

    def update(self, high: float, low: float, close: float) -> None:
        self.count += 1
        self._atr.update(high, low, close)
        atr = self._atr.value
        previous_close = self._close
        self._close = close
        if atr is None:
            return
        middle = (high + low) / 2.0
        width = self.multiplier * atr
        upper, lower = middle + width, middle - width
        if self.upper is None or self.lower is None or self.direction is None:
            direction = 1.0
        else:
            if not (upper < self.upper or previous_close > self.upper):
                upper = self.upper
            if not (lower > self.lower or previous_close < self.lower):
                lower = self.lower
            direction = self.direction
            if direction > 0.0 and close < lower:
                direction = -1.0
            elif direction < 0.0 and close > upper:
                direction = 1.0
        self.upper, self.lower, self.direction = upper, lower, direction
        self.value = lower if direction > 0.0 else upper

    def batch(
        self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike
    ) -> SupertrendSeries:
        """Supertrend, direction and bands of each bar (ATR and the basic bands vectorised,
        the trailing recursion looped in Python)."""
        highs, lows, closes = as_series(high, low, close, names=self.inputs)
        middle = (highs + lows) / 2.0
        width = self.multiplier * self._atr.batch(highs, lows, closes)
        basic_upper, basic_lower = middle + width, middle - width
        size = len(closes)
        out = SupertrendSeries(*(nan_series(size) for _ in range(4)))
        start = self.warmup - 1
        if size <= start:
            return out
        xs: list[float] = closes.tolist()
        basic_uppers: list[float] = basic_upper.tolist()
        basic_lowers: list[float] = basic_lower.tolist()
        upper, lower, direction = basic_uppers[start], basic_lowers[start], 1.0
        values, directions, uppers, lowers = [], [], [], []
        for i in range(start, size):
            if i > start:
                previous_close, bar_close = xs[i - 1], xs[i]
                if basic_uppers[i] < upper or previous_close > upper:
                    upper = basic_uppers[i]
                if basic_lowers[i] > lower or previous_close < lower:
                    lower = basic_lowers[i]
                if direction > 0.0 and bar_close < lower:
                    direction = -1.0
                elif direction < 0.0 and bar_close > upper:
                    direction = 1.0
            values.append(lower if direction > 0.0 else upper)
            directions.append(direction)
            uppers.append(upper)
            lowers.append(lower)
        out.value[start:] = values
        out.direction[start:] = directions
        out.upper[start:] = uppers
        out.lower[start:] = lowers
        return out
