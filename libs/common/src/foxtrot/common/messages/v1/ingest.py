"""v1 ingest input: plain JSON that external tools publish on md.v1.ingest.{kind}.{venue}.{symbol}.

The instrument comes from the subject, so the payload carries only the data. No envelope is
needed: market_data adds one when it republishes the normalised message.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from foxtrot.common.messages.v1.types import (
    NonNegativeDecimalStr,
    PositiveDecimalStr,
    UnixNanos,
)
from foxtrot.core.data import ohlc_inconsistency
from foxtrot.core.enums import AggressorSide

__all__ = ["IngestBar", "IngestTrade"]


class _Ingest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IngestTrade(_Ingest):
    """A trade from an external publisher; subject md.v1.ingest.trade.{venue}.{symbol}."""

    price: PositiveDecimalStr
    size: PositiveDecimalStr
    ts_event: UnixNanos
    trade_id: str = Field(min_length=1, max_length=64)
    aggressor_side: AggressorSide = AggressorSide.NO_AGGRESSOR


class IngestBar(_Ingest):
    """A bar from an external publisher; subject md.v1.ingest.bar.{venue}.{symbol}.{spec}."""

    open: PositiveDecimalStr
    high: PositiveDecimalStr
    low: PositiveDecimalStr
    close: PositiveDecimalStr
    volume: NonNegativeDecimalStr
    ts_event: UnixNanos = Field(description="bar close time")

    @model_validator(mode="after")
    def _ohlc_consistent(self) -> Self:
        problem = ohlc_inconsistency(self.open, self.high, self.low, self.close)
        if problem:
            raise ValueError(problem)
        return self
