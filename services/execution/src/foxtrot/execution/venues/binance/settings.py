"""How to reach Binance spot: credentials, testnet switch and URL overrides for tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

__all__ = ["BinanceSettings"]

_WS_API_LIVE: Final = "wss://ws-api.binance.com:443/ws-api/v3"
_WS_API_TESTNET: Final = "wss://ws-api.testnet.binance.vision/ws-api/v3"


@dataclass(frozen=True, slots=True)
class BinanceSettings:
    """Connection settings of one Binance spot account."""

    api_key: str
    api_secret: str = field(repr=False)
    testnet: bool = False
    # A base like "http://127.0.0.1:8080" that replaces Binance's REST host (the fake server);
    # ccxt's /api/v3 paths are kept under it.
    rest_url: str | None = None
    # The WebSocket API endpoint the user data stream subscribes on; derived when None.
    ws_api_url: str | None = None
    venue: str = "BINANCE"
    settlement_currency: str = "USDT"
    request_timeout_s: float = 10.0
    recv_window_ms: int = 5000

    def __post_init__(self) -> None:
        if not self.api_key or not self.api_secret:
            raise ValueError("api_key and api_secret must both be given")
        if self.request_timeout_s <= 0:
            raise ValueError(f"request_timeout_s must be positive, was {self.request_timeout_s}")

    @property
    def user_stream_url(self) -> str:
        """Where the user data stream subscribes: the override, else live or testnet."""
        if self.ws_api_url is not None:
            return self.ws_api_url
        if self.rest_url is not None:
            base = self.rest_url.rstrip("/").replace("https://", "wss://", 1)
            return base.replace("http://", "ws://", 1) + "/ws-api/v3"
        return _WS_API_TESTNET if self.testnet else _WS_API_LIVE
