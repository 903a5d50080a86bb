"""Errors raised by the pure domain.

DomainError
├── BookSequenceGap        order book deltas that do not follow on from the book
├── InvalidIdentifier      an id that does not parse ("BTCUSDT" without a venue)
├── InvalidOrderTransition an event that the order's current state does not allow
├── InvalidOrder           an order whose fields contradict each other
└── OrderNotWorking        a modify or cancel of an order that is not working
"""

from __future__ import annotations

__all__ = [
    "BookSequenceGap",
    "DomainError",
    "InvalidIdentifier",
    "InvalidOrder",
    "InvalidOrderTransition",
    "OrderNotWorking",
]


class DomainError(Exception):
    """Base class of every error the domain raises."""


class InvalidIdentifier(DomainError, ValueError):
    """An identifier that does not have the expected shape."""


class InvalidOrder(DomainError, ValueError):
    """An order whose fields contradict each other."""


class InvalidOrderTransition(DomainError):
    """An order event that is not allowed in the order's current state."""


class BookSequenceGap(DomainError):
    """Order book deltas that do not follow on from the book they are applied to."""


class OrderNotWorking(DomainError):
    """A modify or cancel of an order that is unknown, ended, or not acknowledged yet."""
