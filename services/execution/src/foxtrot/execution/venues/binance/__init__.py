"""Binance spot through ccxt: the venue adapter, its settings, limits and resilience.

The fake server for tests lives in :mod:`.fake_server` (with :mod:`.fake_account`) and is
not imported here.
"""

from foxtrot.execution.venues.binance.adapter import NATIVE_ORDER_TYPES, BinanceVenue
from foxtrot.execution.venues.binance.errors import (
    BinanceVenueError,
    ReconciliationError,
    VenueCallFailed,
    VenueUnavailable,
)
from foxtrot.execution.venues.binance.limits import RATE_BUDGETS, RateBudget, RateBudgetRegistry
from foxtrot.execution.venues.binance.reconciliation import ForeignOrder, Reconciliation
from foxtrot.execution.venues.binance.resilience import CircuitBreaker, RetryPolicy
from foxtrot.execution.venues.binance.settings import BinanceSettings

__all__ = [
    "NATIVE_ORDER_TYPES",
    "RATE_BUDGETS",
    "BinanceSettings",
    "BinanceVenue",
    "BinanceVenueError",
    "CircuitBreaker",
    "ForeignOrder",
    "RateBudget",
    "RateBudgetRegistry",
    "Reconciliation",
    "ReconciliationError",
    "RetryPolicy",
    "VenueCallFailed",
    "VenueUnavailable",
]
