"""Errors the Binance adapter raises (venue refusals become order events, not errors).

BinanceVenueError
├── VenueUnavailable       the circuit breaker is open: the venue failed or banned our IP
├── VenueCallFailed        a request failed for good (retries spent, or not retryable)
└── ReconciliationError    the venue's state could not be fetched or could not be explained
"""

from __future__ import annotations

__all__ = [
    "BinanceVenueError",
    "ReconciliationError",
    "VenueCallFailed",
    "VenueUnavailable",
]


class BinanceVenueError(Exception):
    """Base class of every error the Binance adapter raises."""


class VenueUnavailable(BinanceVenueError):
    """A call was refused locally because the circuit breaker is open."""


class VenueCallFailed(BinanceVenueError):
    """A request to the venue failed and will not be retried."""


class ReconciliationError(BinanceVenueError):
    """Foxtrot's orders and the venue's could not be brought in line."""
