"""What a backtest is asked to do, as plain data: the CLI, a sweep and the gateway build one.

A :class:`BacktestSpec` names the strategy and its config, the data to replay (files, or
bars from market_data's history), the instruments, the simulated venue's fees, slippage
and latency, the starting balances and the risk limits. It is JSON, so a run can be
repeated from its result file and sent over NATS as it is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from foxtrot.common.errors import ConfigurationError
from foxtrot.core.fill_model import FillModel
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.instruments import Instrument

__all__ = [
    "BacktestSpec",
    "DataSource",
    "FileSource",
    "HistorySource",
    "InstrumentSpec",
    "InvalidBacktest",
    "VenueSpec",
    "one_line",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class InvalidBacktest(ConfigurationError):
    """A backtest that cannot run as asked: an unknown strategy, a config or limit it gets
    wrong, data that cannot be read, an instrument whose rules cannot be told."""


def one_line(exc: Exception) -> str:
    """An error as one line: a ValidationError as ``field: message; ...``."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
        )
    return str(exc)


class InstrumentSpec(BaseModel):
    """An instrument's trading rules (as market_data's instrument messages carry them)."""

    model_config = _FROZEN

    instrument_id: str = Field(description="SYMBOL.VENUE")
    base_currency: str
    quote_currency: str
    tick_size: Decimal = Field(gt=0)
    lot_size: Decimal = Field(gt=0)
    min_quantity: Decimal = Field(default=Decimal(0), ge=0)
    max_quantity: Decimal | None = None
    min_notional: Decimal | None = None

    def to_core(self) -> Instrument:
        """The domain's instrument."""
        return Instrument(
            InstrumentId.parse(self.instrument_id),
            self.base_currency,
            self.quote_currency,
            self.tick_size,
            self.lot_size,
            self.min_quantity,
            self.max_quantity,
            self.min_notional,
        )


class FileSource(BaseModel):
    """A market data file (any format ``docs/market-data-files.md`` lists)."""

    model_config = _FROZEN

    kind: Literal["file"] = "file"
    path: str = Field(description="the file; .gz is read transparently for text formats")
    format: str = Field(default="auto", description="a format name, or auto to detect it")
    instrument_id: str | None = Field(
        default=None, description="SYMBOL.VENUE of a file that names no instrument"
    )
    bar_spec: str = Field(default="1m", description="interval of a bars_csv file's bars")


class HistorySource(BaseModel):
    """Bars kept by market_data, fetched over NATS (``qry.v1.md.bars``)."""

    model_config = _FROZEN

    kind: Literal["history"] = "history"
    instrument_id: str
    bar_spec: str = "1m"


def _source_kind(value: Any) -> str:
    # A source without "kind" is a file: {"path": ...} is the common case written by hand.
    if isinstance(value, dict):
        return str(value.get("kind", "file"))
    return str(getattr(value, "kind", "file"))


DataSource = Annotated[
    Annotated[FileSource, Tag("file")] | Annotated[HistorySource, Tag("history")],
    Discriminator(_source_kind),
]
"""One source of records: a file (``kind`` may be left out), or market_data's bar history."""


class VenueSpec(BaseModel):
    """The simulated venue: fees, slippage, queue position and latency."""

    model_config = _FROZEN

    name: str = "SIM"
    settlement_currency: str = "USD"
    taker_fee: Decimal = Field(default=Decimal("0.0004"), ge=0)
    maker_fee: Decimal = Field(default=Decimal("0.0002"))
    latency_ms: Decimal = Field(default=Decimal(0), ge=0)
    slippage_bps: Decimal = Field(default=Decimal(0), ge=0)
    prob_slippage: float = Field(default=0.0, ge=0, le=1)
    prob_fill_at_limit: float = Field(default=1.0, ge=0, le=1)
    bar_volume_share: Decimal = Field(default=Decimal(1), gt=0, le=1)
    seed: int = 0

    def fill_model(self) -> FillModel:
        """The fill model these settings describe."""
        return FillModel(
            slippage_bps=self.slippage_bps,
            prob_slippage=self.prob_slippage,
            prob_fill_at_limit=self.prob_fill_at_limit,
            bar_volume_share=self.bar_volume_share,
        )


class BacktestSpec(BaseModel):
    """One backtest: strategy, data, instruments, venue, balances and risk limits."""

    model_config = _FROZEN

    strategy: str = Field(description="an entry point name (sma_cross) or module:Class path")
    config: dict[str, Any] = Field(description="the strategy's config, strategy_id included")
    data: list[DataSource] = Field(min_length=1)
    instruments: list[InstrumentSpec] = Field(
        default_factory=list,
        description="trading rules; an instrument not listed gets rules read off its data",
    )
    venue: VenueSpec = Field(default_factory=VenueSpec)
    starting_balances: dict[str, Decimal] = Field(default_factory=lambda: {"USD": Decimal(100_000)})
    risk_limits: dict[str, str] = Field(
        default_factory=dict, description="risk limits by name (as risk's set_limits takes them)"
    )
    start: str | int | None = Field(
        default=None, description="ISO-8601 or ns; records before are skipped"
    )
    end: str | int | None = Field(
        default=None, description="ISO-8601 or ns; records from here on are skipped"
    )
    periods_per_year: int = Field(
        default=365, gt=0, description="days per year for annualising (365 crypto, 252 stocks)"
    )

    @model_validator(mode="after")
    def _strategy_id_given(self) -> Self:
        if "strategy_id" not in self.config:
            raise ValueError("config must include strategy_id")
        return self
