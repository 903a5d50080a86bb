"""Exponential backoff with full jitter, for reconnecting and for retrying REST calls.

The n-th delay in a row (from 0) is drawn uniformly from ``[0, min(cap, base * 2**n)]``.
Full jitter spreads the retries of many clients that lost the venue at the same moment, so
they do not come back in lockstep; the random generator is passed in so tests can seed it.
"""

from __future__ import annotations

import math
import random

__all__ = ["Backoff"]

_MAX_EXPONENT = 62  # base * 2**62 dwarfs any cap; larger exponents would only overflow


class Backoff:
    """Successive retry delays in seconds: exponential growth, full jitter, a cap."""

    def __init__(self, base: float, cap: float, rng: random.Random | None = None) -> None:
        if not base > 0:
            raise ValueError(f"backoff base must be above 0 seconds, was {base}")
        if cap < base:
            raise ValueError(f"backoff cap must be at least the base {base} s, was {cap}")
        self.base = base
        self.cap = cap
        self._rng = rng if rng is not None else random.Random()
        self.attempts = 0

    def ceiling(self) -> float:
        """The largest delay the next call can return."""
        return min(self.cap, math.ldexp(self.base, min(self.attempts, _MAX_EXPONENT)))

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        delay = self._rng.uniform(0, self.ceiling())
        self.attempts += 1
        return delay

    def reset(self) -> None:
        """Start again from the base: the last attempt succeeded."""
        self.attempts = 0
