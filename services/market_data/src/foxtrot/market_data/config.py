"""Market data's settings, read from the environment."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from foxtrot.common.settings import ServiceSettings

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
    synthetic_seed: int = 42
    synthetic_count: int = 10_000
    synthetic_start_price: Decimal = Decimal("30000")
