"""ccxt's Binance client, set up for spot, and told to keep what Binance said.

ccxt turns an error response into an exception whose text is all that is left of it, and
for some answers not even the code survives. ``InstrumentedBinance`` is ccxt's own client
with one hook: it hands every response's headers to the rate budget (``X-MBX-USED-WEIGHT-1M``
and friends) and attaches Binance's HTTP status, error code, message and ``Retry-After`` to
the exception it raises, as ``exc.binance`` (a :class:`BinanceErrorDetail`). The hook runs
in the task that made the request, so concurrent requests never see each other's answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async

from foxtrot.execution.venues.binance.settings import BinanceSettings

__all__ = ["BinanceErrorDetail", "InstrumentedBinance", "binance_detail", "connect_exchange"]

HeadersObserver = Callable[[Mapping[str, str]], None]


@dataclass(frozen=True, slots=True)
class BinanceErrorDetail:
    """What Binance answered when a request failed."""

    http_status: int | None
    code: str | None
    msg: str
    retry_after_s: float | None = None

    @property
    def reason_code(self) -> str:
        """Binance's error code ("-2010"), or the HTTP status when there is none."""
        if self.code is not None:
            return self.code
        return f"HTTP_{self.http_status}" if self.http_status is not None else "UNKNOWN"


def binance_detail(exc: BaseException) -> BinanceErrorDetail | None:
    """What Binance said in the response that raised ``exc``, if it came from a response."""
    detail = getattr(exc, "binance", None)
    return detail if isinstance(detail, BinanceErrorDetail) else None


def _detail(status: int | None, body: str | None, headers: Mapping[str, str]) -> BinanceErrorDetail:
    code: str | None = None
    msg = (body or "").strip()
    try:
        parsed: Any = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        code = str(parsed["code"]) if "code" in parsed else None
        msg = str(parsed.get("msg", msg))
        # A failed cancel-replace wraps the reason for its failure (-2022 around -2011).
        data = parsed.get("data")
        inner = data.get("cancelResponse") if isinstance(data, dict) else None
        if isinstance(inner, dict) and "code" in inner:
            code, msg = str(inner["code"]), str(inner.get("msg", msg))
    retry_after: float | None = None
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                retry_after = float(value)
            except ValueError:
                retry_after = None
    return BinanceErrorDetail(status, code, msg, retry_after)


class InstrumentedBinance(ccxt_async.binance):  # type: ignore[misc]
    """ccxt's async Binance client that reports headers and keeps Binance's error details."""

    def __init__(self, config: dict[str, Any], on_headers: HeadersObserver) -> None:
        super().__init__(config)
        self._on_headers = on_headers

    def handle_errors(
        self,
        code: int,
        reason: str,
        url: str,
        method: str,
        headers: dict[str, str],
        body: str,
        response: object,
        request_headers: object,
        request_body: object,
    ) -> Any:
        """ccxt's error handling, with the headers observed and the details attached."""
        if headers:
            self._on_headers(headers)
        try:
            return super().handle_errors(
                code, reason, url, method, headers, body, response, request_headers, request_body
            )
        except ccxt.BaseError as exc:
            exc.binance = _detail(code, body, headers or {})
            raise

    def handle_http_status_code(
        self, http_status_code: int, http_status_text: str, url: str, method: str, body: str
    ) -> Any:
        """ccxt's mapping of bare HTTP statuses (5xx ...), with the status attached."""
        try:
            return super().handle_http_status_code(
                http_status_code, http_status_text, url, method, body
            )
        except ccxt.BaseError as exc:
            if binance_detail(exc) is None:
                exc.binance = _detail(http_status_code, body, {})
            raise


def connect_exchange(settings: BinanceSettings, on_headers: HeadersObserver) -> InstrumentedBinance:
    """A ccxt client for the spot account in ``settings`` (nothing is fetched yet)."""
    exchange = InstrumentedBinance(
        {
            "apiKey": settings.api_key,
            "secret": settings.api_secret,
            # The shared RateBudget paces requests per API key; ccxt's own limiter is per
            # client object and would only add a second, uncoordinated delay.
            "enableRateLimit": False,
            "timeout": int(settings.request_timeout_s * 1000),
            "options": {
                "defaultType": "spot",
                "fetchMarkets": {"types": ["spot"]},
                # Currencies come from sapi, which the testnet lacks: markets are enough.
                "fetchCurrencies": False,
                "fetchMargins": False,
                "recvWindow": settings.recv_window_ms,
                "adjustForTimeDifference": False,
            },
        },
        on_headers,
    )
    if settings.testnet:
        exchange.set_sandbox_mode(True)
    if settings.rest_url is not None:
        base = settings.rest_url.rstrip("/")
        api = exchange.urls["api"]
        # Every API family goes to the override, so a call the fake does not serve fails
        # there (404) instead of leaving for the real Binance.
        for name, url in list(api.items()):
            if isinstance(url, str):
                api[name] = f"{base}/unserved/{name}"
        api["public"] = api["private"] = f"{base}/api/v3"
        api["v1"] = f"{base}/api/v1"
    return exchange
