"""Strategy's settings, read from the environment."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from pydantic import Field

from foxtrot.common.settings import ServiceSettings

__all__ = ["SEED_STRATEGY", "StrategySettings"]

# The strategy of the instance a first start creates (a path, so it needs no entry point).
SEED_STRATEGY: Final = "foxtrot.core.strategies.sma_cross:SmaCross"


class StrategySettings(ServiceSettings):
    """How the strategy service hosts its instances, runs backtests, and the instance it
    creates on its first start.

    Instances live in PostgreSQL and change through ``ctl.v1.strategy.*`` (or the gateway).
    When the instances table is empty at start, the service creates and starts one SMA
    crossover from ``FOXTROT_STRATEGY_ID``, ``FOXTROT_INSTRUMENT_ID`` and the rest below
    (``FOXTROT_SEED_INSTANCE=false`` turns that off)."""

    http_port: int = 8081
    seed_instance: bool = Field(
        default=True, description="create the SMA crossover below when no instance exists"
    )
    strategy_id: str = Field(default="sma-cross-1", pattern=r"^[A-Za-z0-9_\-]+$")
    account_id: str = "SIM-001"
    instrument_id: str = "BTC-PERP.FTX"
    bar_spec: str = "1m"
    fast_period: int = Field(default=10, ge=1)
    slow_period: int = Field(default=30, ge=2)
    trade_size: Decimal = Field(default=Decimal("0.01"), gt=0)

    fill_wait_s: float = Field(
        default=2.0,
        ge=0,
        description="how long a bar waits for the fill of a market order still open in its "
        "instrument, so the strategy learns of it first, as in a backtest",
    )
    save_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="how often instances that changed save their state (and acknowledge what "
        "they read)",
    )
    save_backlog: int = Field(
        default=500, ge=1, description="messages an instance reads before it saves at once"
    )
    snapshot_timeout_s: float = Field(
        default=3.0, gt=0, description="how long to wait for execution's orders and positions"
    )
    snapshot_retry_s: float = Field(
        default=1.0, gt=0, description="how often to ask again while execution is away"
    )
    control_wait_s: float = Field(
        default=10.0,
        gt=0,
        description="how long a control request waits for the instances to be restored at start",
    )
    backtest_workers: int = Field(
        default=1, ge=1, le=64, description="worker processes that run backtests"
    )

    def seed(self) -> tuple[str, dict[str, Any]]:
        """The strategy and config of the instance a first start creates."""
        return SEED_STRATEGY, {
            "strategy_id": self.strategy_id,
            "account_id": self.account_id,
            "instrument_id": self.instrument_id,
            "bar_spec": self.bar_spec,
            "fast_period": self.fast_period,
            "slow_period": self.slow_period,
            "trade_size": str(self.trade_size),
        }
