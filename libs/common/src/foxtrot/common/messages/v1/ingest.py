"""v1 ingest input: plain JSON that external tools publish on md.v1.ingest.{kind}.{venue}.{symbol}.

The instrument comes from the subject, so the payload carries only the data. No envelope is
needed: market_data adds one when it republishes the normalised message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Final, NotRequired, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from typing_extensions import TypedDict

from foxtrot.common.messages.v1.instruments import max_quantity_at_least_min
from foxtrot.common.messages.v1.types import (
    DECIMAL_PATTERN,
    NonNegativeDecimalStr,
    PositiveDecimalStr,
    Token,
    UnixNanos,
)
from foxtrot.core.data import ohlc_inconsistency
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.instruments import Instrument

__all__ = [
    "MAX_INGEST_TRADES",
    "IngestBar",
    "IngestInstrument",
    "IngestQuote",
    "IngestTrade",
    "IngestTrades",
    "RefusedRow",
    "ingest_trade",
    "ingest_trades",
]


class _Ingest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IngestTrade(_Ingest):
    """A trade from an external publisher; subject md.v1.ingest.trade.{venue}.{symbol}."""

    price: PositiveDecimalStr
    size: PositiveDecimalStr
    ts_event: UnixNanos
    trade_id: str = Field(min_length=1, max_length=64)
    aggressor_side: AggressorSide = AggressorSide.NO_AGGRESSOR


_PlainDecimal = Annotated[str, Field(pattern=DECIMAL_PATTERN)]
MAX_INGEST_TRADES: Final = 5_000  # a full batch is about 600 KB, under NATS's 1 MB default


class _PlainTrade(TypedDict):
    """IngestTrade's JSON in the form publishers send (decimals as strings), checked in
    pydantic's core without a Python call per field, and read into a dict rather than a
    model (half the time again)."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    price: _PlainDecimal
    size: _PlainDecimal
    ts_event: UnixNanos
    trade_id: Annotated[str, Field(min_length=1, max_length=64)]
    aggressor_side: NotRequired[AggressorSide]


