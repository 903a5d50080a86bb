"""Window sums and window extremes over the last ``period`` inputs, streaming and batch.

Window sums (:class:`RollingSums`, :func:`rolling_sums`) do not keep a running sum that adds
the newest input and subtracts the oldest: over a long stream its rounding errors add up
(a random walk of about ``sqrt(inputs)`` ulps of the largest partial sum), and a batch form
built on ``np.cumsum`` drifts differently again. Instead the stream is cut into blocks of
``period`` inputs. The window that ends at the ``r``-th input of a block is the tail of the
block before (from index ``r + 1``) plus the head of this block (up to ``r``); head sums are
running sums that restart with every block, tail sums are computed once when a block is
complete, from its end backwards. So every window sum is a sum of at most ``2 * period``
terms, whatever the length of the stream (no drift), the work is amortised O(1) per input,
and the batch form is the same additions in the same order, done with ``np.cumsum`` over a
``(blocks, period)`` grid: the two forms agree bit for bit.

``anchored=True`` sums deviations from an anchor (the first input of the block before)
instead of the inputs, so a variance taken as ``sum(d*d) - sum(d)**2 / n`` does not lose
every significant digit when the inputs are large and close together (prices).
``weighted=True`` also sums the inputs weighted 1 (oldest) to ``period`` (newest).

Window extremes (:class:`RollingExtreme`) keep a monotonic deque: amortised O(1) per input,
exact, and ties resolve to the most recent input. The batch forms take the same max/min over
``sliding_window_view``.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from foxtrot.core.indicators.base import FloatArray, check_period, nan_series

__all__ = [
    "RollingExtreme",
    "RollingSums",
    "WindowSums",
    "rolling_age_of_max",
    "rolling_age_of_min",
    "rolling_max",
    "rolling_min",
    "rolling_sums",
]


class RollingSums:
    """Sum, weighted sum and sum of squares of the last ``period`` inputs, without drift."""

    __slots__ = (
        "_before",
        "_block",
        "_head_squares",
        "_head_total",
        "_head_weighted",
        "_position",
        "_started",
        "_tail_squares",
        "_tail_total",
        "_tail_weighted",
        "anchor",
        "anchored",
        "period",
        "ready",
        "squares",
        "squares_total",
        "total",
        "weighted",
        "weighted_total",
    )

    def __init__(
        self, period: int, *, anchored: bool = False, weighted: bool = False, squares: bool = False
    ) -> None:
        self.period = check_period("period", period)
        self.anchored = anchored
        self.weighted = weighted
        self.squares = squares
        self.reset()

    def reset(self) -> None:
        """Forget every input."""
        n = self.period
        self._block = [0.0] * n
        self._tail_total = [0.0] * n
        self._tail_weighted = [0.0] * n
        self._tail_squares = [0.0] * n
        self._position = 0
        self._started = False
        self._before = 0.0
        self._head_total = self._head_weighted = self._head_squares = 0.0
        #: The anchor the sums are deviations from (0.0 unless ``anchored``).
        self.anchor = 0.0
        #: Sum of (input - anchor) over the window.
        self.total = 0.0
        #: Sum of (input - anchor) * weight, weights 1 (oldest) .. period (newest).
        self.weighted_total = 0.0
        #: Sum of (input - anchor) ** 2.
        self.squares_total = 0.0
        #: True once ``period`` inputs have arrived; the sums are valid from then on.
        self.ready = False

    def update(self, x: float) -> bool:
        """Take one input; True once the sums cover a full window."""
        r = self._position
        if not self._started:
            self._started = True
            if self.anchored:
                self._before = x
        d = x - self._before
        if r == 0:
            total = d
            weighted = d
            squares = d * d
        else:
            total = self._head_total + d
            weighted = self._head_weighted + (r + 1) * d if self.weighted else 0.0
            squares = self._head_squares + d * d if self.squares else 0.0
        self._block[r] = x
        if r == self.period - 1:
            self.anchor = self._before
            self.total = total
            self.weighted_total = weighted
            self.squares_total = squares
            self.ready = True
            self._finish_block()
            return True
        self._head_total = total
        self._head_weighted = weighted
        self._head_squares = squares
        self._position = r + 1
        if self.ready:
            self.anchor = self._before
            self.total = self._tail_total[r + 1] + total
            if self.weighted:
                self.weighted_total = self._tail_weighted[r + 1] + (
                    weighted + (self.period - 1 - r) * total
                )
            if self.squares:
                self.squares_total = self._tail_squares[r + 1] + squares
        return self.ready

    def _finish_block(self) -> None:
        """Tail sums of the block just completed, once per ``period`` inputs."""
        block = self._block
        anchor = block[0] if self.anchored else 0.0
        last = self.period - 1
        d = block[last] - anchor
        total, weighted, squares = d, d, d * d
        self._tail_total[last] = total
        self._tail_weighted[last] = weighted
        self._tail_squares[last] = squares
        for j in range(last - 1, 0, -1):
            d = block[j] - anchor
            total = total + d
            weighted = weighted + total
            squares = squares + d * d
            self._tail_total[j] = total
            self._tail_weighted[j] = weighted
            self._tail_squares[j] = squares
        self._before = anchor
        self._position = 0


class WindowSums(NamedTuple):
    """The batch form of :class:`RollingSums`: one array per sum, NaN before a full window."""

    anchor: FloatArray
    total: FloatArray
    weighted: FloatArray
    squares: FloatArray


def rolling_sums(
    values: FloatArray,
    period: int,
    *,
    anchored: bool = False,
    weighted: bool = False,
    squares: bool = False,
) -> WindowSums:
    """The sums :class:`RollingSums` gives after each input, bit for bit, vectorised."""
    n = check_period("period", period)
    size = len(values)
    if size < n:
        empty = nan_series(size)
        return WindowSums(empty, empty.copy(), empty.copy(), empty.copy())
    blocks = -(-size // n)
    padded = np.zeros(blocks * n)
    padded[:size] = values
    grid = padded.reshape(blocks, n)
    if anchored:
        own = grid[:, 0].copy()
        before = np.concatenate((own[:1], own[:-1]))
    else:
        own = np.zeros(blocks)
        before = own
    head = grid - before[:, None]
    tail = grid - own[:, None]
    head_total = np.cumsum(head, axis=1)
    tail_total = np.cumsum(tail[:, ::-1], axis=1)[:, ::-1]
    anchor = np.repeat(before, n)

    total = np.empty((blocks, n))
    total[:, n - 1] = head_total[:, n - 1]
    total[1:, : n - 1] = tail_total[:-1, 1:] + head_total[1:, : n - 1]
    out_weighted = np.full((blocks, n), np.nan)
    if weighted:
        weights = np.arange(1, n + 1, dtype=np.float64)
        head_weighted = np.cumsum(head * weights, axis=1)
        tail_weighted = np.cumsum(tail_total[:, ::-1], axis=1)[:, ::-1]
        missing = (n - 1 - np.arange(n - 1)).astype(np.float64)
        out_weighted[:, n - 1] = head_weighted[:, n - 1]
        out_weighted[1:, : n - 1] = tail_weighted[:-1, 1:] + (
            head_weighted[1:, : n - 1] + missing * head_total[1:, : n - 1]
        )
    out_squares = np.full((blocks, n), np.nan)
    if squares:
        head_squares = np.cumsum(head * head, axis=1)
        tail_squares = np.cumsum((tail * tail)[:, ::-1], axis=1)[:, ::-1]
        out_squares[:, n - 1] = head_squares[:, n - 1]
        out_squares[1:, : n - 1] = tail_squares[:-1, 1:] + head_squares[1:, : n - 1]
    # The first block's head is not a full window yet.
    total[0, : n - 1] = np.nan
    out_weighted[0, : n - 1] = np.nan
    out_squares[0, : n - 1] = np.nan
    anchor[: n - 1] = np.nan
    return WindowSums(
        anchor[:size],
        total.reshape(-1)[:size],
        out_weighted.reshape(-1)[:size],
        out_squares.reshape(-1)[:size],
    )


class RollingExtreme:
    """Highest (or lowest) of the last ``period`` inputs and how many inputs ago it came."""

    __slots__ = ("_count", "_sign", "_window", "age", "period", "value")

    def __init__(self, period: int, *, highest: bool) -> None:
        self.period = check_period("period", period)
        self._sign = 1.0 if highest else -1.0
        self._window: deque[tuple[int, float]] = deque()
        self.reset()

    def reset(self) -> None:
        """Forget every input."""
        self._window.clear()
        self._count = 0
        #: The extreme of the inputs seen so far in the window (of fewer inputs at first).
        self.value = 0.0
        #: Inputs since the extreme; the most recent one when several tie.
        self.age = 0

    def update(self, x: float) -> None:
        """Take one input."""
        index = self._count
        self._count = index + 1
        keyed = self._sign * x
        window = self._window
        # Amortised O(1): each input is pushed once and popped at most once.
        while window and window[-1][1] <= keyed:
            window.pop()
        window.append((index, keyed))
        if window[0][0] <= index - self.period:
            window.popleft()
        first, best = window[0]
        self.value = self._sign * best
        self.age = index - first


def rolling_max(values: FloatArray, period: int) -> FloatArray:
    """Highest of the last ``period`` values; NaN before a full window."""
    return _extreme(values, period, highest=True)


def rolling_min(values: FloatArray, period: int) -> FloatArray:
    """Lowest of the last ``period`` values; NaN before a full window."""
    return _extreme(values, period, highest=False)


def rolling_age_of_max(values: FloatArray, period: int) -> FloatArray:
    """Values since the most recent highest of the last ``period``; NaN before a full window."""
    return _age(values, period, highest=True)


def rolling_age_of_min(values: FloatArray, period: int) -> FloatArray:
    """Values since the most recent lowest of the last ``period``; NaN before a full window."""
    return _age(values, period, highest=False)


def _extreme(values: FloatArray, period: int, *, highest: bool) -> FloatArray:
    check_period("period", period)
    out = nan_series(len(values))
    if len(values) >= period:
        windows = sliding_window_view(values, period)
        out[period - 1 :] = windows.max(axis=1) if highest else windows.min(axis=1)
    return out


def _age(values: FloatArray, period: int, *, highest: bool) -> FloatArray:
    check_period("period", period)
    out = nan_series(len(values))
    if len(values) >= period:
        newest_first = sliding_window_view(values, period)[:, ::-1]
        found = newest_first.argmax(axis=1) if highest else newest_first.argmin(axis=1)
        out[period - 1 :] = found
    return out
