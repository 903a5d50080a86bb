"""Binance's public REST API: order book snapshots for the feed, and the symbols' trading
rules (exchangeInfo) for market data's instrument definitions.

Binance answers 429 when a client goes over its request weight and 418 when it kept
going after a 429 (the IP is then banned for a while); both carry ``Retry-After`` in
seconds. :class:`RateLimited` hands that on, so the caller can stop asking for at least
that long instead of making the ban longer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx

from foxtrot.common.errors import InfrastructureError, MalformedMessage

__all__ = ["BinanceRest", "RateLimited"]

DEPTH_PATH = "/api/v3/depth"
EXCHANGE_INFO_PATH = "/api/v3/exchangeInfo"


class RateLimited(InfrastructureError):
    """Binance refused a request for going over its limits (HTTP 429 or 418)."""

    def __init__(self, status: int, retry_after: float | None, detail: str) -> None:
        wait = "no Retry-After" if retry_after is None else f"retry after {retry_after:g} s"
        super().__init__(f"Binance answered {status} ({wait}): {detail}")
        self.status = status
        self.retry_after = retry_after


class BinanceRest:
    """Binance's public REST endpoints over one shared HTTP client."""

    def __init__(
        self, base_url: str, client: httpx.AsyncClient | None = None, timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._owned = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=timeout)

    async def depth(self, symbol: str, limit: int) -> Any:
        """The decoded JSON of ``GET /api/v3/depth``; RateLimited or InfrastructureError else.

        Raises httpx.HTTPError when the venue cannot be reached at all.
        """
        return await self._get(DEPTH_PATH, {"symbol": symbol, "limit": limit})

    async def exchange_info(self, symbols: Iterable[str]) -> Any:
        """The decoded JSON of ``GET /api/v3/exchangeInfo`` for ``symbols``; errors as for
        :meth:`depth`."""
        wanted = json.dumps(sorted(symbols), separators=(",", ":"))
        return await self._get(EXCHANGE_INFO_PATH, {"symbols": wanted})

    async def _get(self, path: str, params: dict[str, Any]) -> Any:
        where = f"GET {path}?" + "&".join(f"{k}={v}" for k, v in params.items())
        response = await self._client.get(f"{self.base_url}{path}", params=params)
        if response.status_code in (418, 429):
            raise RateLimited(response.status_code, _retry_after(response), response.text[:200])
        if response.status_code != 200:
            raise InfrastructureError(
                f"{where}: expected 200, found {response.status_code} {response.text[:200]!r}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise MalformedMessage(where, f"expected JSON, found {response.text[:80]!r}") from exc

    async def aclose(self) -> None:
        """Close the HTTP client if this object opened it."""
        if self._owned:
            await self._client.aclose()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare from Binance, and the backoff covers it
    return None if seconds is None or seconds < 0 else seconds
