"""Order book snapshots for the feed: fetched politely, retried until the book follows on.

Every symbol's book starts from a REST snapshot, after a reconnect all of them at once.
Binance limits request weight per IP (a 1000-level snapshot weighs 50 of 6000 a minute),
so requests share one client, at most ``concurrency`` at a time; a 429 or 418 holds *all*
of them for ``max(Retry-After, backoff)`` seconds, and any other failure (unreachable,
5xx, a malformed body) retries that symbol after an exponential backoff with full jitter.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

import httpx
from prometheus_client import Counter

from foxtrot.common.errors import InfrastructureError, MalformedMessage
from foxtrot.core.book import OrderBookDeltas
from foxtrot.core.identifiers import InstrumentId
from foxtrot.market_data.adapters.binance.backoff import Backoff
from foxtrot.market_data.adapters.binance.book_builder import BookProgress
from foxtrot.market_data.adapters.binance.messages import parse_depth_snapshot
from foxtrot.market_data.adapters.binance.rest import BinanceRest, RateLimited

__all__ = ["SNAPSHOT_FAILURES", "BookSnapshots"]

log = logging.getLogger(__name__)
SNAPSHOT_FAILURES = Counter(
    "foxtrot_market_data_binance_snapshot_failures",
    "Order book snapshot requests that failed and were retried",
    ["venue", "reason"],
)

ApplySnapshot = Callable[[OrderBookDeltas], Awaitable[BookProgress]]


class BookSnapshots:
    """Fetches REST snapshots for the feed's books, sharing limits across symbols."""

    def __init__(
        self,
        rest: BinanceRest,
        *,
        venue: str,
        depth_limit: int,
        concurrency: int,
        backoff: tuple[float, float],
        rng: random.Random,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], int],
    ) -> None:
        self._rest = rest
        self._venue = venue
        self._depth_limit = depth_limit
        self._slots = asyncio.Semaphore(concurrency)
        self._backoff = backoff
        self._rng = rng
        self._sleep = sleep
        self._clock = clock
        self._open = asyncio.Event()
        self._open.set()
        self._holders = 0

    async def sync(self, instrument_id: InstrumentId, apply: ApplySnapshot) -> None:
        """Fetch snapshots and ``apply`` them until one leaves the book following the stream."""
        backoff = Backoff(*self._backoff, self._rng)
        symbol = instrument_id.symbol
        while True:
            await self._open.wait()
            try:
                async with self._slots:
                    body = await self._rest.depth(symbol, self._depth_limit)
                snapshot = parse_depth_snapshot(body, instrument_id, self._clock())
            except RateLimited as exc:
                delay = max(exc.retry_after or 0.0, backoff.next_delay())
                self._failed(symbol, "rate_limited", exc, delay)
                await self._hold_all(delay)
                continue
            except (httpx.HTTPError, InfrastructureError, MalformedMessage) as exc:
                delay = backoff.next_delay()
                reason = "malformed" if isinstance(exc, MalformedMessage) else "http"
                self._failed(symbol, reason, exc, delay)
                await self._sleep(delay)
                continue
            progress = await apply(snapshot)
            if not progress.needs_snapshot:
                return
            if progress.stale_snapshot:
                log.info("binance %s: %s snapshot older than the stream", self._venue, symbol)
            await self._sleep(backoff.next_delay())

    async def aclose(self) -> None:
        """Close the REST client."""
        await self._rest.aclose()

    def _failed(self, symbol: str, reason: str, exc: Exception, delay: float) -> None:
        SNAPSHOT_FAILURES.labels(self._venue, reason).inc()
        log.warning(
            "binance %s: %s snapshot failed (%s); retrying in %.2f s",
            self._venue,
            symbol,
            exc,
            delay,
        )

    async def _hold_all(self, delay: float) -> None:
        """Hold every snapshot request for ``delay`` seconds: limits are per IP."""
        self._holders += 1
        self._open.clear()
        try:
            await self._sleep(delay)
        finally:
            self._holders -= 1
            if self._holders == 0:
                self._open.set()
