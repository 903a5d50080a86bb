"""Market data's settings, read from the environment."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator

from foxtrot.common.settings import ServiceSettings
from foxtrot.core.aggregation import EmptyBarPolicy
from foxtrot.market_data.bars import parse_specs

__all__ = ["MarketDataSettings"]


class MarketDataSettings(ServiceSettings):
    """What to replay and how fast.

    ``FOXTROT_REPLAY_SOURCE`` is a path to a bar or trade file, ``synthetic`` for a seeded
    random walk, or empty for no replay (ingest only).
    """

    http_port: int = 8084
    replay_source: str = ""
    replay_format: Literal["auto", "bars_csv", "tardis_trades"] = "auto"
    replay_instrument_id: str = "BTC-PERP.FTX"
    replay_bar_spec: str = "1m"
    replay_speed: float = Field(
        default=0.0, ge=0, description="1 = real time, 60 = 60x, 0 = as fast as possible"
    )
    replay_limit: int | None = Field(default=None, ge=1, description="stop after N records")
    bar_specs: str = Field(
        default="1m",
        description="bars to build from trades and quotes, e.g. 1m,5m,100t,10v (empty: none)",
    )
    empty_bars: Literal["carry_forward", "skip"] = Field(
        default="carry_forward", description="what a time bar without trades emits"
    )
    synthetic_seed: int = 42

    @field_validator("bar_specs")
    @classmethod
    def _specs_parse(cls, value: str) -> str:
        parse_specs(value)  # fail at start-up, saying which spec is wrong
        return value

    def empty_bar_policy(self) -> EmptyBarPolicy:
        """The aggregators' policy for intervals without trades."""
        return EmptyBarPolicy(self.empty_bars.upper())

    synthetic_count: int = 10_000
    synthetic_start_price: Decimal = Decimal("30000")
