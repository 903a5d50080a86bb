"""Indicators in exact Decimal arithmetic, for code that compares prices exactly."""

from __future__ import annotations

from collections import deque
from decimal import Decimal

__all__ = ["SimpleMovingAverage"]


class SimpleMovingAverage:
    """Arithmetic mean of the last ``period`` inputs, exact in Decimal."""

    __slots__ = ("_sum", "_window", "period")

    def __init__(self, period: int) -> None:
        if period < 1:
            raise ValueError(f"period must be at least 1, was {period}")
        self.period = period
        self._window: deque[Decimal] = deque(maxlen=period)
        self._sum = Decimal(0)

    @property
    def initialized(self) -> bool:
        """True once ``period`` inputs have arrived."""
        return len(self._window) == self.period

    @property
    def value(self) -> Decimal | None:
        """The current mean, or None until initialized."""
        return self._sum / self.period if self.initialized else None

    def update(self, value: Decimal) -> None:
        """Take one input."""
        if self.initialized:
            self._sum -= self._window[0]
        self._window.append(value)
        self._sum += value

    def reset(self) -> None:
        """Forget every input."""
        self._window.clear()
        self._sum = Decimal(0)
