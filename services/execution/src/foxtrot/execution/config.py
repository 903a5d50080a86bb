"""Execution's settings, read from the environment."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from foxtrot.common.settings import ServiceSettings
from foxtrot.core.fill_model import FillModel
from foxtrot.core.venue import SimulatedVenue

__all__ = ["ExecutionSettings"]


class ExecutionSettings(ServiceSettings):
    """The simulated venue and the paper account it settles into."""

    http_port: int = 8083
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
