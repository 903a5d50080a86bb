"""What every float indicator shares: inputs, outputs, warm-up, and the batch-array helpers.

The convention, the same for every indicator in this package:

- ``update(...)`` takes one input of each kind the indicator reads (``update(close)``,
  ``update(high, low, close)``, ``update(high, low, close, volume)``...); ``handle_bar(bar)``
  reads those fields from a :class:`~foxtrot.core.data.Bar` (Decimal, converted with
  ``float()``) and calls ``update``. Each input costs O(1) work (amortised O(1) where a
  window is involved, O(log period) for CCI; see each module).
- ``value`` is the main output and every named output (``upper``, ``signal``...) is a float
  once the indicator is ``initialized`` and None before; all outputs become floats on the
  same input, the ``warmup``-th (TA-Lib's lookback is ``warmup - 1``). ``count`` is the
  number of inputs seen; ``reset()`` forgets them all.
- ``batch(...)`` takes one float64 array per input and returns the same numbers for a whole
  series: one array when the indicator has one output, a NamedTuple of arrays (fields named
  as the streaming outputs) when it has several; NaN before warm-up. It neither reads nor
  changes the streaming state.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import ClassVar, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from foxtrot.core.data import Bar

__all__ = [
    "BarIndicator",
    "BarVolumeIndicator",
    "CloseIndicator",
    "CloseVolumeIndicator",
    "FloatArray",
    "HighLowIndicator",
    "Indicator",
    "Seed",
    "Smoothing",
    "as_series",
    "check_choice",
    "check_period",
    "check_positive",
    "nan_series",
    "starting_at",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]

#: How an exponential average starts: the mean of its first ``period`` inputs (TA-Lib) or the
#: first input itself (pandas ``ewm(adjust=False)``, most charting packages).
Seed = Literal["sma", "first"]

#: How a Wilder-style indicator (RSI, ATR, DMI/ADX) averages: Wilder's 1/period recursion
#: (TA-Lib), an EMA with alpha 2/(period + 1), or a simple moving average.
Smoothing = Literal["wilder", "ema", "sma"]


class Indicator(ABC):
    """A streaming indicator: O(1) work per input, outputs None until warmed up."""

    __slots__ = ("count", "value", "warmup")

    #: The name the indicator is registered under in ``INDICATORS``.
    name: ClassVar[str]
    #: The inputs ``update`` takes, in order, named as ``Bar`` fields.
    inputs: ClassVar[tuple[str, ...]]
    #: The outputs, named as the attributes that hold them; ``value`` aliases the first.
    outputs: ClassVar[tuple[str, ...]] = ("value",)

    count: int
    value: float | None
    #: Inputs needed before the outputs are floats.
    warmup: int

    @property
    def initialized(self) -> bool:
        """True once the outputs are floats."""
        return self.value is not None

    @abstractmethod
    def handle_bar(self, bar: Bar) -> None:
        """Take the fields of one bar that the indicator reads."""

    @abstractmethod
    def reset(self) -> None:
        """Forget every input."""

    def batch_columns(self, columns: Mapping[str, npt.ArrayLike]) -> dict[str, FloatArray]:
        """Every output over whole columns named as ``inputs``, keyed by output name."""
        # batch takes one array per input, so its signature differs from class to class.
        batch: Callable[..., FloatArray | tuple[FloatArray, ...]] = getattr(self, "batch")  # noqa: B009
        result = batch(*(columns[name] for name in self.inputs))
        if isinstance(result, tuple):
            return dict(zip(self.outputs, result, strict=True))
        return {self.outputs[0]: result}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(value={self.value}, count={self.count})"


class CloseIndicator(Indicator):
    """An indicator of closes alone."""

    __slots__ = ()
    inputs = ("close",)

    @abstractmethod
    def update(self, close: float) -> None:
        """Take one close."""

    def handle_bar(self, bar: Bar) -> None:
        self.update(float(bar.close))


class CloseVolumeIndicator(Indicator):
    """An indicator of closes and volumes."""

    __slots__ = ()
    inputs = ("close", "volume")

    @abstractmethod
    def update(self, close: float, volume: float) -> None:
        """Take one close and its volume."""

    def handle_bar(self, bar: Bar) -> None:
        self.update(float(bar.close), float(bar.volume))


class HighLowIndicator(Indicator):
    """An indicator of highs and lows."""

    __slots__ = ()
    inputs = ("high", "low")

    @abstractmethod
    def update(self, high: float, low: float) -> None:
        """Take one high and low."""

    def handle_bar(self, bar: Bar) -> None:
        self.update(float(bar.high), float(bar.low))


class BarIndicator(Indicator):
    """An indicator of highs, lows and closes."""

    __slots__ = ()
    inputs = ("high", "low", "close")

    @abstractmethod
    def update(self, high: float, low: float, close: float) -> None:
        """Take one high, low and close."""

    def handle_bar(self, bar: Bar) -> None:
        self.update(float(bar.high), float(bar.low), float(bar.close))


class BarVolumeIndicator(Indicator):
    """An indicator of highs, lows, closes and volumes."""

    __slots__ = ()
    inputs = ("high", "low", "close", "volume")

    @abstractmethod
    def update(self, high: float, low: float, close: float, volume: float) -> None:
        """Take one high, low, close and volume."""

    def handle_bar(self, bar: Bar) -> None:
        self.update(float(bar.high), float(bar.low), float(bar.close), float(bar.volume))


def check_period(name: str, period: int, minimum: int = 1) -> int:
    """``period`` if it is an int of at least ``minimum``, else a ValueError saying so."""
    if isinstance(period, bool) or not isinstance(period, int):
        raise ValueError(f"{name} must be an integer, was {period!r}")
    if period < minimum:
        raise ValueError(f"{name} must be at least {minimum}, was {period}")
    return period


def check_positive(name: str, number: float) -> float:
    """``number`` as a float if it is finite and above zero, else a ValueError saying so."""
    if not (isinstance(number, int | float) and math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number above 0, was {number!r}")
    return float(number)


def check_choice(name: str, choice: str, allowed: tuple[str, ...]) -> None:
    """A ValueError unless ``choice`` is one of ``allowed``."""
    if choice not in allowed:
        options = ", ".join(repr(option) for option in allowed)
        raise ValueError(f"{name} must be one of {options}, was {choice!r}")


def as_series(*columns: npt.ArrayLike, names: tuple[str, ...]) -> list[FloatArray]:
    """The columns as 1-D float64 arrays of one length, else a ValueError naming them."""
    arrays = [np.asarray(column, dtype=np.float64) for column in columns]
    for name, array in zip(names, arrays, strict=True):
        if array.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array, was {array.ndim}-D")
    lengths = {len(array) for array in arrays}
    if len(lengths) > 1:
        found = ", ".join(str(len(array)) for array in arrays)
        raise ValueError(f"{', '.join(names)} must have one length, were {found}")
    return arrays


def nan_series(size: int) -> FloatArray:
    """An array of ``size`` NaNs."""
    return np.full(size, math.nan)


def starting_at(
    values: FloatArray, start: int, compute: Callable[[FloatArray], FloatArray]
) -> FloatArray:
    """``compute`` over ``values[start:]`` (where an earlier stage's warm-up ends), NaN before."""
    out = nan_series(len(values))
    if start < len(values):
        out[start:] = compute(values[start:])
    return out
