"""v1 instruments: a venue's trading rules for one instrument, and the query that lists them.

``Instrument`` is published on ``md.v1.instrument.{venue}.{symbol}`` whenever market data
learns a definition or a change to one; ``qry.v1.md.instruments`` lists what it knows now.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from foxtrot.common.messages.v1.envelope import Message
from foxtrot.common.messages.v1.types import (
    InstrumentIdStr,
    NonNegativeDecimalStr,
    PositiveDecimalStr,
    Token,
)
from foxtrot.core import instruments as core
from foxtrot.core.identifiers import InstrumentId

__all__ = [
    "Instrument",
    "InstrumentView",
    "InstrumentsQuery",
    "InstrumentsReply",
    "decimals_of",
    "max_quantity_at_least_min",
]


def decimals_of(step: Decimal) -> int:
    """Decimal places of a tick or lot size: 2 for 0.01 and for 0.010, 0 for 1 and for 10."""
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite: DecimalStr refuses NaN and infinities
    return max(0, -exponent)


def max_quantity_at_least_min(value: Decimal | None, info: ValidationInfo) -> Decimal | None:
    """Field validator for ``max_quantity``: not below ``min_quantity`` (validated before it)."""
    minimum = info.data.get("min_quantity")
    if value is not None and minimum is not None and value < minimum:
        raise ValueError(f"must be at least min_quantity {minimum}, was {value}")
    return value


class _InstrumentRules(BaseModel):
    """The fields of an instrument definition, shared by the message and the query reply."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instrument_id: InstrumentIdStr
    base_currency: Token = Field(description="what a quantity counts, e.g. BTC")
    quote_currency: Token = Field(description="what a price is in, e.g. USDT")
    tick_size: PositiveDecimalStr = Field(description="prices are multiples of this")
    lot_size: PositiveDecimalStr = Field(description="quantities are multiples of this")
    min_quantity: NonNegativeDecimalStr = Field(description="smallest order quantity")
    max_quantity: PositiveDecimalStr | None = Field(
        default=None, description="largest order quantity; null: no limit"
    )
    min_notional: PositiveDecimalStr | None = Field(
        default=None, description="smallest order value (price x quantity); null: no limit"
    )
    price_precision: int = Field(ge=0, description="decimal places of tick_size")
    size_precision: int = Field(ge=0, description="decimal places of lot_size")
    tradable: bool = Field(default=True, description="false: the venue accepts no orders now")

    _max_at_least_min = field_validator("max_quantity")(max_quantity_at_least_min)

    @field_validator("price_precision")
    @classmethod
    def _price_precision_of_tick(cls, value: int, info: ValidationInfo) -> int:
        return _precision_of(value, info, "tick_size")

    @field_validator("size_precision")
    @classmethod
    def _size_precision_of_lot(cls, value: int, info: ValidationInfo) -> int:
        return _precision_of(value, info, "lot_size")

    def to_core(self) -> core.Instrument:
        """The domain's view of this instrument."""
        return core.Instrument(
            InstrumentId.parse(self.instrument_id),
            self.base_currency,
            self.quote_currency,
            self.tick_size,
            self.lot_size,
            self.min_quantity,
            self.max_quantity,
            self.min_notional,
            self.tradable,
        )


def _precision_of(value: int, info: ValidationInfo, step_field: str) -> int:
    step = info.data.get(step_field)
    if step is not None and value != decimals_of(step):
        raise ValueError(
            f"must be {decimals_of(step)}, the decimal places of {step_field} "
            f"{format(step, 'f')}, was {value}"
        )
    return value


def _fields_of(instrument: core.Instrument) -> dict[str, Any]:
    return {
        "instrument_id": str(instrument.instrument_id),
        "base_currency": instrument.base_currency,
        "quote_currency": instrument.quote_currency,
        "tick_size": instrument.tick_size,
        "lot_size": instrument.lot_size,
        "min_quantity": instrument.min_quantity,
        "max_quantity": instrument.max_quantity,
        "min_notional": instrument.min_notional,
        "price_precision": instrument.price_precision,
        "size_precision": instrument.size_precision,
        "tradable": instrument.tradable,
    }


class Instrument(Message, _InstrumentRules):
    """An instrument's trading rules as market data knows them.

    Subject: md.v1.instrument.{venue}.{symbol}. Published when a definition is new or
    changes; ``ts_event`` is when market data learned it. Every price and size market data
    publishes for the instrument is a multiple of its tick and lot size.
    """

    type: Literal["Instrument"] = "Instrument"

    @classmethod
    def from_core(cls, instrument: core.Instrument, **envelope: Any) -> Self:
        """Wrap a domain instrument for the wire; ``envelope`` needs ts_event and ts_init."""
        return cls(**_fields_of(instrument), **envelope)


class InstrumentView(_InstrumentRules):
    """One instrument's trading rules, as a query reply lists them."""

    @classmethod
    def from_core(cls, instrument: core.Instrument) -> Self:
        """Describe a domain instrument."""
        return cls(**_fields_of(instrument))


class InstrumentsQuery(BaseModel):
    """Ask market data for the instruments it knows, by instrument id.

    Subject: ``qry.v1.md.instruments``. Page with ``after``: pass the previous reply's
    ``next_after`` until it is null.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    venue: Token | None = Field(default=None, description="only this venue; null: all")
    instrument_id: InstrumentIdStr | None = Field(default=None, description="only this one")
    after: InstrumentIdStr | None = Field(
        default=None, description="page: only instrument ids sorting after this one"
    )
    limit: int = Field(default=1000, ge=1, le=2000)


class InstrumentsReply(BaseModel):
    """Instruments matching a query, sorted by instrument id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["InstrumentsReply"] = "InstrumentsReply"
    instruments: tuple[InstrumentView, ...]
    next_after: str | None = Field(
        default=None, description="pass as after for the next page; null on the last page"
    )
