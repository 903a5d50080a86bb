"""Retries with capped exponential backoff and full jitter, and a circuit breaker.

Only transient failures are retried: timeouts, connection failures, the venue being
unavailable and rate limiting (the ccxt ``NetworkError`` family, HTTP 5xx and Binance's
"try again" codes). A venue's refusal
(insufficient balance, a filter failure, an unknown order, bad credentials) is an answer,
not a failure, and is never retried. An HTTP 418 (IP banned) is not retried either: it
opens the breaker until the ban ends.

The breaker opens after ``failure_threshold`` failed calls in a row, refuses every call
while open, lets one trial call through once ``reset_timeout_s`` has passed (half-open),
and closes again when that call succeeds.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import ccxt

from foxtrot.execution.venues.binance.errors import VenueUnavailable

__all__ = ["BreakerState", "CircuitBreaker", "RetryPolicy", "is_transient"]

Clock = Callable[[], float]


# Binance codes that mean "try again": -1001 internal error / disconnected, -1003 too much
# weight, -1006 and -1007 no answer from the matching engine (outcome unknown), -1008
# server overloaded.
_TRANSIENT_CODES = frozenset({"-1001", "-1003", "-1006", "-1007", "-1008"})


def is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying: ccxt's NetworkError family, Binance's 5xx and
    "try again" codes; never an IP ban (418)."""
    detail = getattr(exc, "binance", None)
    status = getattr(detail, "http_status", None)
    if status == 418:
        return False
    if isinstance(exc, ccxt.NetworkError):
        return True
    return (status is not None and status >= 500) or getattr(detail, "code", None) in (
        _TRANSIENT_CODES
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries; the n-th wait is uniform in [0, min(max_delay, base * 2**n)]."""

    max_attempts: int = 4
    base_delay_s: float = 0.2
    max_delay_s: float = 5.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, was {self.max_attempts}")
        if not 0 < self.base_delay_s <= self.max_delay_s:
            raise ValueError(
                "base_delay_s must be positive and at most max_delay_s, was "
                f"{self.base_delay_s} and {self.max_delay_s}"
            )

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        # Full jitter: callers that failed together spread out instead of retrying in step.
        ceiling = min(self.max_delay_s, self.base_delay_s * 2**retry)
        return self.rng.uniform(0.0, ceiling)


class BreakerState(StrEnum):
    """Where a circuit breaker is."""

    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class CircuitBreaker:
    """Stops calling a venue that keeps failing, or that banned us, for a while."""

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout_s: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or reset_timeout_s <= 0:
            raise ValueError("failure_threshold must be at least 1 and reset_timeout_s positive")
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._failures = 0
        self._open_until: float | None = None
        self._reason = ""
        self._trial_out = False

    @property
    def state(self) -> BreakerState:
        """CLOSED, OPEN, or HALF_OPEN once the open period has passed."""
        if self._open_until is None:
            return BreakerState.CLOSED
        if self._clock() < self._open_until:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def before_call(self) -> None:
        """Raise VenueUnavailable unless a call may go out now."""
        state = self.state
        if state is BreakerState.OPEN:
            assert self._open_until is not None
            left = self._open_until - self._clock()
            raise VenueUnavailable(
                f"circuit open for another {left:.1f}s after {self._reason}; call refused"
            )
        if state is BreakerState.HALF_OPEN:
            if self._trial_out:
                raise VenueUnavailable(f"circuit half-open after {self._reason}; trial in flight")
            self._trial_out = True

    def record_success(self) -> None:
        """A call went through: close the circuit."""
        self._failures = 0
        self._open_until = None
        self._trial_out = False

    def record_failure(self, reason: str) -> None:
        """A call failed transiently; open after too many in a row (or a failed trial)."""
        self._failures += 1
        was_trial, self._trial_out = self._trial_out, False
        if was_trial or self._failures >= self.failure_threshold:
            self.trip(self.reset_timeout_s, reason)

    def trip(self, seconds: float, reason: str) -> None:
        """Open the circuit for ``seconds`` at least (an IP ban opens it for the ban)."""
        until = self._clock() + seconds
        if self._open_until is None or until > self._open_until:
            self._open_until = until
        self._reason = reason
        self._trial_out = False
