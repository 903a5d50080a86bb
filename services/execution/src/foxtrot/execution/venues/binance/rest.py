"""Binance spot REST calls through ccxt, under the rate budget, retry policy and breaker.

Every call: the breaker must be closed (or let a trial through), the call's weight is taken
from the API key's budget, then ccxt sends it. A transient failure is retried after a
jittered backoff, a 429 after its Retry-After (the whole budget pauses for it), a 418 is
never retried and opens the breaker for the ban. Refusals are raised as ccxt raised them.

Placing an order is made idempotent by its client order id: when an attempt ends without
an answer (a timeout, a dropped connection) the order may exist at the venue all the same,
so before trying again the order is looked up by that id, and a "Duplicate order sent."
refusal is answered by the same lookup. An order is never placed twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import ccxt

from foxtrot.execution.venues.binance.errors import VenueCallFailed, VenueUnavailable
from foxtrot.execution.venues.binance.exchange import InstrumentedBinance, binance_detail
from foxtrot.execution.venues.binance.limits import ENDPOINT_COSTS, RateBudget, Sleep
from foxtrot.execution.venues.binance.mapping import OrderRequest
from foxtrot.execution.venues.binance.resilience import CircuitBreaker, RetryPolicy, is_transient

__all__ = ["BinanceRest", "RawOrder"]

_log = logging.getLogger(__name__)
T = TypeVar("T")
RawOrder = dict[str, Any]
"""An order as Binance's REST API describes it (``orderId``, ``clientOrderId``, ``status`` ...)."""

_DUPLICATE = "Duplicate order sent."
_UNKNOWN = frozenset({"-1006", "-1007"})