class _PlainTrades(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    trades: Annotated[list[_PlainTrade], Field(min_length=1, max_length=MAX_INGEST_TRADES)]


_PLAIN_TRADE: Final = TypeAdapter(_PlainTrade)
_PLAIN_TRADES: Final = TypeAdapter(_PlainTrades)
_NO_AGGRESSOR: Final = AggressorSide.NO_AGGRESSOR


IngestTradeFields = tuple[Decimal, Decimal, AggressorSide, str, int]
_ZERO: Final = Decimal(0)


def ingest_trade(data: bytes) -> IngestTradeFields:
    """Price, size, side, trade id and event time of ``IngestTrade.model_validate_json
    (data)``, raising its ValidationError, in about half the time for the plain form every
    publisher sends. What the plain form refuses (a JSON number for a price, say, or a bad
    input) goes to the model, which accepts it or says why not; a property test holds the
    two to the same answers."""
    try:
        fields = _plain_fields(_PLAIN_TRADE.validate_json(data))
    except ValidationError:
        fields = None
    return fields if fields is not None else _model_fields(IngestTrade.model_validate_json(data))


def _plain_fields(trade: _PlainTrade) -> IngestTradeFields | None:
    """A plain trade's fields, or None when its price or size is not positive (the model
    then says so)."""
    price, size = Decimal(trade["price"]), Decimal(trade["size"])
    if price > _ZERO and size > _ZERO:
        side = trade.get("aggressor_side", _NO_AGGRESSOR)
        return price, size, side, trade["trade_id"], trade["ts_event"]
    return None


def _model_fields(trade: IngestTrade) -> IngestTradeFields:
    return trade.price, trade.size, trade.aggressor_side, trade.trade_id, trade.ts_event


class IngestTrades(_Ingest):
    """Many trades of one instrument in one message, oldest first; subject
    md.v1.ingest.trades.{venue}.{symbol}.

    For publishers with many trades a second: the ingest stream and a replica spend about
    as much on one message as on the trade in it, so a batch of 100 costs much less than
    100 messages. Each row is an ``IngestTrade``. A row that is invalid is refused on its
    own (dead-lettered with its index and reason); the others go on.
    """

    trades: list[IngestTrade] = Field(min_length=1, max_length=MAX_INGEST_TRADES)


@dataclass(frozen=True, slots=True)
class RefusedRow:
    """A row of an ``IngestTrades`` that was refused: where it was, its JSON, and why."""

    index: int
    row: bytes
    reason: str


class _LenientTrades(_Ingest):
    model_config = ConfigDict(title="IngestTrades")
    # Valid rows as IngestTrade, read from the JSON itself; any other row as it is.
    trades: list[Annotated[IngestTrade | JsonValue, Field(union_mode="left_to_right")]] = Field(
        min_length=1, max_length=MAX_INGEST_TRADES
    )


def ingest_trades(data: bytes) -> list[IngestTradeFields | RefusedRow]:
    """Each row of ``IngestTrades`` JSON, in order: what :func:`ingest_trade` reads from it,
    or why it is refused. Raises ValidationError when ``data`` is not a batch of trades at
    all (not JSON, no ``trades`` list, an empty or too long one)."""
    try:
        plain = _PLAIN_TRADES.validate_json(data)
    except ValidationError:
        return _rows_one_by_one(data)
    out: list[IngestTradeFields | RefusedRow] = []
    for trade in plain["trades"]:
        fields = _plain_fields(trade)
        if fields is None:
            return _rows_one_by_one(data)
        out.append(fields)
    return out


def _rows_one_by_one(data: bytes) -> list[IngestTradeFields | RefusedRow]:
    lenient = _LenientTrades.model_validate_json(data)  # the message as a whole is wrong
    reasons: dict[int, list[str]] = {}
    try:
        IngestTrades.model_validate_json(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            index, *where = error["loc"][1:]
            field = ".".join(str(part) for part in where) or "row"
            reasons.setdefault(int(index), []).append(f"{field}: {error['msg']}")
    out: list[IngestTradeFields | RefusedRow] = []
    for index, row in enumerate(lenient.trades):
        if isinstance(row, IngestTrade):
            out.append(_model_fields(row))
        else:
            why = "; ".join(reasons.get(index, ["not an IngestTrade"]))
            out.append(RefusedRow(index, json.dumps(row).encode(), f"trades[{index}]: {why}"))
    return out


class IngestQuote(_Ingest):
    """Best bid and ask from an external publisher; subject md.v1.ingest.quote.{venue}.{symbol}."""

    bid_price: PositiveDecimalStr
    ask_price: PositiveDecimalStr
    bid_size: NonNegativeDecimalStr
    ask_size: NonNegativeDecimalStr
    ts_event: UnixNanos


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


class IngestInstrument(_Ingest):
    """An instrument's trading rules from an external publisher; subject
    md.v1.ingest.instrument.{venue}.{symbol}.

    Price and size precision are not sent: they are the decimal places of the tick and lot
    size. market_data republishes the definition as ``Instrument`` when it is new or changed.
    """

    base_currency: Token = Field(examples=["BTC"])
    quote_currency: Token = Field(examples=["USDT"])
    tick_size: PositiveDecimalStr = Field(examples=["0.01"])
    lot_size: PositiveDecimalStr = Field(examples=["0.00001"])
    min_quantity: NonNegativeDecimalStr = Field(
        default=Decimal(0), description="smallest order quantity"
    )
    max_quantity: PositiveDecimalStr | None = Field(default=None, description="null: no limit")
    min_notional: PositiveDecimalStr | None = Field(default=None, description="null: no limit")
    tradable: bool = True
    ts_event: UnixNanos | None = Field(
        default=None, description="when the rules took effect; null: when market_data reads them"
    )

    _max_at_least_min = field_validator("max_quantity")(max_quantity_at_least_min)

    def to_core(self, instrument_id: InstrumentId) -> Instrument:
        """The domain instrument these rules define for ``instrument_id`` (from the subject)."""
        return Instrument(
            instrument_id,
            self.base_currency,
            self.quote_currency,
            self.tick_size,
            self.lot_size,
            self.min_quantity,
            self.max_quantity,
            self.min_notional,
            self.tradable,
        )
