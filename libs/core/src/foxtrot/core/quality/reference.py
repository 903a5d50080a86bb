"""The rolling median that price spikes are measured against."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from decimal import Decimal

__all__ = ["RollingMedian"]

_TWO = Decimal(2)


class RollingMedian:
    """Median of the last ``window`` inputs, exact in Decimal.

    A sorted copy of the window is kept beside it, so an update is two binary searches
    plus a shift of at most ``window`` references, and reading the median is O(1).
    """

    __slots__ = ("_sorted", "_window", "window")

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, was {window}")
        self.window = window
        self._window: deque[Decimal] = deque()
        self._sorted: list[Decimal] = []

    @property
    def initialized(self) -> bool:
        """True once ``window`` inputs have arrived."""
        return len(self._window) == self.window

    @property
    def value(self) -> Decimal | None:
        """The median (of an even window, the mean of the middle two); None until initialized."""
        if len(self._window) < self.window:
            return None
        ordered = self._sorted
        middle = self.window // 2
        if self.window % 2:
            return ordered[middle]
        return (ordered[middle - 1] + ordered[middle]) / _TWO

    def update(self, value: Decimal) -> None:
        """Take one input, forgetting the oldest once the window is full."""
        if len(self._window) == self.window:
            oldest = self._window.popleft()
            del self._sorted[bisect_left(self._sorted, oldest)]
        self._window.append(value)
        insort(self._sorted, value)
