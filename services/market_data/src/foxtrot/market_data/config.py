"""Market data's settings, read from the environment."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from foxtrot.common.market_files.formats import FileFormat
from foxtrot.common.market_files.parsing import parse_time_ns
from foxtrot.common.settings import ServiceSettings
from foxtrot.core.aggregation import EmptyBarPolicy
from foxtrot.market_data.bars import BarClock, parse_specs

__all__ = ["MarketDataSettings"]


class MarketDataSettings(ServiceSettings):
    """What to replay and how fast.

    ``FOXTROT_REPLAY_SOURCE`` is a path to a trade, quote, bar or order book file (see
    docs/market-data-files.md), ``synthetic`` for a seeded random walk, or empty for no
    replay (ingest only). ``FOXTROT_REPLAY_START`` / ``FOXTROT_REPLAY_END`` (ISO-8601, naive
    meaning UTC, or integer nanoseconds) keep the records with start <= ts_event < end.
    """

    http_port: int = 8084
    replay_source: str = ""
    replay_format: Literal["auto"] | FileFormat = Field(
        default="auto", description="the file's format; auto: judged from the file"
    )
    replay_instrument_id: str = Field(
        default="BTC-PERP.FTX",
        description="instrument of the records of a file that names none (all but Tardis, generic)",
    )
    replay_bar_spec: str = "1m"
    replay_speed: float = Field(
        default=0.0, ge=0, description="1 = real time, 60 = 60x, 0 = as fast as possible"
    )
    replay_limit: int | None = Field(default=None, ge=1, description="stop after N records")
    replay_start: int | None = Field(
        default=None, description="replay records from this time on (UTC ns; ISO-8601 accepted)"
    )
    replay_end: int | None = Field(
        default=None, description="replay records before this time (UTC ns; ISO-8601 accepted)"
    )
    bar_specs: str = Field(
        default="1m",
        description="bars to build from trades and quotes, e.g. 1m,5m,100t,10v (empty: none)",
    )
    empty_bars: Literal["carry_forward", "skip"] = Field(
        default="carry_forward", description="what a time bar without trades emits"
    )
    synthetic_seed: int = 42
    bar_close_delay: float = Field(
        default=0.5, ge=0, description="a live feed's time bar closes this long after its end (s)"
    )
    bar_idle_close: float = Field(
        default=10.0,
        gt=0,
        description="a replayed feed silent this long has its open bars closed (s)",
    )
    bar_live_lag: float = Field(
        default=60.0,
        gt=0,
        description="a feed whose events arrive at most this late is live, else replayed (s)",
    )
    lease_ttl: float = Field(
        default=3.0,
        ge=1,
        description="an ingest partition's lease expires this long after its owner died (s)",
    )
    ingest_batch: int = Field(
        default=1_000, ge=1, le=10_000, description="ingest messages per fetch"
    )
    tick_subjects: str = Field(
        default="",
        description="instruments whose trades also go out one by one on md.v1.trade.{venue}."
        "{symbol} (comma-separated patterns over instrument ids: '*', '*.BINANCE', "
        "'BTCUSDT.BINANCE'); every trade goes out in batches on md.v1.trades.* regardless",
    )
    replica_name: str = Field(
        default="", description="this replica's name in the leases; empty: host-pid"
    )
    instruments_file: str = Field(
        default="",
        description="instrument definitions (JSON list, or a saved Binance exchangeInfo)",
    )
    binance_symbols: str = Field(
        default="",
        description="Binance spot symbols to stream live, e.g. BTCUSDT,ETHUSDT (empty: none)",
    )
    binance_venue: str = Field(default="BINANCE", description="venue of the Binance symbols")
    binance_ws_url: str = "wss://stream.binance.com:9443"
    binance_rest_url: str = "https://api.binance.com"

    def binance_symbol_list(self) -> list[str]:
        """The configured Binance symbols, upper case."""
        return [s.strip().upper() for s in self.binance_symbols.split(",") if s.strip()]

    @field_validator("bar_specs")
    @classmethod
    def _specs_parse(cls, value: str) -> str:
        parse_specs(value)  # fail at start-up, saying which spec is wrong
        return value

    @field_validator("replay_start", "replay_end", mode="before")
    @classmethod
    def _time_parses(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_time_ns(value) if value.strip() else None
        return value

    @model_validator(mode="after")
    def _window_is_ordered(self) -> MarketDataSettings:
        start, end = self.replay_start, self.replay_end
        if start is not None and end is not None and end <= start:
            raise ValueError(f"replay_end must be after replay_start {start}, was {end}")
        return self

    def bar_clock(self) -> BarClock:
        """When time bars of ingested input close."""
        return BarClock(self.bar_close_delay, self.bar_idle_close, self.bar_live_lag)

    def empty_bar_policy(self) -> EmptyBarPolicy:
        """The aggregators' policy for intervals without trades."""
        return EmptyBarPolicy(self.empty_bars.upper())

    synthetic_count: int = 10_000
    synthetic_start_price: Decimal = Decimal("30000")
