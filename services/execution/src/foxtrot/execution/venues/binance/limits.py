"""Binance's rate limits as token buckets, one budget per API key shared by every adapter.

Binance spot counts REQUEST_WEIGHT (6,000 per minute) and ORDERS (100 per 10 seconds and
200,000 per day). Going over earns HTTP 429 and, kept up, an HTTP 418 IP ban, so every
request first takes its weight (and, for an order, one order) from the budget of its API
key; two adapters on one key therefore share one budget, and adapters on other keys don't.

A token bucket refills evenly, while Binance counts in fixed windows; the server's own
count (``X-MBX-USED-WEIGHT-1M``, ``X-MBX-ORDER-COUNT-10S`` on every response) is folded
back in, so the bucket never believes it has more than the server would allow.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "ENDPOINT_COSTS",
    "RATE_BUDGETS",
    "EndpointCost",
    "RateBudget",
    "RateBudgetRegistry",
    "TokenBucket",
]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class EndpointCost:
    """What one call of an endpoint takes from the budget."""

    weight: int
    orders: int = 0


# Request weights of the spot endpoints the adapter calls (Binance's API docs).
ENDPOINT_COSTS: Final[Mapping[str, EndpointCost]] = {
    "exchangeInfo": EndpointCost(20),
    "newOrder": EndpointCost(1, orders=1),
    "cancelOrder": EndpointCost(1),
    "cancelReplace": EndpointCost(1, orders=1),
    "queryOrder": EndpointCost(4),
    "openOrders": EndpointCost(6),  # with a symbol; 80 without
    "myTrades": EndpointCost(20),
    "account": EndpointCost(20),
    "userDataStream": EndpointCost(2),
}


class TokenBucket:
    """``capacity`` tokens that refill evenly over ``period_s`` seconds."""

    def __init__(self, capacity: float, period_s: float, clock: Clock = time.monotonic) -> None:
        if capacity <= 0 or period_s <= 0:
            raise ValueError(f"capacity and period must be positive, were {capacity}, {period_s}")
        self.capacity = capacity
        self.rate = capacity / period_s
        self._clock = clock
        self._tokens = capacity
        self._stamp = clock()
        self._blocked_until = 0.0

    @property
    def tokens(self) -> float:
        """Tokens available now."""
        self._refill()
        return self._tokens

    def wait_time(self, amount: float) -> float:
        """Seconds until ``amount`` tokens can be taken (0 when they can be now)."""
        if amount > self.capacity:
            raise ValueError(f"cannot take {amount} tokens from a bucket of {self.capacity}")
        self._refill()
        now = self._clock()
        blocked = max(0.0, self._blocked_until - now)
        short = max(0.0, amount - self._tokens)
        return max(blocked, short / self.rate)

    def take(self, amount: float) -> None:
        """Take ``amount`` tokens; callers check ``wait_time`` first."""
        self._refill()
        self._tokens -= amount

    def observe_used(self, used: float) -> None:
        """Fold in the server's count of what is used in its window: never believe in more."""
        self._refill()
        self._tokens = min(self._tokens, self.capacity - used)

    def block_for(self, seconds: float) -> None:
        """Hand out nothing for ``seconds`` (a 429's Retry-After)."""
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now


@dataclass(slots=True)
class RateBudget:
    """The request weight and order buckets of one Binance account."""

    request_weight: TokenBucket
    orders_10s: TokenBucket
    orders_day: TokenBucket
    waits: int = field(default=0)

    @classmethod
    def binance_spot(cls, clock: Clock = time.monotonic) -> RateBudget:
        """Binance spot's published limits."""
        return cls(
            request_weight=TokenBucket(6000, 60.0, clock),
            orders_10s=TokenBucket(100, 10.0, clock),
            orders_day=TokenBucket(200_000, 86_400.0, clock),
        )

    def wait_time(self, cost: EndpointCost) -> float:
        """Seconds until a call of this cost may go out."""
        wait = self.request_weight.wait_time(cost.weight)
        if cost.orders:
            wait = max(
                wait,
                self.orders_10s.wait_time(cost.orders),
                self.orders_day.wait_time(cost.orders),
            )
        return wait

    async def acquire(self, cost: EndpointCost, sleep: Sleep = asyncio.sleep) -> float:
        """Wait until the call fits in every bucket, take its cost; returns seconds waited."""
        waited = 0.0
        while (wait := self.wait_time(cost)) > 0:
            self.waits += 1
            await sleep(wait)
            waited += wait
        self.request_weight.take(cost.weight)
        if cost.orders:
            self.orders_10s.take(cost.orders)
            self.orders_day.take(cost.orders)
        return waited

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """Correct the buckets from the usage counts Binance puts on every response."""
        lowered = {k.lower(): v for k, v in headers.items()}
        for name, bucket in (
            ("x-mbx-used-weight-1m", self.request_weight),
            ("x-mbx-order-count-10s", self.orders_10s),
            ("x-mbx-order-count-1d", self.orders_day),
        ):
            value = lowered.get(name)
            if value is not None and value.isdigit():
                bucket.observe_used(float(value))

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds``: the server said so (HTTP 429 Retry-After)."""
        for bucket in (self.request_weight, self.orders_10s, self.orders_day):
            bucket.block_for(seconds)


class RateBudgetRegistry:
    """One RateBudget per API key, created on first use."""

    def __init__(self, factory: Callable[[], RateBudget] = RateBudget.binance_spot) -> None:
        self._factory = factory
        self._budgets: dict[str, RateBudget] = {}

    def budget_for(self, api_key: str) -> RateBudget:
        """The budget every adapter on ``api_key`` draws from."""
        # Keyed by a digest so the registry never holds the key itself (repr, dumps).
        digest = hashlib.sha256(api_key.encode()).hexdigest()
        budget = self._budgets.get(digest)
        if budget is None:
            budget = self._budgets[digest] = self._factory()
        return budget


RATE_BUDGETS: Final = RateBudgetRegistry()
"""The process-wide registry that adapters use unless given another."""
