"""Execution's settings, read from the environment."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from pydantic import Field, SecretStr

from foxtrot.common.errors import ConfigurationError
from foxtrot.common.settings import ServiceSettings
from foxtrot.core.fill_model import FillModel
from foxtrot.core.venue import SimulatedVenue
from foxtrot.core.venue_port import Venue

__all__ = ["ExecutionSettings"]


class ExecutionSettings(ServiceSettings):
    """The venue orders go to (simulated, or Binance spot) and the account they settle in."""

    http_port: int = 8083
    venue_adapter: Literal["simulated", "binance"] = Field(
        default="simulated", description="simulated: paper trading; binance: Binance spot"
    )
    binance_api_key: SecretStr = SecretStr("")
    binance_api_secret: SecretStr = SecretStr("")
    binance_testnet: bool = Field(
        default=True, description="trade on testnet.binance.vision; false trades real money"
    )
    binance_rest_url: str | None = Field(
        default=None, description="replaces Binance's REST host (a local fake in tests)"
    )
    binance_ws_api_url: str | None = None
    venue: str = Field(default="SIM", pattern=r"^[A-Za-z0-9_\-]+$")
    account_id: str = "SIM-001"
    settlement_currency: str = "USD"
    starting_balance: Decimal = Field(
        default=Decimal("1000000"), description="opening balance in the settlement currency"
    )
    starting_balances: dict[str, Decimal] = Field(
        default_factory=dict,
        description='more opening balances per currency, as JSON: {"BTC": "2", "USDT": "5000"}',
    )
    taker_fee: Decimal = Field(default=Decimal("0.0004"), ge=0)
    maker_fee: Decimal = Field(default=Decimal("0.0002"), ge=0)
    latency_ms: float = Field(default=0.0, ge=0, description="order, modify and cancel latency")
    slippage_bps: Decimal = Field(default=Decimal(0), ge=0)
    prob_slippage: float = Field(default=0.0, ge=0, le=1)
    prob_fill_at_limit: float = Field(default=1.0, ge=0, le=1)
    bar_volume_share: Decimal = Field(default=Decimal(1), gt=0, le=1)
    seed: int = 0
    tick_interval_s: float = Field(
        default=0.25, gt=0, description="how often time advances without data (expiry, latency)"
    )

    def opening_balances(self) -> dict[str, Decimal]:
        """The paper account's balances per currency before anything has traded."""
        return {self.settlement_currency: self.starting_balance, **self.starting_balances}

    def venue_factory(self) -> Callable[[], Venue]:
        """What makes the venue orders go to, as ``FOXTROT_VENUE_ADAPTER`` says."""
        if self.venue_adapter == "simulated":
            return self.simulated_venue
        # Imported here: ccxt takes seconds to import, and paper trading does not need it.
        from foxtrot.execution.venues.binance import BinanceSettings, BinanceVenue

        key, secret = (
            self.binance_api_key.get_secret_value(),
            self.binance_api_secret.get_secret_value(),
        )
        if not key or not secret:
            raise ConfigurationError(
                "FOXTROT_VENUE_ADAPTER=binance needs FOXTROT_BINANCE_API_KEY and "
                "FOXTROT_BINANCE_API_SECRET"
            )
        binance = BinanceSettings(
            key,
            secret,
            testnet=self.binance_testnet,
            rest_url=self.binance_rest_url,
            ws_api_url=self.binance_ws_api_url,
            venue=self.venue,
            settlement_currency=self.settlement_currency,
        )
        return lambda: BinanceVenue(binance)

    def simulated_venue(self) -> SimulatedVenue:
        """A simulated venue as these settings describe it."""
        return SimulatedVenue(
            self.venue,
            self.settlement_currency,
            self.taker_fee,
            self.maker_fee,
            latency_ns=int(self.latency_ms * 1_000_000),
            fill_model=FillModel(
                slippage_bps=self.slippage_bps,
                prob_slippage=self.prob_slippage,
                prob_fill_at_limit=self.prob_fill_at_limit,
                bar_volume_share=self.bar_volume_share,
            ),
            seed=self.seed,
        )