class BinanceRest:
    """The adapter's way to Binance's REST API."""

    def __init__(
        self,
        exchange: InstrumentedBinance,
        budget: RateBudget,
        breaker: CircuitBreaker,
        retry: RetryPolicy,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.exchange = exchange
        self.budget = budget
        self.breaker = breaker
        self.retry = retry
        self._sleep = sleep

    async def call(
        self,
        endpoint: str,
        request: Callable[[], Awaitable[T]],
        recover: Callable[[], Awaitable[T | None]] | None = None,
    ) -> T:
        """Make one request with retries; ``recover`` looks for the effect of an attempt
        that got no answer and, when it finds one, stands in for the answer."""
        cost = ENDPOINT_COSTS[endpoint]
        unanswered = False
        for attempt in range(self.retry.max_attempts):
            if unanswered and recover is not None:
                found = await self._recover(recover)
                if found is not None:
                    return found
            try:
                self.breaker.before_call()
            except VenueUnavailable as exc:
                if unanswered:  # an earlier attempt may have been carried out
                    raise VenueCallFailed(f"{endpoint}: outcome unknown; {exc}") from exc
                raise
            await self.budget.acquire(cost, self._sleep)
            try:
                result = await request()
            except ccxt.BaseError as exc:
                detail = binance_detail(exc)
                status = detail.http_status if detail is not None else None
                if status == 418:
                    ban = (detail.retry_after_s if detail else None) or self.breaker.reset_timeout_s
                    self.breaker.trip(ban, f"HTTP 418 IP ban on {endpoint}")
                    raise VenueUnavailable(
                        f"Binance banned this IP for {ban:.0f}s ({detail.msg if detail else ''})"
                    ) from exc
                if not is_transient(exc):
                    self.breaker.record_success()  # the venue answered: it is up
                    raise
                self.breaker.record_failure(f"{type(exc).__name__} on {endpoint}")
                # No status, a 5xx or "execution status unknown": it may have been carried out.
                code = detail.code if detail is not None else None
                unanswered = unanswered or status is None or status >= 500 or code in _UNKNOWN
                if attempt + 1 == self.retry.max_attempts:
                    raise VenueCallFailed(
                        f"{endpoint} failed {self.retry.max_attempts} times, last: {exc}"
                    ) from exc
                if status == 429 or (detail is not None and detail.code == "-1003"):
                    wait = detail.retry_after_s if detail and detail.retry_after_s else None
                    # The whole key's budget waits out the Retry-After, not just this call.
                    self.budget.pause(wait if wait is not None else self.retry.delay(attempt))
                    _log.warning("Binance rate limit on %s; pausing the budget", endpoint)
                else:
                    delay = self.retry.delay(attempt)
                    _log.warning("%s on %s, retry in %.2fs", type(exc).__name__, endpoint, delay)
                    await self._sleep(delay)
            else:
                self.breaker.record_success()
                return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _recover(self, recover: Callable[[], Awaitable[T | None]]) -> T | None:
        try:
            return await recover()
        except ccxt.BaseError as exc:
            if is_transient(exc):
                return None  # still no way to know: the next attempt looks again
            raise

    # --- the endpoints the adapter uses ---------------------------------------------------

    async def load_markets(self) -> dict[str, Any]:
        """Symbols and their filters (exchangeInfo)."""
        markets: dict[str, Any] = await self.call(
            "exchangeInfo", lambda: self.exchange.load_markets(reload=True)
        )
        return markets

    async def find_order(self, symbol: str, client_id: str) -> RawOrder | None:
        """The order placed under ``client_id``, or None when the venue has none."""

        async def query() -> RawOrder | None:
            try:
                order = await self.exchange.fetch_order(
                    "", symbol, {"origClientOrderId": client_id}
                )
            except ccxt.OrderNotFound:
                return None
            info: RawOrder = order["info"]
            return info

        return await self.call("queryOrder", query)

    async def place_order(self, symbol: str, client_id: str, request: OrderRequest) -> RawOrder:
        """Place an order at most once; returns the venue's view of it."""

        async def create() -> RawOrder:
            try:
                order = await self.exchange.create_order(
                    symbol,
                    request.kind,
                    request.side,
                    request.amount,
                    request.price,
                    {**request.params, "newClientOrderId": client_id},
                )
            except ccxt.InvalidOrder as exc:
                detail = binance_detail(exc)
                if detail is not None and detail.msg == _DUPLICATE:
                    # An earlier attempt landed after all: its order is the answer.
                    found = await self.exchange.fetch_order(
                        "", symbol, {"origClientOrderId": client_id}
                    )
                    existing: RawOrder = found["info"]
                    return existing
                raise
            info: RawOrder = order["info"]
            return info

        return await self.call(
            "newOrder", create, recover=lambda: self.find_order(symbol, client_id)
        )

    async def cancel_order(self, symbol: str, client_id: str) -> RawOrder:
        """Cancel the order placed under ``client_id``."""

        async def cancel() -> RawOrder:
            order = await self.exchange.cancel_order("", symbol, {"origClientOrderId": client_id})
            info: RawOrder = order["info"]
            return info

        return await self.call("cancelOrder", cancel)

    async def replace_order(
        self,
        symbol: str,
        client_id: str,
        request: OrderRequest,
    ) -> dict[str, Any]:
        """Cancel and replace an order in one request (cancelReplace, STOP_ON_FAILURE); the
        new order keeps the client id. Returns Binance's answer: both halves of it."""
        params = {
            **request.params,
            "cancelOrigClientOrderId": client_id,
            "newClientOrderId": client_id,
        }

        async def replace() -> dict[str, Any]:
            # ccxt's edit_order keeps only the new order; the canceled half says how much
            # the old order filled, so the raw endpoint is called with ccxt's own request.
            payload = self.exchange.edit_spot_order_request(
                "", symbol, request.kind, request.side, request.amount, request.price, params
            )
            response: dict[str, Any] = await self.exchange.privatePostOrderCancelReplace(payload)
            return response

        return await self.call("cancelReplace", replace)

    async def open_orders(self, symbol: str) -> list[RawOrder]:
        """The account's open orders in one symbol."""
        orders = await self.call("openOrders", lambda: self.exchange.fetch_open_orders(symbol))
        return [o["info"] for o in orders]

    async def balances(self) -> dict[str, Decimal]:
        """The spot account's total (free + locked) per asset, zero balances left out."""
        account: dict[str, Any] = await self.call("account", lambda: self.exchange.fetch_balance())
        found: dict[str, Decimal] = {}
        for row in account["info"]["balances"]:
            total = Decimal(row["free"]) + Decimal(row["locked"])
            if total:
                found[row["asset"]] = total
        return found

    async def my_trades(self, symbol: str, since_ms: int | None = None) -> list[dict[str, Any]]:
        """The account's trades in one symbol (oldest first), from ``since_ms`` if given."""
        trades = await self.call(
            "myTrades", lambda: self.exchange.fetch_my_trades(symbol, since_ms, 1000)
        )
        return [t["info"] for t in trades]
