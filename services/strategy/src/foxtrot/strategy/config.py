"""Strategy's settings, read from the environment."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from foxtrot.common.settings import ServiceSettings
from foxtrot.core.identifiers import AccountId, InstrumentId, StrategyId
from foxtrot.core.strategies.sma_cross import SmaCrossConfig

__all__ = ["StrategySettings"]


class StrategySettings(ServiceSettings):
    """The sample SMA-crossover instance this service hosts."""

    http_port: int = 8081
    strategy_id: str = Field(default="sma-cross-1", pattern=r"^[A-Za-z0-9_\-]+$")
    account_id: str = "SIM-001"
    instrument_id: str = "BTC-PERP.FTX"
    bar_spec: str = "1m"
    fast_period: int = Field(default=10, ge=1)
    slow_period: int = Field(default=30, ge=2)
    trade_size: Decimal = Field(default=Decimal("0.01"), gt=0)

    def sma_cross(self) -> SmaCrossConfig:
        """The strategy's domain configuration."""
        return SmaCrossConfig(
            StrategyId(self.strategy_id),
            AccountId(self.account_id),
            InstrumentId.parse(self.instrument_id),
            self.bar_spec,
            self.fast_period,
            self.slow_period,
            self.trade_size,
        )
