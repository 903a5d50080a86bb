"""Execution's settings, read from the environment."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from foxtrot.common.settings import ServiceSettings

__all__ = ["ExecutionSettings"]


class ExecutionSettings(ServiceSettings):
    """The simulated venue and the paper account it settles into."""

    http_port: int = 8083
    venue: str = Field(default="SIM", pattern=r"^[A-Za-z0-9_\-]+$")
    account_id: str = "SIM-001"
    settlement_currency: str = "USD"
    starting_balance: Decimal = Decimal("1000000")
    taker_fee: Decimal = Field(default=Decimal("0.0004"), ge=0)
    maker_fee: Decimal = Field(default=Decimal("0.0002"), ge=0)
